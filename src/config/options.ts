/**
 * Every input Gantry accepts, once: its flag, where it lands in gantry.yml, its type and its help text.
 * The CLI builds its flags from this table; the platform wrappers map their inputs through it; the inputs
 * reference in the README is generated from it. Adding an input means adding one row here.
 */
export type CommandName = 'build' | 'scan' | 'push';

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
}

const ALL: readonly CommandName[] = ['build', 'scan', 'push'];

export const OPTIONS: readonly OptionSpec[] = [
  {
    flag: 'image',
    path: 'image',
    type: 'string',
    valueName: 'ref',
    commands: ALL,
    description:
      'Image repository (build: repository without tag, tags come from --tag/--tag-rule; scan/push: the image to read, local name or registry reference)',
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
    description: 'Tag rule in docker/metadata-action syntax, e.g. type=semver,pattern={{version}} (repeatable)',
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
    flag: 'platform',
    path: 'build.platforms',
    type: 'list',
    valueName: 'os/arch',
    commands: ['build'],
    description: 'Target platform (repeatable)',
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
    valueName: 'repo',
    commands: ['build'],
    description: 'Registry repository to read layer cache from (repeatable)',
  },
  {
    flag: 'cache-to',
    path: 'build.cacheTo',
    type: 'list',
    valueName: 'repo',
    commands: ['build'],
    description: 'Registry repository to write layer cache to',
  },
  {
    flag: 'push',
    path: 'build.push',
    type: 'boolean',
    commands: ['build'],
    description: 'Push every tag after the build and report the digest',
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
  // push
  {
    flag: 'to',
    path: 'push.to',
    type: 'list',
    valueName: 'ref',
    commands: ['push'],
    description: 'Destination reference (repeatable); the image is copied by digest to each',
  },
  // registry (all commands that talk to a registry)
  {
    flag: 'insecure-registry',
    path: 'registry.insecure',
    type: 'list',
    valueName: 'host:port',
    commands: ALL,
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

export function optionByPath(path: string): OptionSpec | undefined {
  return OPTIONS.find((o) => o.path === path);
}
