/**
 * What each GitHub action input means, as its action.yml says it: the wording follows
 * docker/build-push-action and aquasecurity/trivy-action where the inputs overlap. Only `npm run docs`
 * (scripts/gen-inputs.mjs) reads this table: it writes the `inputs:` block of every action.yml from the
 * action tables (./actions.ts) and these texts, so the actions never load it.
 */
import type { ACTIONS } from './actions.js';

export interface InputDoc {
  description: string;
  /** A default GitHub fills in itself (an expression); Gantry's own defaults are in the description. */
  default?: string;
}

/** By input name; an input means the same in every action that has it, unless {@link ACTION_INPUT_DOCS} says. */
export const INPUT_DOCS: Record<string, InputDoc> = {
  image: {
    description:
      'Image repository to build, without tag (e.g. ghcr.io/acme/shop). May be left out when `tags` are full references.',
  },
  context: {
    description: 'Build context directory. Default: `.`',
  },
  file: {
    description: 'Path to the Dockerfile / Containerfile. Default: `<context>/Dockerfile`',
  },
  builder: {
    description:
      'Builder: `auto` (buildx when a Docker daemon answers, else buildah), `buildah` or `buildx`. Default: `auto`',
  },
  tags: {
    description:
      'List of tags, added to the tags computed from the git context: full references (`ghcr.io/acme/shop:1.2.3`, as docker/metadata-action outputs them; all in one repository) or bare tags (`1.2.3`)',
  },
  'tag-rules': {
    description:
      "List of tag rules in docker/metadata-action syntax (`type=semver,pattern={{version}}`). Default: Gantry's rules (branch, PR, semver, sha)",
  },
  latest: {
    description:
      'Whether to add the `latest` tag: `auto` (on a stable semver tag), `true` or `false`. Default: `auto`',
  },
  'build-args': {
    description: 'List of build-time variables (`KEY=value`); not for secrets, use `secrets`',
  },
  labels: {
    description: 'List of image labels (`key=value`), added to the OCI labels Gantry computes',
  },
  target: {
    description: 'Sets the target stage to build',
  },
  network: {
    description: 'Set the networking mode for the RUN instructions during build (`host`, `none`)',
  },
  platforms: {
    description: 'List of target platforms (`linux/amd64,linux/arm64`), comma or newline separated',
  },
  secrets: {
    description:
      'List of secrets to expose to the build (`id=value`); masked, handed over in the environment, never on argv',
  },
  'secret-envs': {
    description: 'List of secret environment variables to expose to the build (`id=ENV_VAR`)',
  },
  'secret-files': {
    description: 'List of secret files to expose to the build (`id=path`)',
  },
  'cache-ref': {
    description: 'Registry repository used as layer cache, read and written',
  },
  'cache-from': {
    description: 'List of registry repositories to read layer cache from',
  },
  'cache-to': {
    description: 'List of registry repositories to write layer cache to',
  },
  push: {
    description: 'Push the image once the scan passed. Must be `true` to deploy. Default: `true`',
  },
  'insecure-registry': {
    description: 'List of registries (`host:port`) reached over plain HTTP / without TLS verification',
  },
  retries: {
    description: 'Retries for a push that fails with a 5xx, a 429 or a dropped connection. Default: `3`',
  },
  scanner: {
    description: 'Scanner: `trivy` or `grype`. Default: `trivy`',
  },
  severity: {
    description:
      'The gate: fail on a finding at or above this severity (`critical`, `high`, `medium`, `low`, `unknown`, or `none` to never fail); a trivy-action list such as `CRITICAL,HIGH` fails on the mildest listed. Default: `high`',
  },
  'ignore-unfixed': {
    description: 'Ignore vulnerabilities that have no fixed version yet. Default: `false`',
  },
  'ignore-file': {
    description:
      'YAML list of `{id, reason, expires?, package?}` entries that silence findings; expired entries stop applying',
  },
  scanners: {
    description: 'What to look for: `vuln`, `secret`, `misconfig`, comma separated. Default: `vuln,secret`',
  },
  format: {
    description:
      'Write one report in this format to `output`, as in trivy-action: `sarif`, `gitlab`, `junit` or `markdown`',
  },
  output: {
    description: 'File the `format` report is written to',
  },
  sarif: {
    description:
      'Write a SARIF 2.1.0 report there (GitHub code scanning). Default: a file under `RUNNER_TEMP`, see the `sarif` output',
  },
  'gitlab-report': {
    description: 'Write a GitLab container scanning report (schema 15.0.7) there',
  },
  junit: {
    description: 'Write a JUnit XML report there',
  },
  markdown: {
    description: 'Write the Markdown summary there (it is in the job summary either way)',
  },
  manifests: {
    description:
      'List of manifest files, directories or kustomization directories. The image is rolled out when there are manifests or a chart, here or in gantry.yml (`deploy.manifests`, `deploy.chart`)',
  },
  chart: {
    description:
      'Helm chart to deploy instead of `manifests`: a chart directory, a packaged `.tgz`, `repo/name` or an `oci://` reference, rendered with `helm template` (Helm on the runner, or `GANTRY_HELM`); Gantry applies the result itself, nothing is installed with Helm',
  },
  values: {
    description:
      'List of values files for `chart`, later files win. Secret values belong here (a file the job writes), never in `set`',
  },
  set: {
    description:
      "List of `key=value` values for `chart` in Helm's `--set` syntax, one per line; they win over `values`. Not for secrets",
  },
  release: {
    description: 'Helm release name the chart is rendered with. Default: `name`, else the chart name',
  },
  images: {
    description:
      'List of images by digest, `name=ref@sha256:…`, `name` being a container name or an image repository',
  },
  name: {
    description: 'Deployment to roll out. Default: the only Deployment in the manifests',
  },
  namespace: {
    description: 'Namespace of the rollout. Default: `default`',
  },
  kubeconfig: {
    description: 'Kubeconfig file. Default: `$KUBECONFIG`, then `~/.kube/config`',
  },
  strategy: {
    description: 'Rollout strategy: `rolling`, `canary` or `blue-green`. Default: `canary`',
  },
  router: {
    description:
      'How traffic is split: `replicas` (replica ratio, no mesh), `gateway-api`, `istio` or `nginx`. Default: `replicas`',
  },
  steps: {
    description:
      'Canary steps, comma separated, strictly increasing weights in percent, 1–99, each `weight` or `weight:pause`: `5:2m,25:10m,50`; `50:until-promoted` waits at 50% for the promote action (or abort). A match step routes only requests with a header or cookie to the canary: `header=x-canary:always:5m,25,50` or `cookie=canary:5m` (the cookie `canary=always`); `gateway-api`, `istio` and `nginx` routers only. Default: `10,25,50`',
  },
  pause: {
    description:
      'Length of each step that sets no pause of its own, analysis running during it (`30s`, `2m`); for `rolling` with an `analysis`, the verification window after the update. Default: `30s`',
  },
  'gate-timeout': {
    description:
      'How long a step with `until-promoted` waits for the promote or abort action before `on-gate-timeout` decides (at most `168h`). Default: `30m`',
  },
  'on-gate-timeout': {
    description:
      'What a gate does when nobody decided within `gate-timeout`: `rollback`, or `promote` (continue as if promoted). Default: `rollback`',
  },
  analysis: {
    description: 'Analysis file: metrics (PromQL) with min/max, interval, failureLimit, inconclusiveLimit',
  },
  hooks: {
    description:
      'Hooks file: HTTP or command hooks at `confirm-rollout`, `pre-rollout`, `rollout`, `confirm-promotion`, `post-rollout` and `rollback` (docs/hooks.md)',
  },
  'prometheus-url': {
    description: 'Prometheus for the analysis. Default: `$PROMETHEUS_URL`',
  },
  timeout: {
    description: 'Bound for every wait on the cluster. Default: `10m`',
  },
  'ready-timeout': {
    description: 'Pods of the new version not ready after this long fail the rollout. Default: `2m`',
  },
  'blue-green-delay': {
    description:
      'Blue-green: how long the old version is kept after the switch, with analysis. Default: `30s`',
  },
  'lock-timeout': {
    description: 'How long to wait for another rollout of the same service. Default: `5m`',
  },
  'lease-duration': {
    description:
      'Seconds without renewal after which a run counts as dead and its rollout as orphaned. Default: `15`',
  },
  resume: {
    description:
      'On a stale lease, continue the orphaned rollout instead of rolling it back. Default: `false`',
  },
  report: {
    description:
      'Directory for the run report: rollout.json, rollout.md, rollout.svg. Default: a directory under `RUNNER_TEMP`',
  },
  'notify-slack-url-env': {
    description:
      "Notify a Slack incoming webhook: the name of the environment variable holding its URL (set it from a secret in the step's `env`; never the URL itself)",
  },
  'notify-slack-url-file': {
    description: 'Notify a Slack incoming webhook: a file holding its URL',
  },
  'notify-teams-url-env': {
    description:
      "Notify a Microsoft Teams (Workflows) webhook: the name of the environment variable holding its URL (set it from a secret in the step's `env`; never the URL itself)",
  },
  'notify-teams-url-file': {
    description: 'Notify a Microsoft Teams (Workflows) webhook: a file holding its URL',
  },
  'notify-webhook-url-env': {
    description:
      "Notify a generic JSON webhook: the name of the environment variable holding its URL (set it from a secret in the step's `env`; never the URL itself)",
  },
  'notify-webhook-url-file': {
    description: 'Notify a generic JSON webhook: a file holding its URL',
  },
  'notify-steps': {
    description:
      'Notify at every canary step too, not only when the rollout starts and ends. Default: `false`',
  },
  'notify-timeout': {
    description:
      'Bound for each notification request (one retry after a 5xx or a transport error). Default: `5s`',
  },
  environment: {
    description:
      "GitHub environment of the GitHub Deployment the rollout creates (`github-deployment`). Default: the rollout's `namespace`",
  },
  'environment-url': {
    description:
      'URL of the deployed service, shown on the GitHub Deployment (e.g. `https://shop.example.com`)',
  },
  'github-deployment': {
    description:
      'Create a GitHub Deployment of the commit for `environment` when the rollout starts, `in_progress` while it rolls out, then `success`, `failure` (rolled back) or `error` (infrastructure), linking to the run. Needs `github-token` with `deployments: write`; an API failure is only a warning. Default: `true`',
  },
  'pr-comment': {
    description:
      'On a pull request, comment the rollout summary, updated in place by later runs of the same rollout. Needs `github-token` with `pull-requests: write`; an API failure is only a warning. Default: `true`',
  },
  container: {
    description:
      'Container name that receives the built image. Default: the containers whose image repository is `image`',
  },
  registry: {
    description:
      'Registry host that `registry-username` / `registry-password` log in to (e.g. `registry.example.com`)',
  },
  'registry-username': {
    description: 'Username for `registry`',
  },
  'registry-password': {
    description: 'Password or token for `registry`; masked and handed over in the environment, never on argv',
  },
  'github-token': {
    description: "Token used for ghcr.io as `github.actor`; masked. Default: the job's `github.token`",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub expression, written as it is into action.yml
    default: '${{ github.token }}',
  },
  config: {
    description:
      'gantry.yml giving defaults for every input. Default: `./gantry.yml` when present; inputs win',
  },
  provenance: {
    description:
      "Write Gantry's SLSA v1 provenance statement of the build (output `provenance`, the file). Default: `true`",
  },
  'provenance-output': {
    description:
      "Where the provenance statement is written. Default: in Gantry's image store, next to the built images",
  },
  'buildx-provenance': {
    description:
      "buildx builders other than the docker driver: also attach BuildKit's own provenance (`--provenance=mode=max`). Default: `false`",
  },
  trivyignore: {
    description:
      'Honour a `.trivyignore` / `.trivyignore.yaml` in the build context, the repository root and the working directory, as trivy-action does. Default: `true`',
  },
  'public-key-file': {
    description:
      'Public key (PEM, as `cosign.pub`) every image must verify with before anything is rolled out: its signature, the `require-attestations`, and the policy below. Default: no verification',
  },
  'public-key-env': {
    description: 'Environment variable holding the public key PEM (instead of `public-key-file`)',
  },
  'require-attestations': {
    description:
      'List of attestation types that must verify besides the signature (`slsaprovenance1`, `cyclonedx`, `spdxjson`, `vuln` or a predicate type URI), comma or newline separated',
  },
  'max-critical': {
    description:
      'The most critical findings the newest verified vuln attestation (the scan `gantry sign` attached) may report',
  },
  'max-high': {
    description: 'The most high findings the newest verified vuln attestation may report',
  },
  'source-repository': {
    description:
      'The source repository a verified SLSA provenance must name (`https://github.com/acme/shop`; `git+` and `.git` ignored)',
  },
  'builder-id': {
    description:
      "What a verified SLSA provenance's builder id must start with (`https://github.com/acme/shop/.github/workflows/`)",
  },
  'signing-key': {
    description:
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub expression in the text
      'ECDSA P-256 private key PEM to sign with (PKCS#8, EC, encrypted PKCS#8, or `cosign.key`), e.g. `${{ secrets.COSIGN_KEY }}`; masked and handed over in the environment, never on argv or in a file',
  },
  'key-file': {
    description: 'File holding the private key PEM to sign with (instead of `signing-key`)',
  },
  'key-env': {
    description: 'Environment variable holding the private key PEM to sign with (instead of `signing-key`)',
  },
  'key-password': {
    description:
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub expression in the text
      'Password of an encrypted private key, e.g. `${{ secrets.COSIGN_PASSWORD }}`; masked and handed over in the environment. Default: `COSIGN_PASSWORD` from the environment',
  },
  'key-password-env': {
    description:
      'Environment variable holding the password of an encrypted key (instead of `key-password`). Default: `COSIGN_PASSWORD`',
  },
  attest: {
    description:
      'List of attestations to attach: an in-toto statement JSON file about the image, or `type=file` with a predicate file and its type (`slsaprovenance1`, `cyclonedx`, `spdxjson`, `vuln` or a predicate type URI)',
  },
  sbom: {
    description:
      'Generate a CycloneDX SBOM of the image with trivy (output `sbom`, the file) and attach it as an attestation. Default: `false`',
  },
  'sbom-output': {
    description: 'Where `sbom` writes the SBOM. Default: `sbom.cdx.json`',
  },
  keyless: {
    description:
      "Sign keyless instead of with a key: a Fulcio certificate for this job's OIDC identity (the job needs `permissions: id-token: write`), the signature logged in Rekor. Default: `false`",
  },
  'identity-token-env': {
    description:
      'With `keyless`: the environment variable holding the OIDC token. Default: `SIGSTORE_ID_TOKEN`, else the Actions token service',
  },
  'fulcio-url': {
    description: 'With `keyless`: the Fulcio instance. Default: `https://fulcio.sigstore.dev`',
  },
  'rekor-url': {
    description: 'With `keyless`: the Rekor instance. Default: `https://rekor.sigstore.dev`',
  },
  'scan-result': {
    description:
      "`gantry scan --json`'s result file: attached as a vuln attestation (cosign's vuln predicate), which a deploy's `max-critical` reads",
  },
  'public-key': {
    description:
      'Public key PEM the signatures and attestations must verify with (instead of `public-key-file`), handed over in the environment',
  },
  'image-ref': {
    description: 'Image to scan: a local image built in this job, or a registry reference',
  },
  to: {
    description: 'List of destination references; each receives the same manifest, byte for byte',
  },
};

