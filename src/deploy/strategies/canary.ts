import { messageOf } from '../../util/errors.js';
import { canaryName } from '../labels.js';
import type { RouteContext } from '../routers/types.js';
import {
  deleteDeployment,
  replicasOf,
  restoreTemplate,
  trackDeployment,
  waitRolledOut,
  withTrack,
} from '../workload.js';
import { takeOutNewVersion } from './rollback.js';
import { pause, RollbackReason, type RolloutContext, type Strategy, type StrategyOutcome } from './types.js';

/**
 * Canary: the new version runs beside the untouched stable Deployment as `<name>-canary`; each step routes
 * a larger share of traffic to it and analyses its metrics; the first breach beyond the limits takes it
 * out. Promotion updates the stable Deployment, waits until it is fully available, then removes the canary.
 */
export class CanaryStrategy implements Strategy {
  readonly name = 'canary' as const;

  async run(context: RolloutContext): Promise<StrategyOutcome> {
    const { kube, namespace, name, recorder, events, lease } = context;
    const canary = canaryName(name);
    const stableReplicas = replicasOf(context.current);
    // Moving traffic to the canary waits up to the ready timeout (pods that do not become ready mean a bad
    // version); taking it out again (rollback, cleanup after promotion) waits up to the overall timeout, as the
    // rolling strategy's restore does: a slow controller is not a reason to give up on a rollback (exit 4).
    const route = (signal?: AbortSignal, timeoutMs = context.readyTimeoutMs): RouteContext => ({
      kube,
      namespace,
      name,
      canaryService: canaryName(name),
      service: context.service!,
      stableReplicas,
      canaryDeployment: canary,
      signal,
      timeoutMs,
    });
    let trafficStarted = false;
    try {
      // Routers send traffic by weight, so the canary runs its final size from the start; the replica
      // router scales it step by step instead.
      const maxWeight = Math.max(...context.steps);
      const initial =
        context.router.name === 'replicas' ? 0 : Math.max(1, Math.ceil((stableReplicas * maxWeight) / 100));
      recorder.progress(`creating ${canary} (${initial} replica(s)) beside ${name} (${stableReplicas})`);
      await kube.apply(trackDeployment(context.target, canary, 'canary', initial, context.runLabel));
      if (initial > 0)
        await waitRolledOut(kube, namespace, canary, {
          readyTimeoutMs: context.readyTimeoutMs,
          signal: context.signal,
        });
      await context.router.reconcile(route(context.signal));
      void events.emit('CanaryStarted', `canary ${canary} created with steps ${context.steps.join('/')}%`);
      for (const [index, weight] of context.steps.entries()) {
        if (index < context.startStep) continue;
        if (context.promoteNow()) {
          recorder.progress('promotion requested: skipping the remaining steps');
          break;
        }
        recorder.stepStarted(index, weight);
        void lease.record({ phase: 'progressing', step: index, weight });
        await context.router.setRoutes(route(context.signal), weight);
        if (!trafficStarted) {
          recorder.mark('canaryTrafficStartedAt');
          trafficStarted = true;
        }
        void events.emit(
          'StepStarted',
          `step ${index + 1}/${context.steps.length}: ${weight}% of traffic to the canary`,
        );
        await this.judgeStep(context, index);
        recorder.stepEnded('passed');
      }
    } catch (error) {
      return takeOutNewVersion(context, error, {
        deployment: canary,
        trafficStarted,
        restoreTraffic: () =>
          context.router.setRoutes(route(undefined, context.timeoutMs), 0).catch(ignoreMissing),
        removeRouting: () => context.router.finalize(route(undefined, context.timeoutMs)),
      });
    }
    return this.promote(context, route(undefined, context.timeoutMs));
  }

  /**
   * The step's analysis (or, without one, its pause). A promotion request ends the step in progress at once;
   * the rollout's own signal still wins. A failed analysis throws the rollback's reason.
   */
  private async judgeStep(context: RolloutContext, index: number): Promise<void> {
    const promoted = context.promoted;
    const stepSignal = promoted ? AbortSignal.any([context.signal, promoted]) : context.signal;
    const cutShort = () => Boolean(promoted?.aborted) && !context.signal.aborted;
    if (!context.analyze) {
      await pause(context.pauseMs, stepSignal).catch((error) => {
        if (!cutShort()) throw error;
      });
      return;
    }
    const result = await context.analyze({
      step: index,
      durationMs: context.pauseMs,
      track: 'canary',
      signal: stepSignal,
    });
    if (result.outcome === 'aborted' && !(result.cancelled && cutShort()))
      throw new RollbackReason(
        result.reason ?? 'analysis failed',
        result.decidedAt,
        result.infrastructure ? 3 : 1,
      );
  }

  private async promote(context: RolloutContext, route: RouteContext): Promise<StrategyOutcome> {
    const { kube, namespace, name, recorder, events, lease } = context;
    void lease.record({ phase: 'promoting' });
    recorder.progress(`promoting: updating ${name} to the new version`);
    void events.emit('Promoting', `all steps passed; updating ${name}`);
    const previousTemplate = context.current?.spec?.template;
    try {
      // Once promotion starts it finishes (or is undone) even if the job is cancelled: never half-deployed.
      await kube.apply(withTrack(context.target, 'stable'));
      await waitRolledOut(kube, namespace, name, { readyTimeoutMs: context.readyTimeoutMs });
    } catch (error) {
      recorder.progress(`promotion failed (${messageOf(error)}); restoring ${name}'s previous version`);
      try {
        if (previousTemplate) await restoreTemplate(kube, namespace, name, previousTemplate);
        await waitRolledOut(kube, namespace, name, { readyTimeoutMs: context.timeoutMs });
      } catch (restoreError) {
        return {
          verdict: 'failed',
          reason: `promotion failed and the restore too: ${messageOf(restoreError)}`,
          exitCode: 4,
        };
      }
      return takeOutNewVersion(context, new RollbackReason(`promotion failed: ${messageOf(error)}`), {
        deployment: route.canaryDeployment,
        trafficStarted: true,
        restoreTraffic: () => context.router.setRoutes(route, 0).catch(ignoreMissing),
        removeRouting: () => context.router.finalize(route),
      });
    }
    await context.router.setRoutes(route, 0).catch(ignoreMissing);
    await context.router.finalize(route);
    await deleteDeployment(kube, namespace, route.canaryDeployment, context.timeoutMs);
    recorder.mark('promotedAt');
    void events.emit('Promoted', `${name} promoted to the new version`);
    return {
      verdict: 'promoted',
      reason: `all ${context.steps.length} steps passed; ${name} runs the new version`,
      exitCode: 0,
    };
  }
}

/** Routing a Deployment that was never created (the rollout failed before) is nothing to undo. */
function ignoreMissing(error: unknown): void {
  if ((error as { code?: number }).code === 404) return;
  throw error;
}
