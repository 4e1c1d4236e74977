/**
 * Every input of every Gantry action, as its action.yml declares it, and the Gantry flag it sets. Names follow
 * docker/build-push-action and aquasecurity/trivy-action where those actions have the same input
 * (`tags`, `build-args`, `platforms`, `image-ref`, `severity`, `format`…); elsewhere they are Gantry's flags.
 * test/unit/platforms/github-actions.test.ts keeps these tables and the action.yml files in step.
 */
import type { ActionSpec, InputSpec } from './adapter.js';

const CONFIG = { config: {} } satisfies Record<string, InputSpec>;

const REGISTRY_LOGIN = {
  registry: {},
  'registry-username': {},
  'registry-password': { secret: true },
  'github-token': { secret: true },
} satisfies Record<string, InputSpec>;

const BUILD_INPUTS = {
  image: { flag: 'image', commands: ['build'], custom: true },
  context: { flag: 'context' },
  file: { flag: 'file' },
  builder: { flag: 'builder' },
  tags: { flag: 'tag', custom: true },
  'tag-rules': { flag: 'tag-rule' },
  latest: { flag: 'latest' },
  'build-args': { flag: 'build-arg' },
  labels: { flag: 'label' },
  target: { flag: 'target' },
  network: { flag: 'network' },
  platforms: { flag: 'platform', commas: true },
  secrets: { flag: 'secret', custom: true, secret: true },
  'secret-envs': { flag: 'secret', custom: true },
  'secret-files': { flag: 'secret', custom: true },
  'cache-ref': { flag: 'cache-ref' },
  'cache-from': { flag: 'cache-from' },
  'cache-to': { flag: 'cache-to' },
  'insecure-registry': { flag: 'insecure-registry' },
  retries: { flag: 'retries' },
  // `provenance` is the build's (true/false) where an action also signs (the root action), not sign's file.
  provenance: { flag: 'provenance', commands: ['build'] },
  'provenance-output': { flag: 'provenance-output' },
  'buildx-provenance': { flag: 'buildx-provenance' },
} satisfies Record<string, InputSpec>;

const SCAN_INPUTS = {
  scanner: { flag: 'scanner' },
  severity: { flag: 'severity-threshold', custom: true },
  'ignore-unfixed': { flag: 'ignore-unfixed' },
  'ignore-file': { flag: 'ignore-file' },
  scanners: { flag: 'scanners' },
  platforms: { flag: 'platform', commas: true },
  format: { custom: true },
  output: { custom: true },
  sarif: { flag: 'sarif' },
  'gitlab-report': { flag: 'gitlab-report' },
  junit: { flag: 'junit' },
  markdown: { flag: 'markdown' },
  trivyignore: { flag: 'trivyignore' },
} satisfies Record<string, InputSpec>;

const TARGET_INPUTS = {
  name: { flag: 'name' },
  namespace: { flag: 'namespace' },
  kubeconfig: { flag: 'kubeconfig' },
} satisfies Record<string, InputSpec>;

/** The verify policy: `gantry verify`'s options, and a deploy's (every image must verify before anything is applied). */
const VERIFY_POLICY_INPUTS = {
  'public-key-file': { flag: 'public-key-file' },
  'public-key-env': { flag: 'public-key-env' },
  'require-attestations': { flag: 'require', commas: true },
  'max-critical': { flag: 'max-critical' },
  'max-high': { flag: 'max-high' },
  'source-repository': { flag: 'source' },
  'builder-id': { flag: 'builder-id' },
} satisfies Record<string, InputSpec>;

/**
 * The signing key of actions/sign and the root action: `signing-key` holds the PEM itself (a secret: masked,
 * handed to the core in an environment variable, never on argv or in a file), or `key-file` / `key-env` name
 * where it is; `key-password` is the password of an encrypted key (masked, in the environment too).
 */
const SIGNING_KEY_INPUTS = {
  'signing-key': { custom: true, secret: true },
  'key-file': { flag: 'key-file' },
  'key-env': { flag: 'key-env' },
  'key-password': { custom: true, secret: true },
  'key-password-env': { flag: 'key-password-env' },
} satisfies Record<string, InputSpec>;

