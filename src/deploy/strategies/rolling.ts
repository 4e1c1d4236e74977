import { messageOf } from '../../util/errors.js';
import { restoreTemplate, waitRolledOut, withTrack } from '../workload.js';
import { reasonFor } from './rollback.js';
import {
  abortReason,
  RollbackReason,
  type RolloutContext,
  type StepAnalyzer,
  type Strategy,
  type StrategyOutcome,
} from './types.js';

/**
 * Rolling update, tracked live: apply the new version to the Deployment and follow it; pods that do not
 * become ready within the ready timeout fail the rollout at once, and the previous pod template is put back
 * (`kubectl rollout undo`) and followed until it is fully available again.
 *
 * With an analysis, the new version is verified as it rolls out and for a window after it (`pauseMs`): step 1
 * is the update, its analysis running until every replica is updated; step 2 the verification window. A
 * breach in either puts the previous template back at once. The new pods are the stable Deployment's, so
 * the analysis measures the `stable` track (during the update, old and new pods together; in the window, the
 * new version alone). Without an analysis there is no window: promoted as soon as the update is done.
 */
export class RollingStrategy implements Strategy {
  readonly name = 'rolling' as const;

  async run(context: RolloutContext): Promise<StrategyOutcome> {
    const { kube, namespace, name, recorder, events, lease } = context;
    const previousTemplate = context.current?.spec?.template;
    recorder.stepStarted(
      0,
      100,
      `rolling update of all replicas${context.analyze ? ', analysis running' : ''}`,
    );
    void lease.record({ phase: 'progressing', step: 0, weight: 100 });
    try {
      await kube.apply(withTrack(context.target, 'stable'));
      recorder.mark('canaryTrafficStartedAt');
      await this.followUpdate(context);
      recorder.stepEnded('passed');
      if (context.analyze) await this.verify(context, context.analyze);
    } catch (error) {
      const reason = reasonFor(context, error);
      recorder.mark('abortDecidedAt', reason.decidedAt);
      recorder.stepEnded(context.signal.aborted ? 'aborted' : 'failed');
      // The metrics provider failing is an infrastructure failure, as for a canary: verdict failed, exit 3.
      const verdict = error instanceof AnalysisFailure && error.exitCode === 3 ? 'failed' : 'rolled-back';
      if (!previousTemplate) {
        return {
          verdict: 'failed',
          reason: `${reason.message}; no previous revision to return to`,
          exitCode: reason.exitCode,
        };
      }
      recorder.progress(`rolling back to the previous revision: ${reason.message}`);
      void events.emit('RollingBack', reason.message, 'Warning');
      void lease.record({ phase: 'rolling-back' });
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
      // The previous template fully rolled out again: every pod of the new version is gone with it.
      recorder.mark('trafficRestoredAt');
      recorder.mark('canaryRemovedAt');
      void events.emit('RolledBack', `previous revision restored: ${reason.message}`, 'Warning');
      return { verdict, reason: reason.message, exitCode: reason.exitCode };
    }
    recorder.mark('promotedAt');
    void events.emit('Promoted', `${name} rolled out`);
    return {
      verdict: 'promoted',
      reason: context.analyze
        ? `${name} rolled out and verified for ${seconds(context.pauseMs)}: every replica updated and ready, the analysis passed`
        : `${name} rolled out: every replica updated and ready`,
      exitCode: 0,
    };
  }

  /**
   * Follows the update until every replica is updated and ready. With an analysis, it measures meanwhile
   * (for at most the ready timeout, which bounds the update too); a breach stops the wait at once, and the
   * analysis stops when the update is done.
   */
  private async followUpdate(context: RolloutContext): Promise<void> {
    const { kube, namespace, name } = context;
    const follow = (signal: AbortSignal) =>
      waitRolledOut(kube, namespace, name, { readyTimeoutMs: context.readyTimeoutMs, signal });
    if (!context.analyze) {
      await follow(context.signal);
      return;
    }
    const updated = new AbortController();
    const breached = new AbortController();
    const analysis = context
      .analyze({
        step: 0,
        durationMs: context.readyTimeoutMs,
        track: 'stable',
        signal: AbortSignal.any([context.signal, updated.signal]),
      })
      .then((result) => {
        if (result.outcome === 'aborted' && !result.cancelled) breached.abort(analysisFailure(result));
      });
    try {
      await follow(AbortSignal.any([context.signal, breached.signal]));
    } catch (error) {
      if (breached.signal.aborted && !context.signal.aborted) throw breached.signal.reason;
      throw error;
    } finally {
      updated.abort(new Error('the update is done'));
      await analysis;
    }
    // The analysis decided in the same instant the update ended: the breach still counts.
    if (breached.signal.aborted) throw breached.signal.reason;
  }

  /**
   * The verification window: the new version alone, analysed for `pauseMs`. `gantry promote` ends the window
   * early (the update is already done); a cancel or a breach rolls back.
   */
  private async verify(context: RolloutContext, analyze: StepAnalyzer): Promise<void> {
    const { recorder, events, lease, name } = context;
    const window = seconds(context.pauseMs);
    if (context.promoteNow()) {
      recorder.progress('promotion requested: skipping the verification window');
      return;
    }
    recorder.stepStarted(1, 100, `verifying the new version for ${window}`);
    void lease.record({ phase: 'progressing', step: 1, weight: 100 });
    void events.emit('Verifying', `${name} rolled out; verifying the new version for ${window}`);
    const promoted = context.promoted;
    const signal = promoted ? AbortSignal.any([context.signal, promoted]) : context.signal;
    const result = await analyze({ step: 1, durationMs: context.pauseMs, track: 'stable', signal });
    if (result.outcome === 'aborted') {
      if (!result.cancelled) throw analysisFailure(result);
      if (context.signal.aborted) throw abortReason(context.signal);
      recorder.progress('promotion requested: verification window ended early');
    }
    recorder.stepEnded('passed');
  }
}

/** A rollback decided by the analysis: a breach (exit 1), or the metrics provider failing (exit 3). */
class AnalysisFailure extends RollbackReason {}

function analysisFailure(result: Awaited<ReturnType<StepAnalyzer>>): AnalysisFailure {
  return new AnalysisFailure(
    result.reason ?? 'analysis failed',
    result.decidedAt,
    result.infrastructure ? 3 : 1,
  );
}

const seconds = (ms: number) => `${Math.round(ms / 1000)}s`;
