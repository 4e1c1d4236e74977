/** The step of gantry/actions/scan (run by ./entries/scan.ts): scan an image and gate on severity. */
import { runAction } from '../github.js';
import { SCAN } from './actions.js';
import { scanStage } from './image.js';

export const run = (): Promise<void> =>
  runAction(SCAN, async (inputs) => {
    await scanStage(SCAN, inputs);
  });
