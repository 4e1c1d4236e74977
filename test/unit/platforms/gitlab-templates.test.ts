import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import {
  type Component,
  PIPELINE_FILE,
  renderPipeline,
  renderStageTemplate,
  type Stage,
  templateFile,
} from '../../../scripts/gitlab-templates.js';
import { type CommandName, type OptionSpec, optionsFor } from '../../../src/config/options.js';
import { configSchema } from '../../../src/config/schema.js';
import { dotenvFile, inputVariable, resultFile } from '../../../src/platforms/gitlab.js';

// The components are YAML, so their mapping onto the CLI is checked here against the options table: every flag
// of a command is an input of the same type (unless the template fixes it), every input reaches gantry through
// its GANTRY_INPUT_* variable and never through the script, and pipeline.yml stays the four templates chained.
// The jobs are generated (scripts/gitlab-templates.ts, `npm run docs`); these checks do not trust the generator.

const templatesDir = resolve(import.meta.dirname, '..', '..', '..', 'gitlab', 'templates');

interface InputSpec {
  description?: string;
  type?: 'string' | 'boolean' | 'number' | 'array';
  default?: unknown;
  options?: unknown[];
  regex?: string;
}
type Job = Record<string, unknown> & {
  variables: Record<string, string | { value: string; expand: boolean }>;
  script: string[];
  artifacts: { when?: string; paths: string[]; reports: Record<string, string> };
};
interface Template {
  inputs: Record<string, InputSpec>;
  jobs: Record<string, Job>;
  text: string;
}

function load(name: string): Template {
  const text = readFileSync(resolve(templatesDir, `${name}.yml`), 'utf8');
  const docs = yaml.loadAll(text) as Record<string, unknown>[];
  expect(docs, `${name}.yml: a spec header and the jobs`).toHaveLength(2);
  const [header, body] = docs as [{ spec: { inputs: Record<string, InputSpec> } }, Record<string, Job>];
  expect(Object.keys(header)).toEqual(['spec']);
  expect(Object.keys(header.spec)).toEqual(['inputs']);
  return { inputs: header.spec.inputs, jobs: body, text };
}

const STAGE_COMMANDS = ['build', 'scan', 'push', 'sign', 'verify', 'deploy'] as const;
type StageCommand = (typeof STAGE_COMMANDS)[number];
/** The components pipeline.yml chains (sign and verify are composed by hand: gitlab/README.md). */
const PIPELINE_STAGES = ['build', 'scan', 'push', 'deploy'] as const;

/** Inputs every component has besides the command's flags. */
const META_INPUTS = ['stage', 'job-prefix', 'gantry-image', 'config'];
/** Inputs only the deploy component has: its GitLab environment and the merge-request note. */
const DEPLOY_INPUTS = ['environment', 'environment-url', 'gitlab-token'];
/** Inputs a job's own keywords use (its name, stage, image, environment): they are not gantry's. */
const KEYWORD_INPUTS = ['stage', 'job-prefix', 'gantry-image', 'environment', 'environment-url'];
/** Flags a template sets itself: report paths GitLab reads, and SARIF, which is GitHub's. */
const FIXED_FLAGS: Record<StageCommand, Record<string, string | undefined>> = {
  build: {},
  scan: {
    'gitlab-report': 'gl-container-scanning-report.json',
    junit: 'gantry-scan.junit.xml',
    markdown: 'gantry-scan.md',
    sarif: undefined,
  },
  push: {},
  sign: { 'sbom-output': 'gantry-sbom.cdx.json' },
  verify: {},
  deploy: { report: 'gantry-rollout' },
};
/** Keywords that would change the including pipeline, not just add jobs. */
const GLOBAL_KEYWORDS = [
  'default',
  'include',
  'stages',
  'variables',
  'workflow',
  'image',
  'services',
  'cache',
  'before_script',
  'after_script',
  'spec',
];

const INPUT_TYPE: Record<OptionSpec['type'], InputSpec['type']> = {
  string: 'string',
  boolean: 'boolean',
  number: 'number',
  list: 'array',
  map: 'array',
};

const typeOf = (spec: InputSpec) => spec.type ?? 'string';
/**
 * The input type of an option: its own, but a number without a built-in default is a string input (GitLab
 * requires a number input that has no default; empty means unset).
 */
const inputType = (option: OptionSpec) =>
  option.type === 'number' && builtInDefault(option.path) === undefined ? 'string' : INPUT_TYPE[option.type];
const ref = (input: string) => `$[[ inputs.${input} ]]`;

