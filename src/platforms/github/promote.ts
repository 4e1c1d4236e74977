/** The step of gantry/actions/promote (run by ./entries/promote.ts): promote the rollout in progress now. */

import { PROMOTE } from './actions.js';
import { runAction } from './adapter.js';

export const run = (): Promise<void> =>
  runAction(PROMOTE, async (inputs) => {
    // The Kubernetes client loads once the step has read its inputs.
    const { controlStage } = await import('./rollout.js');
    await controlStage(PROMOTE, inputs, 'promote');
  });