const DEPLOY_INPUTS = {
  manifests: { flag: 'manifests' },
  images: { flag: 'image', commands: ['deploy'] },
  chart: { flag: 'chart' },
  values: { flag: 'values' },
  set: { flag: 'set' },
  release: { flag: 'release' },
  ...TARGET_INPUTS,
  strategy: { flag: 'strategy' },
  router: { flag: 'router' },
  steps: { flag: 'steps' },
  pause: { flag: 'pause' },
  'gate-timeout': { flag: 'gate-timeout' },
  'on-gate-timeout': { flag: 'on-gate-timeout' },
  analysis: { flag: 'analysis' },
  hooks: { flag: 'hooks' },
  'prometheus-url': { flag: 'prometheus-url' },
  timeout: { flag: 'timeout' },
  'ready-timeout': { flag: 'ready-timeout' },
  'blue-green-delay': { flag: 'blue-green-delay' },
  'lock-timeout': { flag: 'lock-timeout' },
  'lease-duration': { flag: 'lease-duration' },
  resume: { flag: 'resume' },
  report: { flag: 'report' },
  'notify-slack-url-env': { flag: 'notify-slack-url-env' },
  'notify-slack-url-file': { flag: 'notify-slack-url-file' },
  'notify-teams-url-env': { flag: 'notify-teams-url-env' },
  'notify-teams-url-file': { flag: 'notify-teams-url-file' },
  'notify-webhook-url-env': { flag: 'notify-webhook-url-env' },
  'notify-webhook-url-file': { flag: 'notify-webhook-url-file' },
  'notify-steps': { flag: 'notify-steps' },
  'notify-timeout': { flag: 'notify-timeout' },
  ...VERIFY_POLICY_INPUTS,
} satisfies Record<string, InputSpec>;

/**
 * Where the deploy stage shows the rollout on GitHub (./deployments.ts): GitHub-only, no Gantry flag. With
 * `github-token`, which the deploy action declares for this and the pipeline for the registry too.
 */
const GITHUB_VISIBILITY = {
  environment: {},
  'environment-url': {},
  'github-deployment': {},
  'pr-comment': {},
} satisfies Record<string, InputSpec>;

export const BUILD: ActionSpec = {
  name: 'gantry/actions/build',
  inputs: { ...BUILD_INPUTS, push: { flag: 'push' }, ...REGISTRY_LOGIN, ...CONFIG },
};

export const SCAN: ActionSpec = {
  name: 'gantry/actions/scan',
  inputs: {
    'image-ref': { flag: 'image' },
    ...SCAN_INPUTS,
    'insecure-registry': { flag: 'insecure-registry' },
    // Not a scan option: the file findings are annotated on.
    file: {},
    ...CONFIG,
  },
};

export const PUSH: ActionSpec = {
  name: 'gantry/actions/push',
  inputs: {
    image: { flag: 'image' },
    to: { flag: 'to' },
    'insecure-registry': { flag: 'insecure-registry' },
    retries: { flag: 'retries' },
    ...REGISTRY_LOGIN,
    ...CONFIG,
  },
};

export const SIGN: ActionSpec = {
  name: 'gantry/actions/sign',
  inputs: {
    image: { flag: 'image' },
    ...SIGNING_KEY_INPUTS,
    keyless: { flag: 'keyless' },
    'identity-token-env': { flag: 'identity-token-env' },
    'fulcio-url': { flag: 'fulcio-url' },
    'rekor-url': { flag: 'rekor-url' },
    attest: { flag: 'attest' },
    sbom: { flag: 'sbom' },
    'sbom-output': { flag: 'sbom-output' },
    provenance: { flag: 'provenance' },
    'scan-result': { flag: 'scan-result' },
    'insecure-registry': { flag: 'insecure-registry' },
    ...REGISTRY_LOGIN,
    ...CONFIG,
  },
};

export const VERIFY: ActionSpec = {
  name: 'gantry/actions/verify',
  inputs: {
    image: { flag: 'image' },
    // The PEM itself (not a secret, but multi-line): handed to the core in an environment variable.
    'public-key': { custom: true },
    ...VERIFY_POLICY_INPUTS,
    'insecure-registry': { flag: 'insecure-registry' },
    ...REGISTRY_LOGIN,
    ...CONFIG,
  },
};

export const DEPLOY: ActionSpec = {
  name: 'gantry/actions/deploy',
  inputs: {
    ...DEPLOY_INPUTS,
    ...GITHUB_VISIBILITY,
    'github-token': { secret: true },
    ...CONFIG,
  },
};

export const PROMOTE: ActionSpec = {
  name: 'gantry/actions/promote',
  inputs: { ...TARGET_INPUTS, ...CONFIG },
};

export const ABORT: ActionSpec = {
  name: 'gantry/actions/abort',
  inputs: { ...TARGET_INPUTS, timeout: { flag: 'timeout' }, ...CONFIG },
};

/**
 * The root action: build → scan → push → sign (when a signing key is given) → deploy (when `manifests` or
 * `chart` is given).
 */
export const PIPELINE: ActionSpec = {
  name: 'gantry',
  inputs: {
    ...BUILD_INPUTS,
    // The pipeline pushes after the scan passed, never from the build.
    push: { custom: true },
    ...SCAN_INPUTS,
    ...DEPLOY_INPUTS,
    container: { custom: true },
    ...SIGNING_KEY_INPUTS,
    ...GITHUB_VISIBILITY,
    ...REGISTRY_LOGIN,
    ...CONFIG,
  },
};

export const ACTIONS = {
  '.': PIPELINE,
  build: BUILD,
  scan: SCAN,
  push: PUSH,
  sign: SIGN,
  verify: VERIFY,
  deploy: DEPLOY,
  promote: PROMOTE,
  abort: ABORT,
} as const;
