/**
 * The inputs reference (docs/inputs.md), rendered from the one options table (src/config/options.ts) and
 * from what each front end declares: the GitHub actions' input tables (src/platforms/github/actions.ts), the
 * GitLab components' `spec:inputs` (gitlab/templates/*.yml) and the Jenkins library's option tables
 * (jenkins/src/dev/gantry/jenkins/Options.groovy). `npm run docs` writes it (scripts/gen-inputs.mjs);
 * test/unit/docs/inputs-reference.test.ts fails when the committed file differs, or when a front end declares
 * an input the options table does not know (or the other way round).
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import yaml from 'js-yaml';
import { COMMANDS, type CommandName, OPTIONS, type OptionSpec, optionsFor } from '../src/config/options.js';
import { configSchema } from '../src/config/schema.js';
import { ACTIONS } from '../src/platforms/github/actions.js';
import { ACTION_INPUT_DOCS, INPUT_DOCS, type InputDoc } from '../src/platforms/github/input-docs.js';

export const REPO = resolve(import.meta.dirname, '..');
export const REFERENCE_FILE = 'docs/inputs.md';

// ---------------------------------------------------------------------------------------------- sources

/** GitHub: action directory (`.` is the root action) → input name → the flag it sets, if any. */
export function githubInputs(): Record<
  string,
  Record<string, { flag?: string; commands?: readonly string[] }>
> {
  return Object.fromEntries(Object.entries(ACTIONS).map(([name, spec]) => [name, spec.inputs]));
}

/** The Gantry commands a GitHub action runs, to tell which option an input with a shared flag sets. */
export const GITHUB_COMMANDS: Record<keyof typeof ACTIONS, readonly CommandName[]> = {
  '.': ['build', 'scan', 'push', 'sign', 'deploy'],
  build: ['build'],
  scan: ['scan'],
  push: ['push'],
  sign: ['sign'],
  verify: ['verify'],
  deploy: ['deploy'],
  promote: ['promote'],
  abort: ['abort'],
};

export interface GitLabInput {
  description?: string;
  type?: string;
  default?: unknown;
}

/** GitLab: component name → its `spec:inputs`. */
export function gitlabInputs(): Record<string, Record<string, GitLabInput>> {
  const out: Record<string, Record<string, GitLabInput>> = {};
  for (const name of ['build', 'scan', 'push', 'sign', 'verify', 'deploy', 'pipeline']) {
    const text = readFileSync(join(REPO, 'gitlab', 'templates', `${name}.yml`), 'utf8');
    const [header] = yaml.loadAll(text) as { spec: { inputs: Record<string, GitLabInput> } }[];
    out[name] = header!.spec.inputs;
  }
  return out;
}

export interface JenkinsOptions {
  /** command → map key → CLI flag. */
  cli: Record<string, Record<string, string>>;
  /** Library options (not CLI flags): key → [type, comment]. */
  wrapper: Record<string, { type: string; description: string }>;
}

