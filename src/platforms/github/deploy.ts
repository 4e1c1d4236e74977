/** Entry of gantry/actions/deploy (dist/actions/deploy.js, main and post): roll out progressively. */
import { isMain, runAction } from '../github.js';
import { DEPLOY } from './actions.js';

// The rollout engine and the Kubernetes client load once the step has read its inputs (bad input fails first).
const rollout = () => import('./rollout.js');

export const run = (): Promise<void> =>
  runAction(
    DEPLOY,
    async (inputs) => {
      await (await rollout()).deployStage(DEPLOY, inputs);
    },
    async () => (await rollout()).rolloutPost(),
  );

if (isMain(import.meta.url)) await run();
