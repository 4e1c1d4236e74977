/** Entry of gantry/actions/push (dist/actions/push.js): push or copy an image by digest. */
import { PUSH } from '../actions.js';
import { actionEntry, isMain } from '../entry.js';

export const run = actionEntry(PUSH.name, () => import('../push.js'));

if (isMain(import.meta.url)) await run();
