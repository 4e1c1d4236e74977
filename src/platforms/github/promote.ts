/** Entry of gantry/actions/promote (dist/actions/promote.js): promote the rollout in progress now. */
import { isMain, runAction } from '../github.js';
import { PROMOTE } from './actions.js';
import { controlStage } from './rollout.js';

export const run = (): Promise<void> =>
  runAction(PROMOTE, async (inputs) => {
    await controlStage(PROMOTE, inputs, 'promote');
  });

if (isMain(import.meta.url)) await run();
