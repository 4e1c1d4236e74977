/** The step of gantry/actions/deploy (run by ./entries/deploy.ts, main and post): roll out progressively. */

import { DEPLOY } from './actions.js';
import { runAction } from './adapter.js';

// The rollout engine and the Kubernetes client load once the step has read its inputs (bad input fails first).
const rollout = () => import('./rollout.js');

export const run = (): Promise<void> =>
  runAction(
    DEPLOY,
    async (inputs) => {
      await (await rollout()).deployStage(DEPLOY, inputs);
    },
    async (inputs) => (await rollout()).rolloutPost(inputs),
  );
