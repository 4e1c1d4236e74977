/**
 * The step of gantry/actions/verify (run by ./entries/verify.ts): verify an image's signature and attestations
 * against the policy. A refusal sets `verified` to false and `reason`, then fails the step (exit 1).
 */

import { VERIFY } from './actions.js';
import { runAction, setOutputs } from './adapter.js';
import { refusal, verifyStage } from './supply.js';

export const run = (): Promise<void> =>
  runAction(VERIFY, async (inputs) => {
    const result = await verifyStage(VERIFY, inputs);
    setOutputs({
      verified: result.verified,
      reason: result.reason,
      image: result.image,
      digest: result.digest,
    });
    if (!result.verified) throw refusal(result);
  });
