import { messageOf } from '../../util/errors.js';
import { restoreTemplate, waitRolledOut, withTrack } from '../workload.js';
import { reasonFor } from './rollback.js';
import type { RolloutContext, Strategy, StrategyOutcome } from './types.js';

/**
 * Rolling update, tracked live: apply the new version to the Deployment and follow it; pods that do not
 * become ready within the ready timeout fail the rollout at once, and the previous pod template is put back
 * (`kubectl rollout undo`) and followed until it is fully available again.
 */
export class RollingStrategy implements Strategy {
  readonly name = 'rolling' as const;

  async run(context: RolloutContext): Promise<StrategyOutcome> {
    const { kube, namespace, name, recorder, events, lease } = context;
    const previousTemplate = context.current?.spec?.template;
    recorder.stepStarted(0, 100, 'rolling update of all replicas');
    void lease.record({ phase: 'progressing', step: 0, weight: 100 });
    try {
      await kube.apply(withTrack(context.target, 'stable'));
      recorder.mark('canaryTrafficStartedAt');
      await waitRolledOut(kube, namespace, name, {
        readyTimeoutMs: context.readyTimeoutMs,
        signal: context.signal,
      });
      recorder.stepEnded('passed');
    } catch (error) {
      const reason = reasonFor(context, error);
      recorder.mark('abortDecidedAt', reason.decidedAt);
      recorder.stepEnded(context.signal.aborted ? 'aborted' : 'failed');
      if (!previousTemplate) {
        return {
          verdict: 'failed',
          reason: `${reason.message}; no previous revision to return to`,
          exitCode: reason.exitCode,
        };
      }
      recorder.progress(`rolling back to the previous revision: ${reason.message}`);
      void events.emit('RollingBack', reason.message, 'Warning');
      try {
        await restoreTemplate(kube, namespace, name, previousTemplate);
        await waitRolledOut(kube, namespace, name, { readyTimeoutMs: context.timeoutMs });
      } catch (restoreError) {
        return {
          verdict: 'failed',
          reason: `rollback failed: ${messageOf(restoreError)} (after: ${reason.message})`,
          exitCode: 4,
        };
      }
      recorder.mark('trafficRestoredAt');
      void events.emit('RolledBack', `previous revision restored: ${reason.message}`, 'Warning');
      return { verdict: 'rolled-back', reason: reason.message, exitCode: reason.exitCode };
    }
    recorder.mark('promotedAt');
    void events.emit('Promoted', `${name} rolled out`);
    return {
      verdict: 'promoted',
      reason: `${name} rolled out: every replica updated and ready`,
      exitCode: 0,
    };
  }
}
