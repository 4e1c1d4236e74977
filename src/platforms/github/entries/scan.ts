/**
 * Entry of gantry/actions/scan (dist/actions/scan.js): scan an image and gate on severity. It prints the step header before it loads
 * anything else, then imports the step (../scan.ts) and runs it.
 */
import { SCAN } from '../actions.js';
import { announce, isMain } from '../entry.js';

export async function run(): Promise<void> {
  announce(SCAN.name);
  await (await import('../scan.js')).run();
}

if (isMain(import.meta.url)) await run();
