import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, Option } from 'commander';
import type { CommandOutcome } from '../commands/outcome.js';
import type { RawInputs } from '../config/load.js';
import { type CommandName, OPTIONS, optionsFor } from '../config/options.js';
import { ExitCode, GantryError, InputError, messageOf, oneLine } from '../util/errors.js';
import { setQuiet } from '../util/log.js';
import { redact } from '../util/secrets.js';
import { VERSION } from '../version.js';
import { writeJson, writeJsonLine, writeSummary } from './output.js';

export interface GlobalOptions {
  json: boolean;
  config?: string;
  quiet: boolean;
}

type Handler = (raw: RawInputs, globals: GlobalOptions) => Promise<CommandOutcome>;

const commandOptions = (globals: GlobalOptions) => ({
  configPath: globals.config,
  // status --watch: a line per change as it happens; with --json one JSON object per line.
  onWatchLine: (line: object, text: string) => (globals.json ? writeJsonLine(line) : writeSummary(text)),
});

// Each command's code (the Kubernetes client for the rollout commands, the builders, scanners and registry
// client for the others) is imported when that command runs, so `gantry --help`, `--version` and every
// command start without loading what they do not use.
const build: Handler = async (raw, globals) =>
  (await import('../commands/build.js')).runBuildCommand(raw, commandOptions(globals));
const scan: Handler = async (raw, globals) =>
  (await import('../commands/scan.js')).runScanCommand(raw, commandOptions(globals));
const sbom: Handler = async (raw, globals) =>
  (await import('../commands/sbom.js')).runSbomCommand(raw, commandOptions(globals));
const push: Handler = async (raw, globals) =>
  (await import('../commands/push.js')).runPushCommand(raw, commandOptions(globals));
const sign: Handler = async (raw, globals) =>
  (await import('../commands/supply.js')).runSignCommand(raw, commandOptions(globals));
const verify: Handler = async (raw, globals) =>
  (await import('../commands/supply.js')).runVerifyCommand(raw, commandOptions(globals));
const deploy: Handler = async (raw, globals) =>
  (await import('../commands/deploy.js')).runDeployCommand(raw, commandOptions(globals));
const status: Handler = async (raw, globals) =>
  (await import('../commands/deploy.js')).runStatusCommand(raw, commandOptions(globals));
const control =
  (action: 'promote' | 'abort'): Handler =>
  async (raw, globals) =>
    (await import('../commands/deploy.js')).runControlCommand(action)(raw, commandOptions(globals));

const COMMANDS: Record<CommandName, { summary: string; handler: Handler }> = {
  build: {
    summary: 'Build an image from a context (buildah or buildx), tag it from the git context',
    handler: build,
  },
  scan: {
    summary: 'Scan an image for vulnerabilities, secrets and misconfigurations; gate on severity',
    handler: scan,
  },
  sbom: {
    summary:
      'Write the SBOM of an image (CycloneDX or SPDX JSON, by trivy) from where it waits or its registry',
    handler: sbom,
  },
  push: {
    summary: 'Push a local image, or copy a registry image by digest, to one or more registries',
    handler: push,
  },
  sign: {
    summary:
      'Sign an image digest and attach attestations, as cosign v3 stores them (bundles as OCI referrers)',
    handler: sign,
  },
  verify: {
    summary:
      'Verify an image digest: a signature with the public key, and the required attestations (exit 1 if not)',
    handler: verify,
  },
  deploy: {
    summary: 'Roll out by digest (rolling, canary, blue-green) with metric analysis and automatic rollback',
    handler: deploy,
  },
  status: {
    summary: 'Show the rollout of a Deployment: phase, step, weight, stable and canary',
    handler: status,
  },
  promote: {
    summary: 'Ask the running rollout to end its current step now, skip the rest, and promote',
    handler: control('promote'),
  },
  abort: {
    summary: 'Abort a rollout: the new version is taken out of traffic and removed',
    handler: control('abort'),
  },
};

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

const camel = (flag: string) => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

