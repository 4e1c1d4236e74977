/**
 * Every input Gantry accepts, once: its flag, where it lands in gantry.yml, its type and its help text.
 * The CLI builds its flags from this table; the platform wrappers map their inputs through it; the inputs
 * reference in the README is generated from it. Adding an input means adding one row here.
 */
/** Every command, in the order the CLI's help and the inputs reference list them. */
export const COMMANDS = [
  'build',
  'scan',
  'sbom',
  'push',
  'sign',
  'verify',
  'deploy',
  'status',
  'promote',
  'abort',
] as const;

export type CommandName = (typeof COMMANDS)[number];

export type OptionType =
  /** One string. */
  | 'string'
  /** true/false; the flag form is `--x` / `--no-x`. */
  | 'boolean'
  | 'number'
  /** Repeatable flag, or a comma/newline separated list in wrappers. */
  | 'list'
  /** Repeatable `KEY=value`. */
  | 'map';

export interface OptionSpec {
  /** Flag name without dashes; also the GitHub/GitLab input name with dashes kept. */
  flag: string;
  /** Dotted path in gantry.yml. */
  path: string;
  type: OptionType;
  description: string;
  /** Shown in help as the value placeholder. */
  valueName?: string;
  commands: readonly CommandName[];
  /** Lists only: items may also be given comma separated (`--steps 10,25,50`). */
  commaSeparated?: boolean;
  /** Lists only: what each item is, for the inputs reference (`weight[:pause]`); default: any text. */
  items?: string;
}

/** The commands that read or write an image (and reach a registry). */
const IMAGE_COMMANDS: readonly CommandName[] = ['build', 'scan', 'sbom', 'push', 'sign', 'verify'];

