/** Entry of gantry/actions/scan (dist/actions/scan.js): scan an image and gate on severity. */
import { isMain, runAction } from '../github.js';
import { SCAN } from './actions.js';
import { scanStage } from './image.js';

export const run = (): Promise<void> =>
  runAction(SCAN, async (inputs) => {
    await scanStage(SCAN, inputs);
  });

if (isMain(import.meta.url)) await run();
