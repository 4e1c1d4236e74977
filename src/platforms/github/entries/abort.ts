/**
 * Entry of gantry/actions/abort (dist/actions/abort.js): abort the rollout in progress, or an orphaned one. It prints the step header before it loads
 * anything else, then imports the step (../abort.ts) and runs it.
 */
import { ABORT } from '../actions.js';
import { announce, isMain } from '../entry.js';

export async function run(): Promise<void> {
  announce(ABORT.name);
  await (await import('../abort.js')).run();
}

if (isMain(import.meta.url)) await run();
