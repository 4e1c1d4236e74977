/** Entry of gantry/actions/deploy (dist/actions/deploy.js, main and post): roll out progressively. */
import { isMain, runAction } from '../github.js';
import { DEPLOY } from './actions.js';
import { deployStage, rolloutPost } from './rollout.js';

export const run = (): Promise<void> =>
  runAction(
    DEPLOY,
    async (inputs) => {
      await deployStage(DEPLOY, inputs);
    },
    rolloutPost,
  );

if (isMain(import.meta.url)) await run();
