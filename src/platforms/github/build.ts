/** The step of gantry/actions/build (run by ./entries/build.ts): build, and with `push`, push every tag. */

import { BUILD } from './actions.js';
import { runAction } from './adapter.js';
import { buildStage } from './image.js';

export const run = (): Promise<void> =>
  runAction(BUILD, async (inputs) => {
    await buildStage(BUILD, inputs);
  });
