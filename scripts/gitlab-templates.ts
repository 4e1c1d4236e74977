/**
 * The GitLab components' jobs (gitlab/templates/*.yml), generated so that no input is written twice by hand.
 *
 * - A stage template (build, scan, push, deploy) is hand-written down to its `---`: the header comment and
 *   `spec:inputs`, the source of every input's GitLab wording. The job document after `---` is rendered from
 *   those inputs and the job's entry in STAGE_JOBS: every input the job's keywords do not use itself (stage,
 *   job-prefix, gantry-image, the deploy's environment) becomes its `GANTRY_INPUT_*` variable, in spec order.
 * - pipeline.yml is rendered in full from the four stage templates and PIPELINE, which says only what the
 *   pipeline does differently: its own inputs, the descriptions it words for the whole flow, the variables it
 *   wires between the jobs instead of taking an input, and each job's stage input and `needs`.
 *
 * `npm run docs` writes the files (scripts/gen-inputs.mjs); `npm run check:docs` (CI) and
 * test/unit/platforms/gitlab-templates.test.ts fail when a committed file differs.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import yaml from 'js-yaml';
import { inputVariable } from '../src/platforms/gitlab/inputs.js';

export const REPO = resolve(import.meta.dirname, '..');

/** The stages pipeline.yml chains. */
export const STAGES = ['build', 'scan', 'push', 'deploy'] as const;
export type Stage = (typeof STAGES)[number];
/**
 * Every component with one job of one gantry command: the stages, and sign and verify, which pipeline.yml does
 * not run (compose them: build, scan, push, sign, deploy; see gitlab/README.md).
 */
export const COMPONENTS = [...STAGES, 'sign', 'verify'] as const;
export type Component = (typeof COMPONENTS)[number];

export const templateFile = (name: Component | 'pipeline') => `gitlab/templates/${name}.yml`;
export const PIPELINE_FILE = templateFile('pipeline');

export interface InputSpec {
  description?: string;
  type?: 'string' | 'boolean' | 'number' | 'array';
  default?: unknown;
  options?: unknown[];
  regex?: string;
}

/** A description as written: one line, or the lines of a `>-` folded block. */
type Description = string | readonly string[];
/** An input the script writes itself, description as written. */
type WrittenInput = Omit<InputSpec, 'description'> & { description: Description };

// ---------------------------------------------------------------------------------------------- tables

/** Inputs every stage template's job uses in its own keywords (name, stage, image): never passed to gantry. */
export const JOB_INPUTS = ['stage', 'job-prefix', 'gantry-image'] as const;

export interface StageJob {
  /** Comment lines above the job. */
  note?: readonly string[];
  interruptible?: { value: boolean; note?: string };
  /**
   * The GitLab environment, from these inputs (which then reach no variable), and the job's `action` on it:
   * `start` makes the job a deployment, whose status GitLab sets from the job's result.
   */
  environment?: { name: string; url: string; action: 'start'; note?: readonly string[] };
  /** Comment above `variables:`. */
  variablesNote?: string;
  /** Flags the template sets itself, after the inputs' variables: the report paths GitLab reads. */
  fixed: Record<string, string>;
  artifacts: {
    /** `expose_as`: the name of the artifacts' link in the merge-request widget (letters, digits, -, _, spaces). */
    exposeAs?: { name: string; note?: readonly string[] };
    pathsNote?: string;
    /** With exposeAs: no globs, directories ending in `/` (GitLab exposes nothing otherwise). */
    paths: readonly string[];
    reports: Record<string, string>;
  };
}

const VARIABLES_ONLY = 'Inputs reach gantry through variables only (see build.yml).';

