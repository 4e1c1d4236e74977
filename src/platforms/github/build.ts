/** Entry of gantry/actions/build (dist/actions/build.js): build, and with `push`, push every tag. */
import { isMain, runAction } from '../github.js';
import { BUILD } from './actions.js';
import { buildStage } from './image.js';

export const run = (): Promise<void> =>
  runAction(BUILD, async (inputs) => {
    await buildStage(BUILD, inputs);
  });

if (isMain(import.meta.url)) await run();
