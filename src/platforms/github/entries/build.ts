/**
 * Entry of gantry/actions/build (dist/actions/build.js): build, and with `push`, push every tag. It prints the step header before it loads
 * anything else, then imports the step (../build.ts) and runs it.
 */
import { BUILD } from '../actions.js';
import { announce, isMain } from '../entry.js';

export async function run(): Promise<void> {
  announce(BUILD.name);
  await (await import('../build.js')).run();
}

if (isMain(import.meta.url)) await run();
