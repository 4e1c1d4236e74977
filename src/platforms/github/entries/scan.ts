/** Entry of gantry/actions/scan (dist/actions/scan.js): scan an image and gate on severity. */
import { SCAN } from '../actions.js';
import { actionEntry, isMain } from '../entry.js';

export const run = actionEntry(SCAN.name, () => import('../scan.js'));

if (isMain(import.meta.url)) await run();
