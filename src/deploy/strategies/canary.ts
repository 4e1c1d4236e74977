import { formatDuration } from '../../util/duration.js';
import { messageOf } from '../../util/errors.js';
import { autoscaleTrack } from '../autoscaling.js';
import { canaryName } from '../labels.js';
import { describeMatch, type RouteContext } from '../routers/types.js';
import {
  deleteDeployment,
  replicasOf,
  restoreTemplate,
  trackDeployment,
  waitRolledOut,
  withTrack,
} from '../workload.js';
import { confirmGate, preRollout } from './confirm.js';
import { takeOutNewVersion } from './rollback.js';
import {
  describeSteps,
  pause,
  RollbackReason,
  type RolloutContext,
  type Strategy,
  type StrategyOutcome,
} from './types.js';

/**
 * Canary: the new version runs beside the untouched stable Deployment as `<name>-canary`; each step routes
 * a larger share of traffic to it and analyses its metrics for the step's pause, or, at a gate, until a
 * person runs `gantry promote`; the first breach beyond the limits takes it out. Promotion updates the
 * stable Deployment, waits until it is fully available, then removes the canary.
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

      note: (line) => context.recorder.progress(line),
    });
    let trafficStarted = false;
    try {
      await this.startCanary(context, route, stableReplicas);
      // Up, without traffic: the pre-rollout hooks (a smoke test of the canary's own Service) decide first.
      if (context.startStep === 0) await preRollout(context, { phase: 'pre-rollout', step: null, weight: 0 });
      for (const [index, { weight, pause: stepPause, match }] of context.steps.entries()) {
        if (index < context.startStep) continue;
        if (context.promoteNow()) {
          recorder.progress('promotion requested: skipping the remaining steps');
          break;
        }
        // A match step: only the matching requests reach the canary (weight 0); its analysis is the canary's as usual.
        const what = match
          ? `requests with ${describeMatch(match)} to the new version`
          : `${weight}% of traffic to the new version`;
        recorder.stepStarted(index, weight, what);
        void lease.record({
          phase: 'progressing',
          step: index,
          steps: context.steps.length,
          weight,
          gate: undefined,
        });
        await context.router.setRoutes(route(context.signal), weight, match);
        if (!trafficStarted) {
          recorder.mark('canaryTrafficStartedAt');
          trafficStarted = true;
        }
        void events.emit(
          'StepStarted',
          `step ${index + 1}/${context.steps.length}: ${match ? `requests with ${describeMatch(match)}` : `${weight}% of traffic`} to the canary`,
        );
        if (stepPause === 'gate')
          await this.holdGate(context, index, match ? describeMatch(match) : `${weight}%`);
        else await this.judgeStep(context, index, stepPause);
        recorder.stepEnded('passed');
      }
      // `gantry promote` outside a gate is a person's decision to promote now: it needs no confirmation.
      if (!context.promoteNow()) {
        const last = context.steps.length - 1;
        await confirmGate(context, 'confirm-promotion', {
          phase: 'confirm-promotion',
          step: last,
          weight: context.steps[last]!.weight,
        });
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
   * Creates the canary beside the stable Deployment and the routing to it (no traffic yet). Routers send
   * traffic by weight, so the canary runs its final size from the start (autoscaled like the stable when an
   * HPA scales it); the replica router scales it step by step instead.
   */
  private async startCanary(
    context: RolloutContext,
    route: (signal?: AbortSignal) => RouteContext,
    stableReplicas: number,
  ): Promise<void> {
    const { kube, namespace, name, recorder, events } = context;
    const canary = canaryName(name);
    const maxWeight = Math.max(...context.steps.map((step) => step.weight));
    const initial =
      context.router.name === 'replicas' ? 0 : Math.max(1, Math.ceil((stableReplicas * maxWeight) / 100));
    recorder.progress(`creating ${canary} (${initial} replica(s)) beside ${name} (${stableReplicas})`);
    const created = await kube.apply(
      trackDeployment(context.target, canary, 'canary', initial, context.runLabel),
    );
    if (initial > 0) {
      await autoscaleTrack(kube, context.autoscaler, created, maxWeight / 100);
      await waitRolledOut(kube, namespace, canary, {
        readyTimeoutMs: context.readyTimeoutMs,
        signal: context.signal,
      });
    }
    await context.router.reconcile(route(context.signal));
    void events.emit('CanaryStarted', `canary ${canary} created with steps ${describeSteps(context.steps)}`);
  }

  /**
   * The step's analysis (or, without one, its pause). A promotion request ends the step in progress at once;
   * the rollout's own signal still wins. A failed analysis throws the rollback's reason.
   */
  private async judgeStep(context: RolloutContext, index: number, pauseMs: number): Promise<void> {
    const promoted = context.promoted;
    const stepSignal = promoted ? AbortSignal.any([context.signal, promoted]) : context.signal;
    const cutShort = () => Boolean(promoted?.aborted) && !context.signal.aborted;
    if (!context.analyze) {
      await pause(pauseMs, stepSignal).catch((error) => {
        if (!cutShort()) throw error;
      });
      return;
    }
    const result = await context.analyze({
      step: index,
      durationMs: pauseMs,
      track: 'canary',
      signal: stepSignal,
      mayEndEarly: true,
    });
    if (result.outcome === 'aborted' && !(result.cancelled && cutShort()))
      throw new RollbackReason(
        result.reason ?? 'analysis failed',
        result.decidedAt,
        result.infrastructure ? 3 : 1,
      );
  }

  /**
   * A gate: the step holds its weight, its analysis (if any) judging all along, until a person decides.
   * `gantry promote` releases it (the rollout goes on with the next step); `gantry abort` or a breach rolls
   * back; after the gate timeout, `onGateTimeout` decides: roll back (the default) or go on as if promoted.
   */
  private async holdGate(context: RolloutContext, index: number, held: string): Promise<void> {
    const { recorder, events, lease, name, namespace } = context;
    const step = `step ${index + 1}/${context.steps.length}`;
    const since = new Date();
    const timeoutAt = new Date(since.getTime() + context.gateTimeoutMs);
    const waitFor = formatDuration(context.gateTimeoutMs);
    const then = context.onGateTimeout === 'promote' ? 'it goes on as if promoted' : 'it rolls back';
    const target = `--name ${name} --namespace ${namespace}`;
    // Open before anyone can see the rollout waiting: from now on a promote releases this gate.
    const gate = context.openGate?.(index);
    void lease.record({
      phase: 'waiting',
      gate: {
        since: since.toISOString(),
        timeoutAt: timeoutAt.toISOString(),
        onTimeout: context.onGateTimeout,
      },
    });
    recorder.progress(
      `${step} waits at ${held} for a person: run \`gantry promote ${target}\` to continue, ` +
        `\`gantry abort ${target}\` to roll back; without either within ${waitFor} (at ${timeoutAt.toISOString()}) ${then}`,
    );
    void events.emit(
      'WaitingForPromote',
      `${step} holds ${held.endsWith('%') ? `${held} of traffic` : `requests with ${held}`} until \`gantry promote\` (or \`gantry abort\`); without either within ${waitFor} ${then}`,
    );
    // A promote that came before the gate opened (while the step was routing) was a promote now: it ends the
    // gate too, and the remaining steps are skipped.
    const promotedNow = () => Boolean(context.promoted?.aborted) && !context.signal.aborted;
    const released = () => (Boolean(gate?.released.aborted) && !context.signal.aborted) || promotedNow();
    const signal = AbortSignal.any(
      [context.signal, gate?.released, context.promoted].filter((s): s is AbortSignal => s !== undefined),
    );
    try {
      if (context.analyze) {
        const result = await context.analyze({
          step: index,
          durationMs: context.gateTimeoutMs,
          track: 'canary',
          signal,
        });
        if (result.outcome === 'aborted' && !(result.cancelled && released()))
          throw new RollbackReason(
            result.reason ?? 'analysis failed',
            result.decidedAt,
            result.infrastructure ? 3 : 1,
          );
      } else {
        await pause(context.gateTimeoutMs, signal).catch((error) => {
          if (!released()) throw error;
        });
      }
    } finally {
      gate?.close();
    }
    const waited = formatDuration(Date.now() - since.getTime());
    if (promotedNow()) return;
    if (released()) {
      recorder.progress(`${step}: released by \`gantry promote\` after ${waited}`);
      void events.emit('GateReleased', `${step} (${held}) released by \`gantry promote\` after ${waited}`);
      return;
    }
    if (context.onGateTimeout === 'promote') {
      recorder.progress(
        `${step}: nobody decided within ${waitFor}; going on as if promoted (on-gate-timeout)`,
      );
      void events.emit(
        'GateTimedOut',
        `nobody decided on ${step} (${held}) within ${waitFor}; going on as if promoted`,
        'Warning',
      );
      return;
    }
    throw new RollbackReason(`nobody promoted ${step} (${held}) within the gate timeout (${waitFor})`);
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
