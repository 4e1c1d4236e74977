/**
 * Entry of gantry/actions/promote (dist/actions/promote.js): promote the rollout in progress now. It prints the step header before it loads
 * anything else, then imports the step (../promote.ts) and runs it.
 */
import { PROMOTE } from '../actions.js';
import { announce, isMain } from '../entry.js';

export async function run(): Promise<void> {
  announce(PROMOTE.name);
  await (await import('../promote.js')).run();
}

if (isMain(import.meta.url)) await run();
