/**
 * `gantry-gitlab <command>`: the one step of every job in gitlab/templates (bundled to dist/gitlab.js).
 * Reads the job's `GANTRY_INPUT_*` variables, runs `gantry <command> --json`, writes `gantry-<command>.json`
 * and the dotenv report `gantry-<command>.env`, and exits with gantry's exit code.
 */
import { COMMANDS as ALL_COMMANDS, type CommandName } from '../../config/options.js';
import { runGitLabJob } from './job.js';

/** What gantry-gitlab runs: every command but sbom, which no GitLab component has (sign --sbom writes one). */
const COMMANDS: readonly CommandName[] = ALL_COMMANDS.filter((command) => command !== 'sbom');

const USAGE = `usage: gantry-gitlab <${COMMANDS.join('|')}>

Runs \`gantry <command> --json\` with the flags given by the GANTRY_INPUT_<FLAG> variables that the Gantry
GitLab components set (one per input), writes gantry-<command>.json and the dotenv report gantry-<command>.env
in the current directory, and exits with gantry's exit code.`;

async function main(argv: string[]): Promise<number> {
  const command = argv[0];
  if (command === '--help' || command === '-h') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (argv.length !== 1 || !COMMANDS.includes(command as CommandName)) {
    process.stderr.write(
      `gantry-gitlab: expected one command (${COMMANDS.join('|')}), got ${JSON.stringify(argv.join(' '))}\n`,
    );
    return 2;
  }
  return runGitLabJob(command as CommandName, { env: process.env, cwd: process.cwd() });
}

process.exitCode = await main(process.argv.slice(2));
