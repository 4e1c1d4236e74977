/**
 * Entry of gantry/actions/deploy (dist/actions/deploy.js): roll out progressively (main and post). It prints the step header before it loads
 * anything else, then imports the step (../deploy.ts) and runs it.
 */
import { DEPLOY } from '../actions.js';
import { announce, isMain } from '../entry.js';

export async function run(): Promise<void> {
  announce(DEPLOY.name);
  await (await import('../deploy.js')).run();
}

if (isMain(import.meta.url)) await run();
