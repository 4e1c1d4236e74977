import { messageOf } from '../../util/errors.js';
import { autoscaleTrack } from '../autoscaling.js';
import { previewName } from '../labels.js';
import { serviceForTrack, trackService } from '../routers/service.js';
import type { RouteContext } from '../routers/types.js';
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
import { pause, RollbackReason, type RolloutContext, type Strategy, type StrategyOutcome } from './types.js';

/**
 * Blue-green: the new version runs at full size as `<name>-preview` behind the Service `<name>-preview`;
 * analysis runs on the preview; then one atomic switch (the main Service's selector, or the route's weights)
 * sends all traffic to it. The old version is kept for `blueGreenDelayMs` with analysis running, so a breach
 * switches straight back. After the delay the stable Deployment is updated in the background (traffic
 * stays on the preview meanwhile), traffic switches back to it, and the preview is removed.
 */
export class BlueGreenStrategy implements Strategy {
  readonly name = 'blue-green' as const;

  async run(context: RolloutContext): Promise<StrategyOutcome> {
    const { kube, namespace, name, recorder, events, lease } = context;
    const preview = previewName(name);
    const replicas = replicasOf(context.current);
    const route = (signal?: AbortSignal): RouteContext => ({
      kube,
      namespace,
      name,
      canaryService: preview,
      service: context.service!,
      stableReplicas: replicas,
      canaryDeployment: preview,
      signal,
      timeoutMs: context.readyTimeoutMs,

      note: (line) => context.recorder.progress(line),
    });
    const bySelector = context.router.name === 'replicas';
    const switchTo = async (track: 'stable' | 'preview', signal?: AbortSignal) => {
      if (bySelector) await kube.apply(serviceForTrack(context.service!, track));
      else await context.router.setRoutes(route(signal), track === 'preview' ? 100 : 0);
    };
    // The preview's routing: its Service, and with a router the routes (or the canary Ingress) to it.
    const removeRouting = async () => {
      if (!bySelector) await context.router.finalize(route());
      else await kube.delete('v1', 'Service', namespace, preview);
    };
    let switched = false;
    try {
      recorder.progress(`creating ${preview} (${replicas} replica(s)) beside ${name}`);
      const created = await kube.apply(
        trackDeployment(context.target, preview, 'preview', replicas, context.runLabel),
      );
      // After the switch the preview takes all the traffic: it is autoscaled like the stable.
      await autoscaleTrack(kube, context.autoscaler, created, 1);
      await kube.apply(trackService(route(), preview, 'preview'));
      await waitRolledOut(kube, namespace, preview, {
        readyTimeoutMs: context.readyTimeoutMs,
        signal: context.signal,
      });
      if (!bySelector) await context.router.reconcile(route(context.signal));
      void events.emit('PreviewReady', `preview ${preview} is available`);
      // Up, without traffic: the pre-rollout hooks (a smoke test of the preview Service) decide first.
      await preRollout(context, { phase: 'pre-rollout', step: null, weight: 0 });

      recorder.stepStarted(0, 0, `analysing the preview (${preview}) before the switch`);
      void lease.record({ phase: 'progressing', step: 0, weight: 0 });
      await this.analyse(context, 0, context.pauseMs);
      recorder.stepEnded('passed');
      await confirmGate(context, 'confirm-promotion', { phase: 'confirm-promotion', step: 0, weight: 0 });

      recorder.stepStarted(
        1,
        100,
        `switched: all traffic to the new version; old one kept for ${Math.round(context.blueGreenDelayMs / 1000)}s`,
      );
      void lease.record({ phase: 'progressing', step: 1, weight: 100 });
      await switchTo('preview', context.signal);
      switched = true;
      recorder.mark('canaryTrafficStartedAt');
      void events.emit('Switched', `traffic switched to ${preview}`);
      await this.analyse(context, 1, context.blueGreenDelayMs);
      recorder.stepEnded('passed');
    } catch (error) {
      return takeOutNewVersion(context, error, {
        deployment: preview,
        trafficStarted: switched,
        restoreTraffic: () => switchTo('stable'),
        removeRouting,
      });
    }

    return this.promote(context, { switchTo, removeRouting, preview });
  }

  /** Promotion: the stable Deployment updated while traffic stays on the preview, then switched back. */
  private async promote(
    context: RolloutContext,
    routing: {
      switchTo: (track: 'stable' | 'preview', signal?: AbortSignal) => Promise<void>;
      removeRouting: () => Promise<void>;
      preview: string;
    },
  ): Promise<StrategyOutcome> {
    const { kube, namespace, name, recorder, events, lease } = context;
    const { switchTo, removeRouting, preview } = routing;
    void lease.record({ phase: 'promoting' });
    recorder.progress(`promoting: updating ${name} while traffic stays on ${preview}`);
    const previousTemplate = context.current?.spec?.template;
    try {
      await kube.apply(withTrack(context.target, 'stable'));
      await waitRolledOut(kube, namespace, name, { readyTimeoutMs: context.readyTimeoutMs });
    } catch (error) {
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
        deployment: preview,
        trafficStarted: true,
        restoreTraffic: () => switchTo('stable'),
        removeRouting,
      });
    }
    await switchTo('stable');
    await removeRouting();
    await deleteDeployment(kube, namespace, preview, context.timeoutMs);
    recorder.mark('promotedAt');
    void events.emit('Promoted', `${name} promoted to the new version`);
    return {
      verdict: 'promoted',
      reason: `preview and post-switch analysis passed; ${name} runs the new version`,
      exitCode: 0,
    };
  }

  private async analyse(context: RolloutContext, step: number, durationMs: number): Promise<void> {
    if (!context.analyze) return pause(durationMs, context.signal);
    // The preview's analysis before the switch may end early; the window after it keeps the old version its full length.
    const result = await context.analyze({
      step,
      durationMs,
      track: 'preview',
      signal: context.signal,
      mayEndEarly: step === 0,
    });
    if (result.outcome === 'aborted')
      throw new RollbackReason(
        result.reason ?? 'analysis failed',
        result.decidedAt,
        result.infrastructure ? 3 : 1,
      );
  }
}
