/** Entry of gantry/actions/abort (dist/actions/abort.js): abort the rollout in progress, or an orphaned one. */
import { isMain, runAction } from '../github.js';
import { ABORT } from './actions.js';

export const run = (): Promise<void> =>
  runAction(ABORT, async (inputs) => {
    // The Kubernetes client loads once the step has read its inputs.
    const { controlStage } = await import('./rollout.js');
    await controlStage(ABORT, inputs, 'abort');
  });

if (isMain(import.meta.url)) await run();
