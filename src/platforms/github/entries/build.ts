/** Entry of gantry/actions/build (dist/actions/build.js): build, and with `push`, push every tag. */
import { BUILD } from '../actions.js';
import { actionEntry, isMain } from '../entry.js';

export const run = actionEntry(BUILD.name, () => import('../build.js'));

if (isMain(import.meta.url)) await run();