function builtInDefault(path: string): unknown {
  let node: unknown = configSchema.parse({});
  for (const key of path.split('.')) node = (node as Record<string, unknown>)[key];
  return node;
}

/** The variable that carries a flag input, as the templates must write it. */
function expectedVariable(option: OptionSpec, input: string): unknown {
  return INPUT_TYPE[option.type] === 'array' ? { value: `${ref(input)}\n`, expand: false } : ref(input);
}

const ALL = ['build', 'scan', 'push', 'sign', 'verify', 'deploy', 'pipeline'] as const;

describe.each(ALL)('gitlab/templates/%s.yml', (name) => {
  const template = load(name);

  it('declares typed, described inputs whose defaults fit their type and options', () => {
    for (const [input, spec] of Object.entries(template.inputs)) {
      expect(spec.description, input).toMatch(/\S/);
      expect(['string', 'boolean', 'number', 'array'], input).toContain(typeOf(spec));
      if ('default' in spec) {
        const actual = Array.isArray(spec.default) ? 'array' : typeof spec.default;
        expect(actual, `${input} default`).toBe(typeOf(spec));
        if (spec.options) expect(spec.options, `${input} options`).toContain(spec.default);
        if (spec.regex)
          expect(String(spec.default), `${input} default vs regex`).toMatch(new RegExp(spec.regex));
      }
    }
  });

  it('uses every input it declares and no other', () => {
    const used = new Set([...template.text.matchAll(/\$\[\[\s*inputs\.([\w-]+)\s*\]\]/g)].map((m) => m[1]!));
    expect([...used].sort()).toEqual(Object.keys(template.inputs).sort());
  });

  it('adds jobs only: no global keywords, every job named by the prefix and staged by an input', () => {
    for (const [key, job] of Object.entries(template.jobs)) {
      expect(GLOBAL_KEYWORDS).not.toContain(key);
      expect(key).toMatch(/^\$\[\[ inputs\.job-prefix \]\](build|scan|push|sign|verify|deploy)$/);
      expect(String(job.stage)).toMatch(/^\$\[\[ inputs\.[\w-]*stage \]\]$/);
      expect(job.image).toBe(ref('gantry-image'));
    }
  });

  it('runs gantry-gitlab only; no input is pasted into a script', () => {
    for (const [key, job] of Object.entries(template.jobs)) {
      const command = key.replace(/^.*\]\]/, '');
      expect(job.script).toEqual([`gantry-gitlab ${command}`]);
      expect(job).not.toHaveProperty('before_script');
      expect(job).not.toHaveProperty('after_script');
    }
  });

  it('keeps the result, and reports the dotenv file gantry-gitlab writes, even when the job fails', () => {
    for (const [key, job] of Object.entries(template.jobs)) {
      const command = key.replace(/^.*\]\]/, '') as CommandName;
      expect(job.artifacts.when).toBe('always');
      expect(job.artifacts.paths).toContain(resultFile(command));
      expect(job.artifacts.reports.dotenv).toBe(dotenvFile(command));
    }
  });
});

describe.each(STAGE_COMMANDS)(
  'gitlab/templates/%s.yml maps 1:1 onto the gantry command of that name',
  (command) => {
    const template = load(command);
    const job = Object.values(template.jobs)[0]!;
    const fixed = FIXED_FLAGS[command];
    const flagInputs = optionsFor(command).filter((o) => !(o.flag in fixed));

    it('has one input per flag, of the flag type, plus the component inputs', () => {
      const expected = [
        ...META_INPUTS,
        ...(command === 'deploy' ? DEPLOY_INPUTS : []),
        ...flagInputs.map((o) => o.flag),
      ];
      expect(Object.keys(template.inputs).sort()).toEqual(expected.sort());
      for (const option of flagInputs) {
        expect(typeOf(template.inputs[option.flag]!), option.flag).toBe(inputType(option));
      }
    });

    it('passes each flag input through its GANTRY_INPUT_* variable, arrays unexpanded (gantry-gitlab expands them)', () => {
      expect(job.variables[inputVariable('config')]).toBe(ref('config'));
      for (const option of flagInputs) {
        expect(job.variables[inputVariable(option.flag)], option.flag).toEqual(
          expectedVariable(option, option.flag),
        );
      }
      for (const [flag, value] of Object.entries(fixed)) {
        expect(job.variables[inputVariable(flag)], flag).toBe(value);
      }
    });

    it('passes every other input to gantry as its variable, and sets nothing else but the fixed flags', () => {
      const expected = [
        ...Object.keys(template.inputs).filter((input) => !KEYWORD_INPUTS.includes(input)),
        ...Object.entries(fixed)
          .filter(([, value]) => value !== undefined)
          .map(([flag]) => flag),
      ].map(inputVariable);
      expect(Object.keys(job.variables)).toEqual(expected);
    });

    it('defaults booleans and numbers to Gantry own defaults, so gantry.yml still applies (build push aside)', () => {
      for (const option of flagInputs.filter((o) => o.type === 'boolean' || o.type === 'number')) {
        if (command === 'build' && option.flag === 'push') continue;
        // A number with no default of its own (a policy limit that is off unless set) is an empty string.
        const fallback = builtInDefault(option.path) ?? (option.type === 'number' ? '' : undefined);
        expect(template.inputs[option.flag]!.default, option.flag).toEqual(fallback);
      }
    });

    it('reads the reports it declares from the paths it gives gantry', () => {
      if (command !== 'scan') return;
      expect(job.artifacts.reports.container_scanning).toBe(fixed['gitlab-report']);
      expect(job.artifacts.reports.junit).toBe(fixed.junit);
      expect(job.artifacts.paths).toEqual(
        expect.arrayContaining([fixed.markdown, fixed['gitlab-report'], fixed.junit]),
      );
    });
  },
);

