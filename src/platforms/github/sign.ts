/** The step of gantry/actions/sign (run by ./entries/sign.ts): sign an image's digest, attach attestations. */

import { SIGN } from './actions.js';
import { runAction, setOutputs } from './adapter.js';
import { signStage } from './supply.js';

export const run = (): Promise<void> =>
  runAction(SIGN, async (inputs) => {
    const signed = await signStage(SIGN, inputs);
    setOutputs({
      image: signed.image,
      digest: signed.digest,
      signature: signed.signature,
      attestations: JSON.stringify(signed.attestations),
      sbom: signed.sbom,
    });
  });
