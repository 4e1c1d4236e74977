/** Entry of gantry/actions/deploy (dist/actions/deploy.js, main and post): roll out progressively. */
import { DEPLOY } from '../actions.js';
import { actionEntry, isMain } from '../entry.js';

export const run = actionEntry(DEPLOY.name, () => import('../deploy.js'));

if (isMain(import.meta.url)) await run();
