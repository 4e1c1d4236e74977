/** Entry of gantry/actions/verify (dist/actions/verify.js): verify an image's signature and attestations. */
import { VERIFY } from '../actions.js';
import { actionEntry, isMain } from '../entry.js';

export const run = actionEntry(VERIFY.name, () => import('../verify.js'));

if (isMain(import.meta.url)) await run();