/** What each stage job is besides its inputs' variables. */
export const STAGE_JOBS: Record<Component, StageJob> = {
  build: {
    note: [
      'Every input reaches gantry through a job variable, never through the script: GitLab pastes inputs into this',
      'file as text, and a value in `script:` would be read by the shell. Arrays arrive as JSON; their variables are',
      '`expand: false` and gantry-gitlab expands $VARIABLES per item, so a quote in a value cannot split the array.',
    ],
    interruptible: { value: true },
    fixed: {},
    artifacts: { paths: ['gantry-build.json'], reports: { dotenv: 'gantry-build.env' } },
  },
  scan: {
    interruptible: { value: true },
    variablesNote:
      'Inputs reach gantry through variables only (see build.yml); the report paths are fixed by this template.',
    fixed: {
      'gitlab-report': 'gl-container-scanning-report.json',
      junit: 'gantry-scan.junit.xml',
      markdown: 'gantry-scan.md',
    },
    artifacts: {
      pathsNote:
        'The reports are listed here too, so they can be downloaded and browsed, not only parsed by GitLab.',
      paths: [
        'gantry-scan.json',
        'gantry-scan.md',
        'gl-container-scanning-report.json',
        'gantry-scan.junit.xml',
      ],
      reports: {
        container_scanning: 'gl-container-scanning-report.json',
        junit: 'gantry-scan.junit.xml',
        dotenv: 'gantry-scan.env',
      },
    },
  },
  push: {
    variablesNote: VARIABLES_ONLY,
    fixed: {},
    artifacts: { paths: ['gantry-push.json'], reports: { dotenv: 'gantry-push.env' } },
  },
  deploy: {
    interruptible: {
      value: false,
      note: 'A cancelled job aborts and rolls back cleanly, but a newer pipeline should not cancel a rollout half-way.',
    },
    environment: {
      name: 'environment',
      url: 'environment-url',
      action: 'start',
      note: [
        'A deployment: GitLab records one per run and sets its status from the job, success only when the rollout',
        'was promoted (exit 0); a rollback (exit 1) or a failure marks it failed, a cancelled job canceled.',
      ],
    },
    variablesNote: VARIABLES_ONLY,
    fixed: { report: 'gantry-rollout' },
    artifacts: {
      exposeAs: {
        name: 'Gantry rollout report',
        note: [
          'Linked from the merge request (View exposed artifact) and kept when the rollout fails; the note links',
          'each report file.',
        ],
      },
      paths: ['gantry-deploy.json', 'gantry-rollout/'],
      reports: { dotenv: 'gantry-deploy.env' },
    },
  },
  sign: {
    variablesNote:
      'Inputs reach gantry through variables only (see build.yml); the key only as a file or a variable name.',
    fixed: { 'sbom-output': 'gantry-sbom.cdx.json' },
    artifacts: {
      pathsNote: 'The SBOM (when sbom is true) is kept beside the result: what was attached, readable.',
      paths: ['gantry-sign.json', 'gantry-sbom.cdx.json'],
      reports: { dotenv: 'gantry-sign.env' },
    },
  },
  verify: {
    variablesNote: VARIABLES_ONLY,
    fixed: {},
    artifacts: { paths: ['gantry-verify.json'], reports: { dotenv: 'gantry-verify.env' } },
  },
};

/** A variable the pipeline sets itself where the stage template takes an input. */
export interface Wired {
  /** The value; for an array input, the JSON text of the array. */
  value: string;
  note?: string;
  /** The pipeline's own input that takes the stage input's place in `spec:inputs`. */
  input?: string;
}

export interface PipelineJob {
  /** The pipeline's input for the job's stage; its default is the stage template's `stage` default. */
  stage: { input: string; description: string };
  needs: readonly Stage[];
  wired: Record<string, Wired>;
}

export interface PipelineTable {
  header: readonly string[];
  /** Comment lines above the jobs. */
  jobsNote: readonly string[];
  /** Inputs first in `spec:inputs`, in this order; then each stage's remaining inputs, then `last`. */
  first: readonly string[];
  last: { comment: string; inputs: readonly string[] };
  /** Inputs of the pipeline alone (besides the jobs' stage inputs). */
  own: Record<string, WrittenInput>;
  /** Stage inputs the pipeline describes in its own words (for the whole flow). */
  descriptions: Record<string, Description>;
  jobs: Record<Stage, PipelineJob>;
}

