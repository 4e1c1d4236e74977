/** Entry of gantry/actions/push (dist/actions/push.js): push or copy an image by digest. */
import { isMain, runAction, setOutputs } from '../github.js';
import { PUSH } from './actions.js';
import { pushStage } from './image.js';

export const run = (): Promise<void> =>
  runAction(PUSH, async (inputs) => {
    const pushed = await pushStage(PUSH, inputs);
    setOutputs({ digest: pushed.digest, refs: pushed.refs.join('\n') });
  });

if (isMain(import.meta.url)) await run();