export const OPTIONS: readonly OptionSpec[] = [
  {
    flag: 'image',
    path: 'image',
    type: 'string',
    valueName: 'ref',
    commands: IMAGE_COMMANDS,
    description:
      'Image repository (build: repository without tag, tags come from --tag/--tag-rule; scan/push: the image to read, local name or registry reference; sign/verify: the registry image, a tag being resolved to its digest)',
  },
  // build
  {
    flag: 'context',
    path: 'build.context',
    type: 'string',
    valueName: 'dir',
    commands: ['build'],
    description: 'Build context directory',
  },
  {
    flag: 'file',
    path: 'build.file',
    type: 'string',
    valueName: 'path',
    commands: ['build'],
    description: 'Dockerfile / Containerfile (default: <context>/Dockerfile)',
  },
  {
    flag: 'builder',
    path: 'build.builder',
    type: 'string',
    valueName: 'auto|buildah|buildx',
    commands: ['build'],
    description: 'Builder; auto uses buildx when a Docker daemon answers, else buildah',
  },
  {
    flag: 'tag',
    path: 'tags.extra',
    type: 'list',
    valueName: 'tag',
    commands: ['build'],
    description: 'Extra tag (repeatable); added to the tags computed from the git context',
  },
  {
    flag: 'tag-rule',
    path: 'tags.rules',
    type: 'list',
    valueName: 'rule',
    commands: ['build'],
    description:
      'Tag rule in docker/metadata-action syntax, e.g. type=semver,pattern={{version}} (repeatable)',
  },
  {
    flag: 'latest',
    path: 'tags.latest',
    type: 'string',
    valueName: 'auto|true|false',
    commands: ['build'],
    description: 'Whether to add the latest tag (auto: on a stable semver tag)',
  },
  {
    flag: 'build-arg',
    path: 'build.buildArgs',
    type: 'map',
    valueName: 'KEY=value',
    commands: ['build'],
    description: 'Build argument (repeatable); not for secrets, use --secret',
  },
  {
    flag: 'label',
    path: 'build.labels',
    type: 'map',
    valueName: 'key=value',
    commands: ['build'],
    description: 'Image label (repeatable), added to the OCI labels Gantry computes',
  },
  {
    flag: 'target',
    path: 'build.target',
    type: 'string',
    valueName: 'stage',
    commands: ['build'],
    description: 'Build stage to stop at',
  },
  {
    flag: 'network',
    path: 'build.network',
    type: 'string',
    valueName: 'host|none',
    commands: ['build'],
    description: "Network for RUN instructions (default: the builder's own)",
  },
  {
    flag: 'platform',
    path: 'build.platforms',
    type: 'list',
    valueName: 'os/arch',
    commands: ['build', 'scan', 'sbom'],
    commaSeparated: true,
    description:
      'Target platform (repeatable; several make one multi-platform image); scan: the platforms of a multi-platform image to scan (default: all); sbom: the one platform to describe (default: the first)',
  },
  {
    flag: 'secret',
    path: 'build.secrets',
    type: 'list',
    valueName: 'id=ID,src=FILE|env=VAR',
    commands: ['build'],
    description: 'Build secret from a file or an environment variable (repeatable); never passed on argv',
  },
  {
    flag: 'cache-ref',
    path: 'build.cacheRef',
    type: 'string',
    valueName: 'repo',
    commands: ['build'],
    description: 'Registry repository used as layer cache (read and written)',
  },
  {
    flag: 'cache-from',
    path: 'build.cacheFrom',
    type: 'list',
    valueName: 'repo|type=registry,ref=repo',
    commands: ['build'],
    description:
      'Layer cache to read (repeatable): a registry repository, or buildx syntax type=registry,ref=<repo> (type=local,src=<dir> with buildx)',
  },
  {
    flag: 'cache-to',
    path: 'build.cacheTo',
    type: 'list',
    valueName: 'repo|type=registry,ref=repo,mode=max',
    commands: ['build'],
    description:
      'Layer cache to write: a registry repository, or buildx syntax type=registry,ref=<repo>[,mode=max|min] (type=local,dest=<dir> with buildx)',
  },
  {
    flag: 'push',
    path: 'build.push',
    type: 'boolean',
    commands: ['build'],
    description: 'Push every tag after the build and report the digest',
  },
  {
    flag: 'provenance',
    path: 'build.provenance',
    type: 'boolean',
    commands: ['build'],
    description:
      "Write Gantry's SLSA v1 provenance (an in-toto statement) for the build; default true (--no-provenance to skip)",
  },
  {
    flag: 'provenance-output',
    path: 'build.provenanceOutput',
    type: 'string',
    valueName: 'path',
    commands: ['build'],
    description:
      "Where the provenance statement is written (default: in Gantry's image store, next to the built images)",
  },
  {
    flag: 'buildx-provenance',
    path: 'build.buildxProvenance',
    type: 'boolean',
    commands: ['build'],
    description:
      "buildx builders other than the docker driver: also attach BuildKit's own provenance (--provenance=mode=max)",
  },
  // scan
  {
    flag: 'scanner',
    path: 'scan.scanner',
    type: 'string',
    valueName: 'trivy|grype',
    commands: ['scan'],
    description: 'Scanner to run',
  },
  {
    flag: 'severity-threshold',
    path: 'scan.severityThreshold',
    type: 'string',
    valueName: 'critical|high|medium|low|unknown|none',
    commands: ['scan'],
    description: 'Fail (exit 1) on a finding at or above this severity; none never fails',
  },
  {
    flag: 'ignore-unfixed',
    path: 'scan.ignoreUnfixed',
    type: 'boolean',
    commands: ['scan'],
    description: 'Drop vulnerabilities that have no fixed version',
  },
  {
    flag: 'ignore-file',
    path: 'scan.ignoreFile',
    type: 'string',
    valueName: 'path',
    commands: ['scan'],
    description: 'YAML list of {id, reason, expires?, package?}; expired entries stop applying',
  },
  {
    flag: 'scanners',
    path: 'scan.scanners',
    type: 'list',
    valueName: 'vuln|secret|misconfig',
    commands: ['scan'],
    commaSeparated: true,
    description: 'What to look for (repeatable or comma separated)',
  },
  {
    flag: 'sarif',
    path: 'scan.sarif',
    type: 'string',
    valueName: 'path',
    commands: ['scan'],
    description: 'Write a SARIF 2.1.0 report (GitHub code scanning)',
  },
  {
    flag: 'gitlab-report',
    path: 'scan.gitlabReport',
    type: 'string',
    valueName: 'path',
    commands: ['scan'],
    description: 'Write a GitLab container scanning report (schema 15.0.7)',
  },
  {
    flag: 'junit',
    path: 'scan.junit',
    type: 'string',
    valueName: 'path',
    commands: ['scan'],
    description: 'Write a JUnit XML report',
  },
  {
    flag: 'markdown',
    path: 'scan.markdown',
    type: 'string',
    valueName: 'path',
    commands: ['scan'],
    description: 'Write a Markdown summary',
  },
  {
    flag: 'trivyignore',
    path: 'scan.trivyignore',
    type: 'boolean',
    commands: ['scan'],
    description:
      'Honour a .trivyignore / .trivyignore.yaml in the build context, the repository root and the working directory, as trivy and trivy-action do (default true)',
  },
  // sbom
  {
    flag: 'format',
    path: 'sbom.format',
    type: 'string',
    valueName: 'cyclonedx|spdx-json',
    commands: ['sbom'],
    description: 'SBOM format, written by trivy (default cyclonedx)',
  },
  {
    flag: 'output',
    path: 'sbom.output',
    type: 'string',
    valueName: 'path',
    commands: ['sbom'],
    description: 'Where the SBOM is written (default sbom.cdx.json, or sbom.spdx.json for spdx-json)',
  },
  // push
  {
    flag: 'to',
    path: 'push.to',
    type: 'list',
    valueName: 'ref',
    commands: ['push'],
    description: 'Destination reference (repeatable); the image is copied by digest to each',
  },
  // sign
  {
    flag: 'key-file',
    path: 'sign.keyFile',
    type: 'string',
    valueName: 'path',
    commands: ['sign'],
    description:
      'ECDSA P-256 private key (PEM: PKCS#8, EC, encrypted PKCS#8, or cosign.key from cosign generate-key-pair) to sign with',
  },
  {
    flag: 'key-env',
    path: 'sign.keyEnv',
    type: 'string',
    valueName: 'VAR',
    commands: ['sign'],
    description: 'Environment variable holding the private key PEM (instead of --key-file)',
  },
  {
    flag: 'key-password-env',
    path: 'sign.keyPasswordEnv',
    type: 'string',
    valueName: 'VAR',
    commands: ['sign'],
    description: 'Environment variable holding the password of an encrypted key',
  },
  {
    flag: 'attest',
    path: 'sign.attest',
    type: 'list',
    valueName: 'file',
    items: 'file | type=file',
    commands: ['sign'],
    description:
      'Attach an attestation (repeatable): an in-toto statement JSON file about the image, or type=file with a predicate file and its type (slsaprovenance1, cyclonedx, spdxjson, vuln or a predicate type URI)',
  },
  {
    flag: 'keyless',
    path: 'sign.keyless',
    type: 'boolean',
    commands: ['sign'],
    description:
      "Sign keyless: a Fulcio certificate for the CI job's OIDC identity, the signature logged in Rekor (needs the network; not testable in the sandbox)",
  },
  {
    flag: 'identity-token-env',
    path: 'sign.identityTokenEnv',
    type: 'string',
    valueName: 'VAR',
    commands: ['sign'],
    description:
      "--keyless: the variable holding the OIDC token (default SIGSTORE_ID_TOKEN, then GitHub Actions' token service)",
  },
  {
    flag: 'fulcio-url',
    path: 'sign.fulcioUrl',
    type: 'string',
    valueName: 'url',
    commands: ['sign'],
    description: '--keyless: the Fulcio instance (default https://fulcio.sigstore.dev)',
  },
  {
    flag: 'rekor-url',
    path: 'sign.rekorUrl',
    type: 'string',
    valueName: 'url',
    commands: ['sign'],
    description: '--keyless: the Rekor instance (default https://rekor.sigstore.dev)',
  },
  {
    flag: 'sbom',
    path: 'sign.sbom',
    type: 'boolean',
    commands: ['sign'],
    description:
      'Generate a CycloneDX SBOM of the image with trivy (written to sbom.cdx.json, or --sbom-output) and attach it as an attestation',
  },
  {
    flag: 'sbom-output',
    path: 'sign.sbomOutput',
    type: 'string',
    valueName: 'path',
    commands: ['sign'],
    description: 'Where --sbom writes the SBOM (default sbom.cdx.json)',
  },
  {
    flag: 'provenance',
    path: 'sign.provenance',
    type: 'string',
    valueName: 'file',
    commands: ['sign'],
    description:
      "The SLSA provenance `gantry build` wrote (its result's `provenance`): attached about the signed digest, once its subject is shown to be this image (its digest, or its config for an image built locally)",
  },
  {
    flag: 'scan-result',
    path: 'sign.scanResult',
    type: 'string',
    valueName: 'file',
    commands: ['sign'],
    description:
      "`gantry scan --json`'s result: attached as a vuln attestation (cosign's vuln predicate), which a deploy policy's --max-critical reads",
  },
  // verify
  {
    flag: 'public-key-file',
    path: 'verify.publicKeyFile',
    type: 'string',
    valueName: 'path',
    commands: ['verify', 'deploy'],
    description:
      'Public key (PEM, as cosign.pub) the signatures and attestations must verify with (deploy: set, every image of the Deployment must verify before anything is applied)',
  },
  {
    flag: 'public-key-env',
    path: 'verify.publicKeyEnv',
    type: 'string',
    valueName: 'VAR',
    commands: ['verify', 'deploy'],
    description: 'Environment variable holding the public key PEM (instead of --public-key-file)',
  },
  {
    flag: 'require',
    path: 'verify.require',
    type: 'list',
    valueName: 'type',
    commaSeparated: true,
    items: 'attestation type',
    commands: ['verify', 'deploy'],
    description:
      'Attestation types that must verify besides the signature (slsaprovenance1, cyclonedx, spdxjson, vuln or a predicate type URI)',
  },
  {
    flag: 'max-critical',
    path: 'verify.maxCritical',
    type: 'number',
    valueName: 'n',
    commands: ['verify', 'deploy'],
    description:
      'The most critical findings the newest verified vuln attestation (the scan `gantry sign` attached) may report',
  },
  {
    flag: 'max-high',
    path: 'verify.maxHigh',
    type: 'number',
    valueName: 'n',
    commands: ['verify', 'deploy'],
    description: 'The most high findings the newest verified vuln attestation may report',
  },
  {
    flag: 'source',
    path: 'verify.source',
    type: 'string',
    valueName: 'url',
    commands: ['verify', 'deploy'],
    description:
      'The source repository a verified SLSA provenance must name (https://github.com/acme/shop; git+ and .git ignored)',
  },
  {
    flag: 'builder-id',
    path: 'verify.builderId',
    type: 'string',
    valueName: 'prefix',
    commands: ['verify', 'deploy'],
    description:
      "What a verified SLSA provenance's builder id must start with (https://github.com/acme/shop/.github/workflows/)",
  },
  // deploy
  {
    flag: 'manifests',
    path: 'deploy.manifests',
    type: 'list',
    valueName: 'path',
    commands: ['deploy'],
    description: 'Manifest file, directory, kustomization directory, or - for stdin (repeatable)',
  },
  {
    flag: 'chart',
    path: 'deploy.chart',
    type: 'string',
    valueName: 'dir|ref',
    commands: ['deploy'],
    description:
      'Helm chart (directory, .tgz, repo/name or oci:// reference) rendered with `helm template` instead of --manifests',
  },
  {
    flag: 'values',
    path: 'deploy.values',
    type: 'list',
    valueName: 'file',
    commands: ['deploy'],
    description: 'Values file for --chart (repeatable, later files win); the place for secret values',
  },
  {
    flag: 'set',
    path: 'deploy.set',
    type: 'list',
    valueName: 'key=value',
    commands: ['deploy'],
    description: "Value for --chart in Helm's --set syntax (repeatable, wins over --values); not for secrets",
  },
  {
    flag: 'release',
    path: 'deploy.release',
    type: 'string',
    valueName: 'name',
    commands: ['deploy'],
    description: 'Helm release name the chart is rendered with (default: --name, else the chart name)',
  },
  {
    flag: 'image',
    path: 'deploy.images',
    type: 'list',
    valueName: 'name=ref@sha256:…',
    commands: ['deploy'],
    description: 'Image for the containers with that name or image repository, by digest (repeatable)',
  },
  {
    flag: 'namespace',
    path: 'deploy.namespace',
    type: 'string',
    valueName: 'ns',
    commands: ['deploy', 'status', 'promote', 'abort'],
    description: 'Namespace of the rollout',
  },
  {
    flag: 'name',
    path: 'deploy.name',
    type: 'string',
    valueName: 'deployment',
    commands: ['deploy', 'status', 'promote', 'abort'],
    description: 'Deployment to roll out (default: the only Deployment in the manifests)',
  },
  {
    flag: 'strategy',
    path: 'deploy.strategy',
    type: 'string',
    valueName: 'rolling|canary|blue-green',
    commands: ['deploy'],
    description: 'Rollout strategy',
  },
  {
    flag: 'router',
    path: 'deploy.router',
    type: 'string',
    valueName: 'replicas|gateway-api|istio|nginx',
    commands: ['deploy'],
    description:
      'How traffic is split: replica ratio (no mesh), HTTPRoute, VirtualService or NGINX canary Ingress',
  },
  {
    flag: 'steps',
    path: 'deploy.steps',
    type: 'list',
    valueName: 'step,…',
    commands: ['deploy'],
    commaSeparated: true,
    items: '`weight[:pause]`, `header=NAME:VALUE[:pause]` or `cookie=NAME[:pause]`',
    description:
      'Canary steps: traffic weights in percent, strictly increasing, 1–99, each with its own pause as weight:pause (25:10m), or weight:until-promoted to wait there for `gantry promote`; a step without one lasts --pause. A match step sends only the requests with a header (header=x-canary:always[:pause]) or the cookie NAME=always (cookie=NAME[:pause]) to the canary, no weight; gateway-api, istio and nginx routers only',
  },
  {
    flag: 'pause',
    path: 'deploy.pause',
    type: 'string',
    valueName: 'duration',
    commands: ['deploy'],
    description:
      'Length of each step that sets no pause of its own (analysis runs during it), e.g. 30s; rolling with --analysis: the verification window after the update',
  },
  {
    flag: 'gate-timeout',
    path: 'deploy.gateTimeout',
    type: 'string',
    valueName: 'duration',
    commands: ['deploy'],
    description:
      'How long a step with pause until-promoted waits for `gantry promote` or `gantry abort` before --on-gate-timeout decides (at most 168h)',
  },
  {
    flag: 'on-gate-timeout',
    path: 'deploy.onGateTimeout',
    type: 'string',
    valueName: 'rollback|promote',
    commands: ['deploy'],
    description:
      'What a gate does when nobody decided within --gate-timeout: roll back, or continue as if promoted',
  },
  {
    flag: 'analysis',
    path: 'deploy.analysis',
    type: 'string',
    valueName: 'file',
    commands: ['deploy'],
    description: 'Analysis file: metrics (PromQL) with min/max, interval, failureLimit, inconclusiveLimit',
  },
  {
    flag: 'hooks',
    path: 'deploy.hooks',
    type: 'string',
    valueName: 'file',
    commands: ['deploy'],
    description:
      'Hooks file: HTTP or command hooks at confirm-rollout, pre-rollout, rollout, confirm-promotion, post-rollout, rollback (docs/hooks.md)',
  },
  {
    flag: 'prometheus-url',
    path: 'deploy.prometheusUrl',
    type: 'string',
    valueName: 'url',
    commands: ['deploy'],
    description: 'Prometheus for the analysis (default: $PROMETHEUS_URL)',
  },
  {
    flag: 'timeout',
    path: 'deploy.timeout',
    type: 'string',
    valueName: 'duration',
    commands: ['deploy', 'status', 'abort'],
    description: 'Bound for every wait on the cluster; status --watch: how long to follow the rollout',
  },
  {
    flag: 'ready-timeout',
    path: 'deploy.readyTimeout',
    type: 'string',
    valueName: 'duration',
    commands: ['deploy'],
    description: 'Pods of the new version not ready after this long fail the rollout',
  },
  {
    flag: 'blue-green-delay',
    path: 'deploy.blueGreenDelay',
    type: 'string',
    valueName: 'duration',
    commands: ['deploy'],
    description: 'Blue-green: how long the old version is kept after the switch, with analysis',
  },
  {
    flag: 'lock-timeout',
    path: 'deploy.lockTimeout',
    type: 'string',
    valueName: 'duration',
    commands: ['deploy'],
    description: 'How long to wait for another rollout of the same service',
  },
  {
    flag: 'lease-duration',
    path: 'deploy.leaseDuration',
    type: 'number',
    valueName: 'seconds',
    commands: ['deploy'],
    description: 'Seconds without renewal after which a run counts as dead and its rollout as orphaned',
  },
  {
    flag: 'resume',
    path: 'deploy.resume',
    type: 'boolean',
    commands: ['deploy'],
    description: 'On a stale lease, continue the orphaned rollout instead of rolling it back',
  },
  {
    flag: 'kubeconfig',
    path: 'deploy.kubeconfig',
    type: 'string',
    valueName: 'file',
    commands: ['deploy', 'status', 'promote', 'abort'],
    description: 'Kubeconfig (default: $KUBECONFIG, then ~/.kube/config)',
  },
  {
    flag: 'report',
    path: 'deploy.report',
    type: 'string',
    valueName: 'dir',
    commands: ['deploy'],
    description: 'Write the run report there: rollout.json, rollout.md, rollout.svg',
  },
  // notifications
  {
    flag: 'notify-slack-url-env',
    path: 'notify.slack.urlEnv',
    type: 'string',
    valueName: 'VAR',
    commands: ['deploy'],
    description:
      'Notify a Slack incoming webhook: the environment variable holding its URL (a secret: never on argv, masked)',
  },
  {
    flag: 'notify-slack-url-file',
    path: 'notify.slack.urlFile',
    type: 'string',
    valueName: 'file',
    commands: ['deploy'],
    description: 'Notify a Slack incoming webhook: a file holding its URL',
  },
  {
    flag: 'notify-teams-url-env',
    path: 'notify.teams.urlEnv',
    type: 'string',
    valueName: 'VAR',
    commands: ['deploy'],
    description:
      'Notify a Microsoft Teams (Workflows) webhook: the environment variable holding its URL (a secret: never on argv, masked)',
  },
  {
    flag: 'notify-teams-url-file',
    path: 'notify.teams.urlFile',
    type: 'string',
    valueName: 'file',
    commands: ['deploy'],
    description: 'Notify a Microsoft Teams (Workflows) webhook: a file holding its URL',
  },
  {
    flag: 'notify-webhook-url-env',
    path: 'notify.webhook.urlEnv',
    type: 'string',
    valueName: 'VAR',
    commands: ['deploy'],
    description:
      'Notify a generic JSON webhook: the environment variable holding its URL (a secret: never on argv, masked)',
  },
  {
    flag: 'notify-webhook-url-file',
    path: 'notify.webhook.urlFile',
    type: 'string',
    valueName: 'file',
    commands: ['deploy'],
    description: 'Notify a generic JSON webhook: a file holding its URL',
  },
  {
    flag: 'notify-steps',
    path: 'notify.steps',
    type: 'boolean',
    commands: ['deploy'],
    description: 'Notify at every canary step too, not only when the rollout starts and ends',
  },
  {
    flag: 'notify-timeout',
    path: 'notify.timeout',
    type: 'string',
    valueName: 'duration',
    commands: ['deploy'],
    description: 'Bound for each notification request (one retry after a 5xx or a transport error)',
  },
  {
    flag: 'watch',
    path: 'status.watch',
    type: 'boolean',
    commands: ['status'],
    description:
      'Follow the rollout: one line per change (step, weight, gate, checks, events) with a timestamp, JSON lines with --json, until it ends; exits with its exit code (0 promoted, 1 rolled back, 3 failed or orphaned, 4 rollback failed). No rollout in progress: prints the state and exits 0',
  },
  {
    flag: 'wait-start',
    path: 'status.waitStart',
    type: 'string',
    valueName: 'duration',
    commands: ['status'],
    description:
      'With --watch and no rollout in progress: wait this long for one to start, then follow it (none started: exit 3)',
  },
  // registry (all commands that talk to a registry)
  {
    flag: 'insecure-registry',
    path: 'registry.insecure',
    type: 'list',
    valueName: 'host:port',
    commands: IMAGE_COMMANDS,
    description: 'Registry reached over plain HTTP / without TLS verification (repeatable)',
  },
  {
    flag: 'retries',
    path: 'registry.retries',
    type: 'number',
    valueName: 'n',
    commands: ['build', 'push'],
    description: 'Retries for a push that fails with 5xx, 429 or a dropped connection',
  },
];

export function optionsFor(command: CommandName): OptionSpec[] {
  return OPTIONS.filter((o) => o.commands.includes(command));
}

/** The option a command knows by this flag (the same flag can mean different things per command). */
export function optionFor(command: CommandName, flag: string): OptionSpec | undefined {
  return OPTIONS.find((o) => o.flag === flag && o.commands.includes(command));
}

export function optionByPath(path: string): OptionSpec | undefined {
  return OPTIONS.find((o) => o.path === path);
}
