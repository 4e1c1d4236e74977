/** Entry of the root action (dist/actions/pipeline.js, main and post): build → scan → push → deploy. */
import { PIPELINE } from '../actions.js';
import { actionEntry, isMain } from '../entry.js';

export const run = actionEntry(PIPELINE.name, () => import('../pipeline.js'));

if (isMain(import.meta.url)) await run();