export function buildProgram(onOutcome: (code: number) => void): Command {
  const program = new Command('gantry')
    .description('Build, scan, push and progressively roll out container images.')
    .version(process.env.GANTRY_VERSION ?? VERSION)
    .option('--json', 'print exactly one JSON object on stdout (logs stay on stderr)', false)
    .option(
      '--config <file>',
      'gantry.yml supplying defaults for every flag (default: ./gantry.yml if present)',
    )
    .option('--quiet', 'only warnings and errors on stderr', false)
    .showHelpAfterError(false)
    .exitOverride()
    .configureOutput({ writeErr: () => {} });
  program.addHelpText(
    'after',
    '\nExit codes: 0 success, 1 gate failed, 2 invalid input, 3 infrastructure error, 4 rollback failed.',
  );

  for (const [name, { summary, handler }] of Object.entries(COMMANDS) as [
    CommandName,
    (typeof COMMANDS)[CommandName],
  ][]) {
    const command = program
      .command(name)
      .description(summary)
      .exitOverride()
      .configureOutput({ writeErr: () => {} });
    for (const spec of optionsFor(name)) {
      const flags = `--${spec.flag}${spec.type === 'boolean' ? '' : ` <${spec.valueName ?? 'value'}>`}`;
      const option = new Option(flags, spec.description);
      if (spec.type === 'list' || spec.type === 'map') option.argParser(collect);
      command.addOption(option);
      if (spec.type === 'boolean') command.addOption(new Option(`--no-${spec.flag}`).hideHelp());
    }
    command.action(async (opts: Record<string, unknown>) => {
      const globals = program.opts<GlobalOptions>();
      setQuiet(Boolean(globals.quiet));
      const raw: RawInputs = {};
      for (const spec of optionsFor(name)) raw[spec.flag] = opts[camel(spec.flag)] as RawInputs[string];
      const outcome = await handler(raw, globals);
      if (outcome.streamed) {
        // Written line by line already.
      } else if (globals.json) writeJson(outcome.result);
      else writeSummary(outcome.summary);
      onOutcome(outcome.forceExitCode ?? outcome.exitCode);
    });
  }
  program
    .command('demo')
    .description('Tell the whole story on the local sandbox (run from a clone of the Gantry repository)')
    .exitOverride()
    .configureOutput({ writeErr: () => {} })
    .action(async () => {
      onOutcome(await runDemo());
    });
  return program;
}

/**
 * `gantry demo`: starts the local sandbox and runs build → scan → push → a canary promoted → a bad release rolled
 * back. The sandbox lives in the repository (scripts/, test/bed/), so the demo runs from a clone.
 */
async function runDemo(): Promise<number> {
  const script = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'scripts', 'demo.mjs');
  if (!existsSync(script)) {
    throw new InputError(
      'demo',
      `the demo runs from a clone of the Gantry repository (${script} not found); use \`npm run demo\` there`,
    );
  }
  const child = spawn(process.execPath, [script], { stdio: 'inherit' });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on('SIGINT', forward).on('SIGTERM', forward);
  const code = await new Promise<number>((done) => child.on('exit', (c) => done(c ?? ExitCode.infra)));
  process.off('SIGINT', forward).off('SIGTERM', forward);
  return code;
}

/** Runs the CLI and returns the exit code; every error becomes one line on stderr (and a JSON error with --json). */
export async function main(argv: string[]): Promise<number> {
  let code: number = ExitCode.ok;
  const program = buildProgram((c) => {
    code = c;
  });
  const wantsJson = argv.includes('--json') && (argv.includes('--watch') ? 'lines' : true);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (
        error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version' ||
        error.code === 'commander.help'
      ) {
        return ExitCode.ok;
      }
      const stray = error.code === 'commander.excessArguments' ? strayArgument(argv) : undefined;
      return fail(stray ?? commanderMessage(error), ExitCode.input, wantsJson);
    }
    if (error instanceof GantryError) return fail(error.message, error.exitCode, wantsJson);
    return fail(`internal error: ${messageOf(error)}`, ExitCode.infra, wantsJson);
  }
}

const GLOBAL_VALUE_FLAGS = new Set(['--config']);

/**
 * Names the input behind an argument that belongs to no flag (commander only says "too many arguments"):
 * usually a value given to a boolean flag (`--ignore-unfixed maybe`), else a value whose flag is missing.
 */
export function strayArgument(argv: readonly string[]): string | undefined {
  let command: CommandName | undefined;
  let previous: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (token.startsWith('-')) {
      previous = token;
      if (token.includes('=')) continue;
      const flag = token.replace(/^--(no-)?/, '');
      const spec = command ? optionsFor(command).find((o) => o.flag === flag) : undefined;
      const takesValue =
        (spec !== undefined && spec.type !== 'boolean' && !token.startsWith('--no-')) ||
        GLOBAL_VALUE_FLAGS.has(token);
      if (takesValue) {
        i++;
        previous = undefined;
      }
      continue;
    }
    if (command === undefined && token in COMMANDS) {
      command = token as CommandName;
      previous = undefined;
      continue;
    }
    if (previous !== undefined) {
      const flag = previous.replace(/^--(no-)?/, '');
      return `${previous}: takes no value, got ${JSON.stringify(token)} (write --${flag} or --no-${flag})`;
    }
    return `unexpected argument ${JSON.stringify(token)}: every value follows its flag (--flag value)`;
  }
  return undefined;
}

function commanderMessage(error: CommanderError): string {
  const text = oneLine(error.message.replace(/^error:\s*/, ''));
  const option = /option '([^']+)'/.exec(text)?.[1];
  return option ? `${option.split(' ')[0]}: ${text}` : text;
}

function fail(message: string, exitCode: number, json: boolean | 'lines'): number {
  const line = redact(oneLine(message));
  process.stderr.write(`gantry: ${line}\n`);
  // status --watch --json writes JSON lines: the error is one more line.
  if (json === 'lines') writeJsonLine({ error: line, exitCode });
  else if (json) writeJson({ error: line, exitCode });
  return exitCode;
}

/** Flags known to any command, for wrappers that validate input names up front. */
export const KNOWN_FLAGS = new Set(OPTIONS.map((o) => o.flag));
