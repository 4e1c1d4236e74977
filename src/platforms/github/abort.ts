/**
 * The step of gantry/actions/abort (run by ./entries/abort.ts): abort the rollout in progress, or an orphaned
 * one.
 */

import { ABORT } from './actions.js';
import { runAction } from './adapter.js';

export const run = (): Promise<void> =>
  runAction(ABORT, async (inputs) => {
    // The Kubernetes client loads once the step has read its inputs.
    const { controlStage } = await import('./rollout.js');
    await controlStage(ABORT, inputs, 'abort');
  });
