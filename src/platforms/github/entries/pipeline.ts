/**
 * Entry of the root action `gantry` (dist/actions/pipeline.js): build → scan → push → deploy (main and post). It prints the step header before it loads
 * anything else, then imports the step (../pipeline.ts) and runs it.
 */
import { PIPELINE } from '../actions.js';
import { announce, isMain } from '../entry.js';

export async function run(): Promise<void> {
  announce(PIPELINE.name);
  await (await import('../pipeline.js')).run();
}

if (isMain(import.meta.url)) await run();
