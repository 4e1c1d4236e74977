/** Entry of gantry/actions/sign (dist/actions/sign.js): sign an image and attach its attestations. */
import { SIGN } from '../actions.js';
import { actionEntry, isMain } from '../entry.js';

export const run = actionEntry(SIGN.name, () => import('../sign.js'));

if (isMain(import.meta.url)) await run();