describe.each(['deploy', 'pipeline'])(
  'gitlab/templates/%s.yml: the deploy job, where GitLab users look',
  (name) => {
    const job = Object.entries(load(name).jobs).find(([key]) => key.endsWith('deploy'))![1] as Job & {
      environment: Record<string, string>;
      artifacts: { expose_as?: string };
    };

    it('is a deployment to the environment (action start), its URL from environment-url', () => {
      // GitLab creates the deployment of a job with environment: (action start, the default) and sets its
      // status from the job's result; the Deployments API refuses to update such a deployment.
      expect(job.environment).toEqual({
        name: ref('environment'),
        url: ref('environment-url'),
        action: 'start',
      });
    });

    it('exposes the run report in the merge request, within what expose_as accepts, kept when the job fails', () => {
      expect(job.artifacts.when).toBe('always');
      expect(job.artifacts.expose_as).toBe('Gantry rollout report');
      // Checks of Gitlab::Ci::Config::Entry::Artifacts: the name, paths without globs, directories ending in /.
      expect(job.artifacts.expose_as).toMatch(/^\w[-\w ]*$/);
      expect(job.artifacts.paths).toEqual(['gantry-deploy.json', `${job.variables.GANTRY_INPUT_REPORT}/`]);
      for (const path of job.artifacts.paths) expect(path).not.toContain('*');
    });
  },
);

describe('the tool image', () => {
  it('every template runs in the tool image of the release it belongs to', () => {
    const { version } = JSON.parse(readFileSync(resolve(templatesDir, '..', '..', 'package.json'), 'utf8'));
    for (const name of ALL) {
      expect(load(name).inputs['gantry-image']!.default, name).toBe(
        `registry.gitlab.com/gantry/components/tool:${version}`,
      );
    }
  });
});

