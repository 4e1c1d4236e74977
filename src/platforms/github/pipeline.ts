/**
 * The step of the root action (run by ./entries/pipeline.ts, main and post): build → scan → push → deploy.
 * The image is built locally, scanned before it leaves the runner, pushed only when the scan passed, and
 * rolled out by digest when there are manifests or a chart: the `manifests` or `chart` input, or
 * `deploy.manifests` / `deploy.chart` in gantry.yml.
 */
import { checkPipeline } from '../../commands/pipeline.js';
import { resolveConfig } from '../../config/load.js';
import { loadDeployManifests } from '../../deploy/manifests.js';
import { PIPELINE } from './actions.js';
import { booleanInput, type Inputs, runAction, setOutputs, stage, toRawInputs } from './adapter.js';
import { buildStage, pushStage, scanStage } from './image.js';
import { visibilitySettings } from './visibility-inputs.js';

// The rollout engine and the Kubernetes client load when the deploy stage starts.
const rollout = () => import('./rollout.js');

async function pipeline(inputs: Inputs): Promise<void> {
  const push = booleanInput(inputs, 'push', true);
  // Bad rollout input fails now, before anything is built or pushed.
  const deploying = await stage(PIPELINE, 'deploy', async () => {
    const raw = toRawInputs('deploy', PIPELINE, inputs);
    const { deploy } = resolveConfig({ command: 'deploy', raw, configPath: inputs.config });
    if (deploy.manifests.length === 0 && deploy.chart === undefined) return false;
    checkPipeline({ deploy: true, push }, 'input "push"');
    visibilitySettings(inputs);
    await loadDeployManifests(deploy);
    return true;
  });
  const build = await buildStage(PIPELINE, inputs, { push: false });
  const local = build.refs[0]!;
  await scanStage(PIPELINE, inputs, local);
  if (!push) return;
  const pushed = await pushStage(PIPELINE, inputs, { image: local, to: build.refs });
  const pinned = `${build.image}@${pushed.digest}`;
  setOutputs({ digest: pushed.digest, ref: pinned });
  if (!deploying) return;
  await (await rollout()).deployStage(PIPELINE, inputs, [`${inputs.container ?? build.image}=${pinned}`]);
}

export const run = (): Promise<void> =>
  runAction(PIPELINE, pipeline, async (inputs) => (await rollout()).rolloutPost(inputs));