/** Where one action's input means something else than {@link INPUT_DOCS} says. */
export const ACTION_INPUT_DOCS: Partial<Record<keyof typeof ACTIONS, Record<string, InputDoc>>> = {
  '.': {
    'signing-key': {
      description:
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub expression in the text
        'ECDSA P-256 private key PEM (e.g. `${{ secrets.COSIGN_KEY }}`): given (or `key-file`, `key-env`, sign.keyFile in gantry.yml), the pushed digest is signed with its SBOM, the build provenance and the scan verdict attached, before the deploy; masked and handed over in the environment, never on argv or in a file',
    },
    'github-token': {
      description:
        "Token used for ghcr.io as `github.actor`, and for the rollout's GitHub Deployment (`github-deployment`) and pull-request comment (`pr-comment`); masked. Default: the job's `github.token`",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub expression, written as it is into action.yml
      default: '${{ github.token }}',
    },
  },
  build: {
    push: { description: 'Push every tag after the build and output the digest. Default: `false`' },
  },
  scan: {
    platforms: {
      description:
        'Platforms of a multi-platform image to scan (`linux/amd64,linux/arm64`), each reported on its own. Default: all',
    },
    file: {
      description:
        'The Dockerfile the image was built from; findings are annotated on it. Default: `Dockerfile`',
    },
  },
  push: {
    image: { description: 'Image to push: a local image, or a registry reference (copied by digest)' },
  },
  sign: {
    image: {
      description:
        'Registry image to sign (`ghcr.io/acme/shop@sha256:…`, as the push action outputs it); a tag is resolved to its digest, and the digest is signed',
    },
    provenance: {
      description:
        "The SLSA provenance statement the build wrote (the build action's `provenance` output): attached about the signed digest, once its subject is shown to be this image",
    },
  },
  verify: {
    image: {
      description: 'Registry image to verify; a tag is resolved to its digest, and the digest is verified',
    },
    'public-key-file': {
      description: 'Public key (PEM, as `cosign.pub`) the signatures and attestations must verify with',
    },
  },
  deploy: {
    manifests: { description: 'List of manifest files, directories or kustomization directories' },
    'github-token': {
      description:
        "Token for the GitHub Deployment (`github-deployment`) and the pull-request comment (`pr-comment`); masked. Default: the job's `github.token`",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub expression, written as it is into action.yml
      default: '${{ github.token }}',
    },
  },
  promote: {
    name: { description: 'Deployment whose rollout to act on' },
  },
  abort: {
    name: { description: 'Deployment whose rollout to act on' },
  },
};
