/**
 * The GitLab platform adapter: what the components in gitlab/templates need from the core, and nothing else.
 *
 * - inputs: the `GANTRY_INPUT_*` job variables a template sets → the `gantry` argument array (no shell);
 * - outputs: a command's JSON result → a `reports: dotenv` file for the jobs that follow;
 * - merge requests: the rollout report as a note (@gitbeaker/rest);
 * - job: the three together, run by `gantry-gitlab <command>` (src/platforms/gitlab/main.ts, dist/gitlab.js).
 */

// ---------------------------------------------------------------------------------------------------------
// Inputs

export {
  displayCommand,
  type Env,
  expandVariables,
  flagsForInput,
  gantryArgs,
  inputVariable,
  parseArrayInput,
} from './gitlab/inputs.js';

// ---------------------------------------------------------------------------------------------------------
// Outputs

export {
  DOTENV_MAX_VALUE_LENGTH,
  DOTENV_MAX_VARIABLES,
  type Outputs,
  outputsFor,
  renderDotenv,
} from './gitlab/outputs.js';

// ---------------------------------------------------------------------------------------------------------
// Merge requests

export {
  artifactFileUrl,
  deploymentStatus,
  type MergeRequestNoteOptions,
  markdownUrl,
  mergeRequestNoteBody,
  mergeRequestTarget,
  type NoteContext,
  postMergeRequestNote,
} from './gitlab/merge-request.js';

// ---------------------------------------------------------------------------------------------------------
// Jobs

export {
  dotenvFile,
  type JobOptions,
  jobUrlOf,
  reportFiles,
  resultFile,
  runGitLabJob,
} from './gitlab/job.js';