/** What pipeline.yml does differently from the four stage templates it chains. */
export const PIPELINE: PipelineTable = {
  header: [
    'Gantry pipeline: build → scan → push → deploy, chained with `needs`, so that only a digest that passed the',
    'scan reaches the destinations in `to` and is rolled out. The build pushes to `image` (a CI repository); the',
    'push copies the scanned digest to `to`; the deploy rolls out <first `to` repository>@<digest>.',
    'Jobs: <prefix>build, <prefix>scan, <prefix>push, <prefix>deploy; their dotenv outputs are those of build.yml,',
    'scan.yml, push.yml and deploy.yml. Inputs left at their default do not override gantry.yml.',
  ],
  jobsNote: [
    'The same four jobs as build.yml, scan.yml, push.yml and deploy.yml, chained with `needs` (which also limits',
    'the dotenv variables each job receives to those of the jobs it needs). Inputs reach gantry through job',
    'variables only, never through the script (see build.yml).',
  ],
  first: ['job-prefix', 'build-stage', 'scan-stage', 'push-stage', 'deploy-stage', 'gantry-image', 'config'],
  last: { comment: 'registries (build, scan, push)', inputs: ['insecure-registry', 'retries'] },
  own: {
    container: {
      description: [
        'Which containers get the new image: a container name, or the image repository as written in the',
        'manifests. Default, the repository of the first destination in `to`.',
      ],
      default: '$GANTRY_PUSH_REPOSITORY',
      regex: '^[^"\\\\]+$',
    },
  },
  descriptions: {
    'job-prefix':
      'Prefix of the job names (<prefix>build, scan, push, deploy). Letters, digits, ".", "_", "-".',
    'gantry-image': [
      'Image the jobs run in: the Gantry tool image (node 24, gantry, buildah, skopeo, trivy; gitlab/Dockerfile).',
      "Empty: no image, the runner's own environment, which must have gantry and gantry-gitlab on PATH.",
    ],
    image: [
      'Repository the build pushes to before the scan, without tag (tags come from tag and tag-rule). Empty',
      "takes gantry.yml's image.",
    ],
    'severity-threshold':
      'Stop the pipeline on a finding at or above this severity; none never stops (default high).',
    to: 'Destination references (registry/repository:tag) the scanned digest is copied to.',
    environment: [
      'GitLab environment the deploy job deploys to. The job is its deployment, which GitLab marks success when',
      'the rollout is promoted and failed when it is rolled back or fails.',
    ],
    manifests: [
      "Manifest files, directories or kustomization directories. Empty takes gantry.yml's deploy.manifests.",
    ],
    retries: 'Retries for a push that fails with 5xx, 429 or a dropped connection (build and push).',
  },
  jobs: {
    build: {
      stage: { input: 'build-stage', description: 'Stage of the build job.' },
      needs: [],
      // Deploy needs a pushed digest, and the scan and push jobs may run on other runners.
      wired: {
        push: { value: 'true', note: 'The next jobs run elsewhere and read the image from the registry.' },
      },
    },
    scan: {
      stage: { input: 'scan-stage', description: 'Stage of the scan job.' },
      needs: ['build'],
      wired: { image: { value: '$GANTRY_IMAGE_REF' } },
    },
    push: {
      stage: {
        input: 'push-stage',
        description:
          'Stage of the push job (the needs keep it after the scan even in the same stage as deploy).',
      },
      needs: ['build', 'scan'],
      wired: { image: { value: '$GANTRY_IMAGE_REF' } },
    },
    deploy: {
      stage: { input: 'deploy-stage', description: 'Stage of the deploy job.' },
      needs: ['push'],
      wired: {
        image: {
          value: '["$[[ inputs.container ]]=$GANTRY_PUSH_IMAGE_REF"]',
          note: "One item, expanded by gantry-gitlab from the push job's dotenv: <container>=<repository>@<digest>.",
          input: 'container',
        },
      },
    },
  },
};

// ---------------------------------------------------------------------------------------------- reading

const GENERATED_JOB_NOTE = [
  'Generated by `npm run docs` (scripts/gitlab-templates.ts) from the spec:inputs above: each input the job does',
  'not use itself reaches gantry as its GANTRY_INPUT_* variable. Edit the inputs, or STAGE_JOBS in the script.',
];
const GENERATED_PIPELINE_NOTE = [
  'Generated by `npm run docs` (scripts/gitlab-templates.ts) from build.yml, scan.yml, push.yml, deploy.yml and',
  'the PIPELINE table in the script. Do not edit: change those and run npm run docs.',
];

/** A stage template's hand-written part: the lines down to `---`, its inputs, and each input's lines. */
export interface StageSpec {
  head: string[];
  inputs: Record<string, InputSpec>;
  blocks: Map<string, string[]>;
}

