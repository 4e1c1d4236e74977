/** Entry of gantry/actions/promote (dist/actions/promote.js): promote the rollout in progress now. */
import { PROMOTE } from '../actions.js';
import { actionEntry, isMain } from '../entry.js';

export const run = actionEntry(PROMOTE.name, () => import('../promote.js'));

if (isMain(import.meta.url)) await run();
