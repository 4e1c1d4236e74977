/**
 * Entry of gantry/actions/push (dist/actions/push.js): push or copy an image by digest. It prints the step header before it loads
 * anything else, then imports the step (../push.ts) and runs it.
 */
import { PUSH } from '../actions.js';
import { announce, isMain } from '../entry.js';

export async function run(): Promise<void> {
  announce(PUSH.name);
  await (await import('../push.js')).run();
}

if (isMain(import.meta.url)) await run();