export function readStageSpec(stage: Component, text: string): StageSpec {
  const file = templateFile(stage);
  const lines = text.split('\n');
  const end = lines.indexOf('---');
  const start = lines.indexOf('  inputs:');
  if (end < 0 || start < 0 || lines[start - 1] !== 'spec:' || start > end)
    throw new Error(`${file}: expected a header with spec:inputs, then ---`);
  const head = lines.slice(0, end);
  const [header] = yaml.loadAll(text) as [{ spec: { inputs: Record<string, InputSpec> } }];
  const inputs = header.spec.inputs;
  const blocks = new Map<string, string[]>();
  let name: string | undefined;
  for (const line of lines.slice(start + 1, end)) {
    const key = /^ {4}([a-z0-9-]+):$/.exec(line);
    if (key) {
      name = key[1]!;
      blocks.set(name, [line]);
    } else if (name && line.startsWith('      ')) blocks.get(name)!.push(line);
    else throw new Error(`${file}: unexpected line in spec:inputs (one key per input, no comments): ${line}`);
  }
  for (const [input, block] of blocks) {
    if (!isDeepStrictEqual(parseBlock(block), inputs[input]))
      throw new Error(`${file}: input ${input} could not be read back from its lines`);
  }
  if (!isDeepStrictEqual([...blocks.keys()], Object.keys(inputs)))
    throw new Error(`${file}: spec:inputs has lines this script does not understand`);
  return { head, inputs, blocks };
}

/** One input's lines (4-space key) → its spec. */
function parseBlock(block: readonly string[]): InputSpec {
  const parsed = yaml.load(block.map((line) => line.slice(4)).join('\n')) as Record<string, InputSpec>;
  return Object.values(parsed)[0]!;
}

function readTemplate(stage: Component): string {
  return readFileSync(join(REPO, templateFile(stage)), 'utf8');
}

// ---------------------------------------------------------------------------------------------- writing

const quote = (value: string) => `'${value.replace(/'/g, "''")}'`;

/** A YAML scalar in block context: plain when it reads back as the same string, else single-quoted. */
export function scalar(value: string): string {
  let plain = false;
  try {
    plain =
      value !== '' && !value.includes('\n') && isDeepStrictEqual(yaml.load(`k: ${value}`), { k: value });
  } catch {}
  return plain ? value : quote(value);
}

const ref = (input: string) => `$[[ inputs.${input} ]]`;
const comment = (indent: string, text: string | undefined) => (text ? [`${indent}# ${text}`] : []);

function descriptionLines(description: Description): string[] {
  if (typeof description === 'string') return [`      description: ${scalar(description)}`];
  return ['      description: >-', ...description.map((line) => `        ${line}`)];
}

const descriptionText = (description: Description) =>
  typeof description === 'string' ? description : description.join(' ');