/** Jenkins: the tables of Options.groovy, read as text (the library is Groovy, compiled by Jenkins). */
export function jenkinsOptions(): JenkinsOptions {
  const text = readFileSync(
    join(REPO, 'jenkins', 'src', 'dev', 'gantry', 'jenkins', 'Options.groovy'),
    'utf8',
  );
  const cliBlock = /static final Map<String, Map<String, List>> CLI = \[([\s\S]*?)\n {4}\]\n/.exec(text)?.[1];
  if (!cliBlock) throw new Error('Options.groovy: no CLI table');
  const cli: JenkinsOptions['cli'] = {};
  let command: string | undefined;
  for (const line of cliBlock.split('\n')) {
    const section = /^ {8}(\w+): \[$/.exec(line);
    if (section) {
      command = section[1]!;
      cli[command] = {};
      continue;
    }
    const entry = /^ {12}(\w+): \['([a-z0-9-]+)'/.exec(line);
    if (entry && command) cli[command]![entry[1]!] = entry[2]!;
  }
  const wrapper: JenkinsOptions['wrapper'] = {};
  for (const block of text.matchAll(/static final Map<String, String> \w+ = \[([\s\S]*?)\n {4}\]\n/g)) {
    for (const line of block[1]!.split('\n')) {
      const entry = /^\s+(\w+): '([\w-]+)',?\s*(?:\/\/\s*(.*))?$/.exec(line);
      if (entry) wrapper[entry[1]!] = { type: entry[2]!, description: (entry[3] ?? '').trim() };
    }
  }
  return { cli, wrapper };
}

// ---------------------------------------------------------------------------------------------- mapping

const code = (text: string) => `\`${text}\``;
const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The GitHub inputs that set an option, as `name` or `name` (actions) when actions spell it differently. */
export function githubNamesFor(option: OptionSpec): Map<string, string[]> {
  const names = new Map<string, string[]>();
  for (const [action, inputs] of Object.entries(githubInputs())) {
    const commands = GITHUB_COMMANDS[action as keyof typeof ACTIONS];
    for (const [name, input] of Object.entries(inputs)) {
      if (input.flag !== option.flag) continue;
      const reaches = (input.commands ?? commands).filter(
        (c) => commands.includes(c as CommandName) && option.commands.includes(c as CommandName),
      );
      if (reaches.length === 0) continue;
      names.set(name, [...(names.get(name) ?? []), action === '.' ? 'root' : action]);
    }
  }
  return names;
}

/** The GitLab stage components that take an option as an input of the flag's name (`pipeline` has them all). */
export function gitlabComponentsFor(option: OptionSpec): string[] {
  const inputs = gitlabInputs();
  return (['build', 'scan', 'push', 'sign', 'verify', 'deploy'] as const).filter(
    (component) => option.commands.includes(component) && option.flag in inputs[component]!,
  );
}

/** The Jenkins map keys that set an option (camelCase of the flag, per step). */
export function jenkinsKeysFor(option: OptionSpec): string[] {
  const { cli } = jenkinsOptions();
  const keys = new Set<string>();
  for (const command of option.commands) {
    for (const [key, flag] of Object.entries(cli[command] ?? {})) if (flag === option.flag) keys.add(key);
  }
  return [...keys];
}

let defaults: unknown;
function defaultOf(option: OptionSpec): string {
  defaults ??= configSchema.parse({});
  let node = defaults;
  for (const key of option.path.split('.')) node = (node as Record<string, unknown> | undefined)?.[key];
  if (node === undefined) return '';
  if (option.valueName === 'duration' && typeof node === 'number') return code(duration(node));
  if (Array.isArray(node)) return node.length === 0 ? '' : code(node.map(listItem).join(','));
  if (typeof node === 'object')
    return Object.keys(node as object).length === 0 ? '' : code(JSON.stringify(node));
  if (node === '') return '';
  return code(String(node));
}

/** A default list's item as the flag writes it: canary steps (`{weight: 10}`) as their weight. */
function listItem(item: unknown): string {
  if (typeof item === 'object' && item !== null && 'weight' in item) return String(item.weight);
  return String(item);
}

function duration(ms: number): string {
  if (ms === 0) return '0s';
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

function flagOf(option: OptionSpec): string {
  if (option.type === 'boolean') return `${code(`--${option.flag}`)} / ${code(`--no-${option.flag}`)}`;
  return code(`--${option.flag} ${option.valueName ?? 'value'}`);
}

function typeOf(option: OptionSpec): string {
  if (option.valueName === 'duration') return 'duration (`30s`, `2m`)';
  if (option.type === 'list') return option.items ? `list of ${option.items}` : 'list';
  if (option.type === 'map') return 'map (`KEY=value`)';
  return option.type;
}

function githubCell(option: OptionSpec): string {
  const names = githubNamesFor(option);
  if (names.size === 0) return '—';
  if (names.size === 1) return code([...names.keys()][0]!);
  return [...names.entries()].map(([name, actions]) => `${code(name)} (${actions.join(', ')})`).join('<br>');
}

function gitlabCell(option: OptionSpec): string {
  const components = gitlabComponentsFor(option);
  return components.length === 0 ? '—' : code(option.flag);
}

function jenkinsCell(option: OptionSpec): string {
  const keys = jenkinsKeysFor(option);
  return keys.length === 0 ? '—' : keys.map(code).join(', ');
}

// ---------------------------------------------------------------------------------------------- render

const SECTIONS: { title: string; commands: readonly CommandName[] }[] = [
  { title: 'Build', commands: ['build'] },
  { title: 'Scan', commands: ['scan'] },
  { title: 'SBOM', commands: ['sbom'] },
  { title: 'Push', commands: ['push'] },
  { title: 'Sign, verify', commands: ['sign', 'verify'] },
  { title: 'Deploy, status, promote, abort', commands: ['deploy', 'status', 'promote', 'abort'] },
  { title: 'Registry (build, scan, sbom, push, sign, verify)', commands: [] },
];

function sectionOf(option: OptionSpec): string {
  if (option.path.startsWith('registry.')) return SECTIONS.at(-1)!.title;
  return SECTIONS.find((s) => s.commands.includes(option.commands[0]!))!.title;
}

function optionTable(options: readonly OptionSpec[]): string[] {
  const lines = [
    '| gantry.yml | CLI flag | GitHub input | GitLab input | Jenkins key | type | default | commands | description |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const option of options) {
    lines.push(
      `| ${[
        code(option.path),
        flagOf(option),
        githubCell(option),
        gitlabCell(option),
        jenkinsCell(option),
        typeOf(option),
        defaultOf(option),
        option.commands.join(', '),
        option.description,
      ]
        .map(cell)
        .join(' | ')} |`,
    );
  }
  return lines;
}

/** Inputs of the wrappers that are not Gantry options: credentials, wiring, reports the platform reads. */
function wrapperTables(): string[] {
  const lines: string[] = ['## Platform-only inputs', ''];
  lines.push(
    'These belong to one platform (credentials, how jobs are wired, reports the platform reads) and have no',
    '`gantry.yml` key.',
    '',
    '**GitHub** (action inputs without a Gantry flag):',
    '',
    '| input | actions | description |',
    '|---|---|---|',
  );
  const github = new Map<string, { actions: string[]; description: string }>();
  for (const [action, inputs] of Object.entries(githubInputs())) {
    for (const [name, input] of Object.entries(inputs)) {
      if (input.flag) continue;
      const description = inputDoc(action as keyof typeof ACTIONS, name).description;
      const entry = github.get(name) ?? { actions: [], description };
      entry.actions.push(action === '.' ? 'root' : action);
      github.set(name, entry);
    }
  }
  for (const [name, { actions, description }] of github) {
    lines.push(`| ${code(name)} | ${actions.join(', ')} | ${cell(description)} |`);
  }

  lines.push('', '**GitLab** (component inputs that are not a flag of the command):', '');
  lines.push('| input | components | description |', '|---|---|---|');
  const gitlab = new Map<string, { components: string[]; description: string }>();
  const flags = new Set(OPTIONS.map((o) => o.flag));
  for (const [component, inputs] of Object.entries(gitlabInputs())) {
    for (const [name, input] of Object.entries(inputs)) {
      if (flags.has(name)) continue;
      const entry = gitlab.get(name) ?? { components: [], description: input.description ?? '' };
      entry.components.push(component);
      gitlab.set(name, entry);
    }
  }
  for (const [name, { components, description }] of gitlab) {
    lines.push(`| ${code(name)} | ${components.join(', ')} | ${cell(description.trim())} |`);
  }

  lines.push('', '**Jenkins** (library options, in every step that uses them):', '');
  lines.push('| key | type | description |', '|---|---|---|');
  for (const [key, { type, description }] of Object.entries(jenkinsOptions().wrapper)) {
    lines.push(`| ${code(key)} | ${type} | ${cell(description)} |`);
  }
  lines.push(
    '',
    '`gantryPipeline` adds `image` (the repository to build), `stages`, the sections `build:`, `scan:`, `push:`',
    'and `deploy:` (`scan: false` / `push: false` skip a stage), and `deploy.container`; see',
    'jenkins/vars/gantryPipeline.txt.',
  );
  return lines;
}

export function renderInputsReference(): string {
  const lines: string[] = [
    '<!-- Generated by `npm run docs` (scripts/gen-inputs.mjs) from src/config/options.ts, the GitHub action',
    '     tables, gitlab/templates/*.yml and jenkins/src/dev/gantry/jenkins/Options.groovy. Do not edit. -->',
    '# Inputs reference',
    '',
    'Every setting Gantry takes, once, and how each front end spells it. A value in `gantry.yml` is the default',
    'for every front end; a flag or input given explicitly wins. In `gantry.yml` a dotted key is nested',
    '(`scan.severityThreshold` is `scan:` → `severityThreshold:`); lists are YAML lists, maps YAML mappings.',
    '',
    '- **CLI**: `gantry <command> --flag value`; lists repeat the flag.',
    '- **GitHub**: `with:` of the root action (`uses: your-org/gantry@v0`) or of a stage action',
    '  (`your-org/gantry/actions/<stage>@v0`); lists are one item per line (or comma separated where noted in',
    '  action.yml). Where stages spell an input differently, the actions are named.',
    '- **GitLab**: `include: inputs:` of a component (`build`, `scan`, `push`, `deploy`, `pipeline`); lists are',
    '  arrays. Report paths GitLab reads are set by the components themselves.',
    '- **Jenkins**: the map keys of `gantryBuild`, `gantryScan`, `gantryPush`, `gantryDeploy`; in',
    "  `gantryPipeline` they go in the section of their stage (`scan: [severityThreshold: 'high']`).",
    '',
  ];
  for (const section of SECTIONS) {
    const options = OPTIONS.filter((o) => sectionOf(o) === section.title);
    if (options.length === 0) continue;
    lines.push(`## ${section.title}`, '', ...optionTable(options), '');
  }
  lines.push(...wrapperTables(), '');
  return lines.join('\n');
}

// ------------------------------------------------------------------------------------ generated tables

export const JENKINS_OPTIONS_FILE = 'jenkins/src/dev/gantry/jenkins/Options.groovy';
const JENKINS_TABLE_START = '    static final Map<String, Map<String, List>> CLI = [';
const JENKINS_TABLE_END = '\n    ]\n';

/** The Jenkins library's type for an option: its own names, and `latest` takes a boolean or a word. */
function jenkinsType(option: OptionSpec): string {
  if (option.type === 'string' && /(^|\|)true\|false($|\|)/.test(option.valueName ?? ''))
    return 'bool-or-string';
  return option.type;
}

/**
 * Options.groovy with its CLI table (cfg key → [flag, type, commaSeparated] per command) written from the
 * options table; the rest of the file (the library's own wrapper options) is kept as it is.
 */
export function renderJenkinsOptions(current: string): string {
  const start = current.indexOf(JENKINS_TABLE_START);
  const end = current.indexOf(JENKINS_TABLE_END, start);
  if (start < 0 || end < 0) throw new Error(`${JENKINS_OPTIONS_FILE}: the CLI table was not found`);
  const camel = (flag: string) => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
  const lines = [JENKINS_TABLE_START];
  for (const command of COMMANDS) {
    lines.push(`        ${command}: [`);
    for (const option of optionsFor(command)) {
      const comma = option.commaSeparated ? ', true' : '';
      lines.push(`            ${camel(option.flag)}: ['${option.flag}', '${jenkinsType(option)}'${comma}],`);
    }
    lines.push('        ],');
  }
  return `${current.slice(0, start)}${lines.join('\n')}${current.slice(end)}`;
}

/** The action.yml of an action (`.` is the root action), relative to the repository. */
export function actionFile(action: string): string {
  return action === '.' ? 'action.yml' : `actions/${action}/action.yml`;
}

/** What an action's input means: the action's own wording where it has one, else the input's. */
export function inputDoc(action: keyof typeof ACTIONS, input: string): InputDoc {
  const doc = ACTION_INPUT_DOCS[action]?.[input] ?? INPUT_DOCS[input];
  if (!doc) throw new Error(`src/platforms/github/input-docs.ts: no description of input "${input}"`);
  return doc;
}

/**
 * An action.yml with its `inputs:` block written from the action's table (src/platforms/github/actions.ts,
 * every flag of which is an option of src/config/options.ts) and the input texts; the rest of the file (name,
 * outputs, runs) is kept as it is. Every input is optional: gantry.yml may give any of them.
 */
export function renderActionInputs(action: keyof typeof ACTIONS, current: string): string {
  const start = current.indexOf('\ninputs:\n');
  const end = current.indexOf('\n\noutputs:\n', start);
  if (start < 0 || end < 0) throw new Error(`${actionFile(action)}: no inputs: block before outputs:`);
  const lines = ['', 'inputs:'];
  for (const name of Object.keys(ACTIONS[action].inputs)) {
    const doc = inputDoc(action, name);
    lines.push(`  ${name}:`, `    description: ${JSON.stringify(doc.description)}`, '    required: false');
    if (doc.default !== undefined) lines.push(`    default: ${doc.default}`);
  }
  return `${current.slice(0, start)}${lines.join('\n')}${current.slice(end)}`;
}
