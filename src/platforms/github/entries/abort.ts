/** Entry of gantry/actions/abort (dist/actions/abort.js): abort the rollout in progress, or an orphan. */
import { ABORT } from '../actions.js';
import { actionEntry, isMain } from '../entry.js';

export const run = actionEntry(ABORT.name, () => import('../abort.js'));

if (isMain(import.meta.url)) await run();