function flowValue(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(flowValue).join(', ')}]`;
  // In a flow sequence (options), commas and brackets end a plain scalar: only words stay plain.
  if (typeof value === 'string') return /^[A-Za-z0-9$][\w$./-]*$/.test(value) ? scalar(value) : quote(value);
  return String(value);
}

function inputLines(name: string, spec: WrittenInput): string[] {
  const lines = [`    ${name}:`, ...descriptionLines(spec.description)];
  if (spec.type) lines.push(`      type: ${spec.type}`);
  if ('default' in spec) lines.push(`      default: ${flowValue(spec.default)}`);
  if (spec.options) lines.push(`      options: ${flowValue(spec.options)}`);
  if (spec.regex) lines.push(`      regex: ${scalar(spec.regex)}`);
  return lines;
}

/** An input's lines with another description. */
function withDescription(block: readonly string[], description: Description): string[] {
  const at = block.findIndex((line) => line.startsWith('      description:'));
  let end = at + 1;
  while (end < block.length && block[end]!.startsWith('        ')) end++;
  return [...block.slice(0, at), ...descriptionLines(description), ...block.slice(end)];
}

/** A job variable: an input's reference (an array's JSON unexpanded, as gantry-gitlab expects it) or a value. */
function variableLines(name: string, value: { ref?: string; text?: string; array: boolean }, note?: string) {
  const lines = comment('    ', note);
  const text = value.ref ? ref(value.ref) : value.text!;
  if (value.array) lines.push(`    ${name}:`, '      value: |', `        ${text}`, '      expand: false');
  else lines.push(`    ${name}: ${value.ref ? `'${text}'` : scalar(text)}`);
  return lines;
}

/** The inputs of a stage that its job's keywords use, and so reach no variable. */
export function jobInputs(stage: Component): string[] {
  const environment = STAGE_JOBS[stage].environment;
  return [...JOB_INPUTS, ...(environment ? [environment.name, environment.url] : [])];
}

interface JobContext {
  stageInput: string;
  needs: readonly Stage[];
  wired: Record<string, Wired>;
  /** Comment lines above the job. */
  note: readonly string[];
}

const jobName = (stage: Component) => `"${ref('job-prefix')}${stage}"`;

function jobLines(stage: Component, inputs: Record<string, InputSpec>, context: JobContext): string[] {
  const job = STAGE_JOBS[stage];
  const lines = [
    ...context.note.map((line) => `# ${line}`),
    `${jobName(stage)}:`,
    `  stage: ${ref(context.stageInput)}`,
    `  image: ${ref('gantry-image')}`,
  ];
  if (job.interruptible)
    lines.push(...comment('  ', job.interruptible.note), `  interruptible: ${job.interruptible.value}`);
  if (context.needs.length > 0)
    lines.push('  needs:', ...context.needs.map((need) => `    - job: ${jobName(need)}`));
  if (job.environment)
    lines.push(
      ...(job.environment.note ?? []).map((line) => `  # ${line}`),
      '  environment:',
      `    name: ${ref(job.environment.name)}`,
      `    url: ${ref(job.environment.url)}`,
      `    action: ${job.environment.action}`,
    );
  lines.push(...comment('  ', job.variablesNote), '  variables:');
  const skipped = jobInputs(stage);
  for (const [input, spec] of Object.entries(inputs)) {
    if (skipped.includes(input)) continue;
    const array = spec.type === 'array';
    const wired = context.wired[input];
    if (input in job.fixed) throw new Error(`${templateFile(stage)}: ${input} is both an input and fixed`);
    lines.push(
      ...(wired
        ? variableLines(inputVariable(input), { text: wired.value, array }, wired.note)
        : variableLines(inputVariable(input), { ref: input, array })),
    );
  }
  for (const [flag, value] of Object.entries(job.fixed))
    lines.push(...variableLines(inputVariable(flag), { text: value, array: false }));
  lines.push('  script:', `    - gantry-gitlab ${stage}`, '  artifacts:', '    when: always');
  const exposeAs = job.artifacts.exposeAs;
  if (exposeAs) {
    if (!/^\w[-\w ]*$/.test(exposeAs.name))
      throw new Error(`${stage}: expose_as ${exposeAs.name} is refused by GitLab`);
    const bad = job.artifacts.paths.find((path) => path.includes('*'));
    if (bad) throw new Error(`${stage}: ${bad}: GitLab exposes no path with a glob`);
    lines.push(
      ...(exposeAs.note ?? []).map((line) => `    # ${line}`),
      `    expose_as: ${scalar(exposeAs.name)}`,
    );
  }
  lines.push(...comment('    ', job.artifacts.pathsNote), '    paths:');
  lines.push(...job.artifacts.paths.map((path) => `      - ${scalar(path)}`), '    reports:');
  for (const [report, path] of Object.entries(job.artifacts.reports))
    lines.push(`      ${report}: ${scalar(path)}`);
  return lines;
}

/** A stage template: its hand-written header and spec, then its job rendered from them and STAGE_JOBS. */
export function renderStageTemplate(stage: Component, current: string = readTemplate(stage)): string {
  const { head, inputs } = readStageSpec(stage, current);
  const job = jobLines(stage, inputs, {
    stageInput: 'stage',
    needs: [],
    wired: {},
    note: [...GENERATED_JOB_NOTE, ...(STAGE_JOBS[stage].note ?? [])],
  });
  return [...head, '---', ...job, ''].join('\n');
}

