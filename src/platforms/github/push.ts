/** The step of gantry/actions/push (run by ./entries/push.ts): push or copy an image by digest. */

import { PUSH } from './actions.js';
import { runAction, setOutputs } from './adapter.js';
import { pushStage } from './image.js';

export const run = (): Promise<void> =>
  runAction(PUSH, async (inputs) => {
    const pushed = await pushStage(PUSH, inputs);
    setOutputs({ digest: pushed.digest, refs: pushed.refs.join('\n') });
  });
