/**
 * The step of the root action (run by ./entries/pipeline.ts, main and post): build → scan → push → sign →
 * deploy. The image is built locally, scanned before it leaves the runner, pushed only when the scan passed,
 * signed when a signing key is given (`signing-key`, `key-file` or `key-env`, or sign.keyFile / sign.keyEnv in
 * gantry.yml) with its SBOM, the build's provenance and the scan's verdict attached, and rolled out by digest
 * when there are manifests or a chart: the `manifests` or `chart` input, or `deploy.manifests` /
 * `deploy.chart` in gantry.yml. A deploy with a verify policy (`public-key-file`…) then verifies what was
 * just signed before anything is applied.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkPipeline } from '../../commands/pipeline.js';
import { resolveConfig } from '../../config/load.js';
import { loadDeployManifests } from '../../deploy/manifests.js';
import { loadSigningKey } from '../../supply/keys.js';
import { PIPELINE } from './actions.js';
import {
  booleanInput,
  type Inputs,
  runAction,
  setOutputs,
  stage,
  stepDirectory,
  toRawInputs,
} from './adapter.js';
import { buildStage, pushStage, scanStage } from './image.js';
import { hasSigningKeyInput, signingKeyInputs, signStage, withKeyInputs } from './supply.js';
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
  // Signing, and its key, are settled before anything is built: a key that cannot be read fails now.
  const signing = await stage(PIPELINE, 'sign', () =>
    withKeyInputs(inputs, async () => {
      const raw = { ...toRawInputs('sign', PIPELINE, inputs), ...signingKeyInputs(inputs) };
      const { sign } = resolveConfig({ command: 'sign', raw, configPath: inputs.config });
      // What is signed is the pushed digest: without a push there is nothing to sign.
      if (!push || (!hasSigningKeyInput(inputs) && !sign.keyFile && !sign.keyEnv)) return false;
      loadSigningKey({ file: sign.keyFile, env: sign.keyEnv }, sign.keyPasswordEnv);
      return true;
    }),
  );
  const build = await buildStage(PIPELINE, inputs, { push: false });
  const local = build.refs[0]!;
  const scan = await scanStage(PIPELINE, inputs, local);
  if (!push) return;
  const pushed = await pushStage(PIPELINE, inputs, { image: local, to: build.refs });
  const pinned = `${build.image}@${pushed.digest}`;
  setOutputs({ digest: pushed.digest, ref: pinned, provenance: build.provenance });
  if (signing) {
    const dir = stepDirectory();
    mkdirSync(dir, { recursive: true });
    const scanResult = join(dir, 'scan-result.json');
    writeFileSync(scanResult, `${JSON.stringify(scan)}\n`, { mode: 0o600 });
    const signed = await signStage(PIPELINE, inputs, {
      image: pinned,
      sbom: 'true',
      'sbom-output': join(dir, 'sbom.cdx.json'),
      'scan-result': scanResult,
      ...(build.provenance ? { provenance: build.provenance } : {}),
    });
    setOutputs({ signature: signed.signature, sbom: signed.sbom });
  }
  if (!deploying) return;
  await (await rollout()).deployStage(PIPELINE, inputs, [`${inputs.container ?? build.image}=${pinned}`]);
}

export const run = (): Promise<void> =>
  runAction(PIPELINE, pipeline, async (inputs) => (await rollout()).rolloutPost(inputs));