/** pipeline.yml's inputs, in order, with the comment that opens each group. */
export function pipelineInputs(
  specs: Record<Stage, StageSpec>,
): { name: string; spec: InputSpec; lines: string[]; group?: string }[] {
  // Where each input comes from: the pipeline's own, or the first stage that exposes it (the others must agree).
  const own = new Map<string, WrittenInput>(Object.entries(PIPELINE.own));
  for (const stage of STAGES) {
    const { input, description } = PIPELINE.jobs[stage].stage;
    const { stage: stageInput } = specs[stage].inputs;
    if (!stageInput) throw new Error(`${templateFile(stage)}: no stage input`);
    own.set(input, { description, default: stageInput.default });
    for (const wired of Object.keys(PIPELINE.jobs[stage].wired))
      if (!(wired in specs[stage].inputs))
        throw new Error(`pipeline: ${stage} wires ${wired}, not its input`);
  }
  const source = new Map<string, Stage>();
  for (const stage of STAGES) {
    for (const [input, spec] of Object.entries(specs[stage].inputs)) {
      if (input === 'stage' || input in PIPELINE.jobs[stage].wired) continue;
      if (own.has(input)) throw new Error(`pipeline: ${input} is both its own input and ${stage}'s`);
      const first = source.get(input);
      if (!first) source.set(input, stage);
      else if (
        !isDeepStrictEqual({ ...specs[first].inputs[input], description: '' }, { ...spec, description: '' })
      )
        throw new Error(
          `pipeline: ${first}.yml and ${stage}.yml declare ${input} differently; it is one input`,
        );
    }
  }
  const out: { name: string; spec: InputSpec; lines: string[]; group?: string }[] = [];
  const placed = new Set<string>();
  const place = (name: string, group?: string) => {
    if (placed.has(name)) return;
    placed.add(name);
    const mine = own.get(name);
    if (mine) {
      out.push({
        name,
        spec: { ...mine, description: descriptionText(mine.description) },
        lines: inputLines(name, mine),
        group,
      });
      return;
    }
    const stage = source.get(name);
    if (!stage) throw new Error(`pipeline: no stage template declares ${name}`);
    const description = PIPELINE.descriptions[name];
    const block = specs[stage].blocks.get(name)!;
    const spec = specs[stage].inputs[name]!;
    out.push(
      description === undefined
        ? { name, spec, lines: block, group }
        : {
            name,
            spec: { ...spec, description: descriptionText(description) },
            lines: withDescription(block, description),
            group,
          },
    );
  };
  for (const name of PIPELINE.first) place(name);
  for (const stage of STAGES) {
    let group: string | undefined = stage;
    for (const input of Object.keys(specs[stage].inputs)) {
      const wired = PIPELINE.jobs[stage].wired[input];
      const name = wired ? wired.input : input === 'stage' ? undefined : input;
      if (!name || placed.has(name) || PIPELINE.last.inputs.includes(name)) continue;
      place(name, group);
      group = undefined;
    }
  }
  PIPELINE.last.inputs.forEach((name, i) => {
    place(name, i === 0 ? PIPELINE.last.comment : undefined);
  });
  for (const name of Object.keys(PIPELINE.descriptions))
    if (!source.has(name)) throw new Error(`pipeline: a description for ${name}, which no stage exposes`);
  const unplaced = [...own.keys(), ...source.keys()].filter((name) => !placed.has(name));
  if (unplaced.length > 0)
    throw new Error(`pipeline: inputs not placed in spec:inputs: ${unplaced.join(', ')}`);
  return out;
}

/** pipeline.yml: the four stage templates' inputs and jobs, chained as PIPELINE says. */
export function renderPipeline(read: (stage: Stage) => string = readTemplate): string {
  const specs = Object.fromEntries(
    STAGES.map((stage) => [stage, readStageSpec(stage, read(stage))]),
  ) as Record<Stage, StageSpec>;
  const inputs = pipelineInputs(specs);
  const lines = [...GENERATED_PIPELINE_NOTE, ...PIPELINE.header].map((line) => `# ${line}`);
  lines.push('spec:', '  inputs:');
  for (const input of inputs) lines.push(...comment('    ', input.group), ...input.lines);
  lines.push('---');
  STAGES.forEach((stage, i) => {
    const job = PIPELINE.jobs[stage];
    if (i > 0) lines.push('');
    lines.push(
      ...jobLines(stage, specs[stage].inputs, {
        stageInput: job.stage.input,
        needs: job.needs,
        wired: job.wired,
        note: i === 0 ? PIPELINE.jobsNote : [],
      }),
    );
  });
  const text = `${lines.join('\n')}\n`;
  // The inputs were copied as text; what GitLab reads must be what was meant.
  const [header] = yaml.loadAll(text) as [{ spec: { inputs: Record<string, InputSpec> } }];
  const expected = Object.fromEntries(inputs.map((input) => [input.name, input.spec]));
  if (!isDeepStrictEqual(header.spec.inputs, expected))
    throw new Error('pipeline: spec:inputs did not read back');
  return text;
}
