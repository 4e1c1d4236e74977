/**
 * What every action entry (./entries/) loads before anything else: node:fs, node:url and the version, no
 * dependency. An entry ({@link actionEntry}) prints its step header at once, then imports the step's module
 * (the adapter, zod, execa, the Kubernetes client…) and runs it, so the step log shows which action and
 * version is running from the first ~50 ms, whatever the step then loads (issue 5, cold start).
 */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { VERSION } from '../../version.js';

/** True when this module is the script node was started with (the runner runs `node dist/actions/x.js`). */
export function isMain(moduleUrl: string): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return moduleUrl === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
}

/** The step state that marks a post step: runAction saves it in the main step, the runner hands it back. */
export const POST_STATE = 'isPost';

/**
 * The step's first line: the action, Gantry's version and Node's (`gantry/actions/deploy 0.1.0 (node
 * v24.1.0)`), and `, post step` in a post step. It names no input, so nothing secret can reach it.
 */
export function header(action: string, env: NodeJS.ProcessEnv = process.env): string {
  // The runner passes saved state as STATE_<name>, which is where core.getState reads it.
  const post = env[`STATE_${POST_STATE}`] === 'true' ? ', post step' : '';
  return `${action} ${VERSION} (node ${process.version}${post})`;
}

/** An action entry's `run`: prints the step header, then imports the step (`load`) and runs it. */
export function actionEntry(
  action: string,
  load: () => Promise<{ run: () => Promise<void> }>,
): () => Promise<void> {
  return async () => {
    process.stdout.write(`${header(action)}\n`);
    await (await load()).run();
  };
}
