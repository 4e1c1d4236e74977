import { messageOf } from '../../util/errors.js';
import { deleteDeployment, RolloutStalled } from '../workload.js';
import { abortReason, RollbackReason, type RolloutContext, type StrategyOutcome } from './types.js';

/** Turns whatever stopped a rollout into a reason with a decision time and an exit code. */
export function reasonFor(context: RolloutContext, error: unknown): RollbackReason {
  if (error instanceof RollbackReason) return error;
  if (context.signal.aborted) return abortReason(context.signal);
  if (error instanceof RolloutStalled) return new RollbackReason(error.message);
  return new RollbackReason(messageOf(error), new Date(), 3);
}

/**
 * Takes the new version out: first out of traffic (`restoreTraffic`), then removed (its Deployment and
 * routing objects). Records abortDecidedAt, trafficRestoredAt and canaryRemovedAt. The stable Deployment is
 * not touched. A failure here is exit 4: a person must look.
 */
export async function takeOutNewVersion(
  context: RolloutContext,
  error: unknown,
  options: {
    deployment: string;
    trafficStarted: boolean;
    restoreTraffic: () => Promise<void>;
    removeRouting: () => Promise<void>;
  },
): Promise<StrategyOutcome> {
  const { recorder, events, lease } = context;
  const reason = reasonFor(context, error);
  recorder.mark('abortDecidedAt', reason.decidedAt);
  recorder.stepEnded(context.signal.aborted ? 'aborted' : 'failed');
  recorder.progress(`rolling back: ${reason.message}`);
  void events.emit('RollingBack', reason.message, 'Warning');
  void lease.record({ phase: 'rolling-back' });
  try {
    await options.restoreTraffic();
    if (options.trafficStarted) recorder.mark('trafficRestoredAt');
    recorder.progress('new version out of traffic');
    await options.removeRouting();
    await deleteDeployment(context.kube, context.namespace, options.deployment, context.timeoutMs);
    recorder.mark('canaryRemovedAt');
    recorder.progress(`${options.deployment} removed; ${context.name} stays on its previous version`);
  } catch (cleanupError) {
    const message = `rollback failed: ${messageOf(cleanupError)} (after: ${reason.message})`;
    void events.emit('RollbackFailed', message, 'Warning');
    return { verdict: 'failed', reason: message, exitCode: 4 };
  }
  void events.emit('RolledBack', `rolled back: ${reason.message}`, 'Warning');
  return {
    verdict: reason.exitCode === 3 ? 'failed' : 'rolled-back',
    reason: reason.message,
    exitCode: reason.exitCode,
  };
}
