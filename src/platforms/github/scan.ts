/** The step of gantry/actions/scan (run by ./entries/scan.ts): scan an image and gate on severity. */

import { SCAN } from './actions.js';
import { runAction } from './adapter.js';
import { scanStage } from './image.js';

export const run = (): Promise<void> =>
  runAction(SCAN, async (inputs) => {
    await scanStage(SCAN, inputs);
  });