describe('gitlab/templates/pipeline.yml is the four stage templates chained', () => {
  const pipeline = load('pipeline');
  const jobName = (command: string) => `$[[ inputs.job-prefix ]]${command}`;
  /** What the pipeline wires itself instead of taking an input: the images between jobs, and push. */
  const WIRED: Record<(typeof PIPELINE_STAGES)[number], Record<string, unknown>> = {
    build: { push: 'true' },
    scan: { image: '$GANTRY_IMAGE_REF' },
    push: { image: '$GANTRY_IMAGE_REF' },
    deploy: { image: { value: `["${ref('container')}=$GANTRY_PUSH_IMAGE_REF"]\n`, expand: false } },
  };

  it.each(PIPELINE_STAGES)(
    '%s: same inputs (type, default, options) and the same job variables',
    (command) => {
      const stage = load(command);
      const stageJob = Object.values(stage.jobs)[0]!;
      const job = pipeline.jobs[jobName(command)]!;
      for (const [input, spec] of Object.entries(stage.inputs)) {
        if (input === 'stage' || input in WIRED[command]) continue;
        const mine = pipeline.inputs[input];
        expect(mine, input).toBeDefined();
        expect(typeOf(mine!), input).toBe(typeOf(spec));
        expect(mine!.options, input).toEqual(spec.options);
        expect(mine!.regex, input).toEqual(spec.regex);
        // The pipeline requires what it cannot do without (the destinations in `to`); every other default is the stage's.
        if ('default' in mine!) expect(mine!.default, input).toEqual(spec.default);
      }
      const expected = { ...stageJob.variables };
      for (const [flag, value] of Object.entries(WIRED[command]))
        expected[inputVariable(flag)] = value as string;
      expect(job.variables).toEqual(expected);
      expect(job.artifacts).toEqual(stageJob.artifacts);
      expect(job.interruptible).toBe(stageJob.interruptible);
      if (command === 'deploy') expect(job.environment).toEqual(stageJob.environment);
    },
  );

  it('chains the jobs with needs, so only a scanned digest is pushed and deployed', () => {
    const needs = (command: string) =>
      (pipeline.jobs[jobName(command)]!.needs as { job: string }[] | undefined)?.map((n) => n.job);
    expect(needs('build')).toBeUndefined();
    expect(needs('scan')).toEqual([jobName('build')]);
    expect(needs('push')).toEqual([jobName('build'), jobName('scan')]);
    expect(needs('deploy')).toEqual([jobName('push')]);
  });

  it('exposes every stage input it does not wire, a stage input per job, the container, and nothing else', () => {
    const expected = new Set(['container']);
    for (const command of PIPELINE_STAGES) {
      const stage = load(command);
      expect(pipeline.inputs[`${command}-stage`]!.default, command).toBe(stage.inputs.stage!.default);
      expected.add(`${command}-stage`);
      for (const input of Object.keys(stage.inputs))
        if (input !== 'stage' && !(input in WIRED[command])) expected.add(input);
    }
    expect(Object.keys(pipeline.inputs).sort()).toEqual([...expected].sort());
  });

  it('requires the destinations, which have no sensible default; the manifests may come from gantry.yml', () => {
    expect(pipeline.inputs.to).not.toHaveProperty('default');
    expect(pipeline.inputs.manifests!.default).toEqual([]);
  });
});

describe('the jobs are generated from the stage templates (npm run docs)', () => {
  const read = (stage: Component) => readFileSync(resolve(templatesDir, `${stage}.yml`), 'utf8');

  it.each(STAGE_COMMANDS)('%s.yml: its job is what npm run docs writes from its spec:inputs', (stage) => {
    expect(read(stage), `${templateFile(stage)} is stale: run npm run docs`).toBe(
      renderStageTemplate(stage, read(stage)),
    );
  });

  it('pipeline.yml is what npm run docs writes from the four stage templates', () => {
    expect(load('pipeline').text, `${PIPELINE_FILE} is stale: run npm run docs`).toBe(renderPipeline(read));
  });

  /** The stage templates, one of them with these lines at the end of its spec:inputs. */
  const withInput = (stage: Stage, lines: string[]) => (name: Stage) =>
    name === stage ? read(name).replace('\n---\n', `\n${lines.join('\n')}\n---\n`) : read(name);

  it('a new input of a stage template reaches its job, and the pipeline, with no other edit', () => {
    const texts = withInput('build', [
      '    squash:',
      '      description: Squash the layers.',
      '      type: array',
      '      default: []',
    ]);
    const [, build] = yaml.loadAll(renderStageTemplate('build', texts('build'))) as Record<string, Job>[];
    expect(build![`${ref('job-prefix')}build`]!.variables.GANTRY_INPUT_SQUASH).toEqual({
      value: `${ref('squash')}\n`,
      expand: false,
    });
    const [header, jobs] = yaml.loadAll(renderPipeline(texts)) as [
      { spec: { inputs: Record<string, InputSpec> } },
      Record<string, Job>,
    ];
    expect(header.spec.inputs.squash).toEqual({
      description: 'Squash the layers.',
      type: 'array',
      default: [],
    });
    expect(jobs[`${ref('job-prefix')}build`]!.variables.GANTRY_INPUT_SQUASH).toEqual({
      value: `${ref('squash')}\n`,
      expand: false,
    });
  });

  it('refuses an input two stages declare differently: the pipeline has one input for both', () => {
    const texts = (name: Stage) =>
      name === 'push' ? read(name).replace(/(retries:[\s\S]*?default: )3/, '$15') : read(name);
    expect(() => renderPipeline(texts)).toThrow(/build\.yml and push\.yml declare retries differently/);
  });

  it('refuses a spec:inputs it cannot copy line by line', () => {
    const texts = withInput('scan', ['    # a comment']);
    expect(() => renderStageTemplate('scan', texts('scan'))).toThrow(/unexpected line in spec:inputs/);
  });
});
