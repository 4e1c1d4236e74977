import { randomBytes } from 'node:crypto';
import type { V1Deployment } from '@kubernetes/client-node';
import type { GantryConfig } from '../config/schema.js';
import { ExitCode, GantryError, InputError, messageOf } from '../util/errors.js';
import { log } from '../util/log.js';
import { prepareReportDir } from '../util/report-dir.js';
import { prepareAnalysis } from './analysis-setup.js';
import { RolloutEvents } from './events.js';
import { apiMessage, isNotFound, Kube, toGantryError } from './kube.js';
import { TRACK_LABEL } from './labels.js';
import { acquireLease, LeaseWaitCancelled, leaseName, type RolloutState } from './lease.js';
import {
  findTarget,
  loadManifests,
  type Manifest,
  parseImageSubstitution,
  substituteImages,
} from './manifests.js';
import { cleanupOrphan } from './orphans.js';
import { Recorder } from './recorder.js';
import { createRouter } from './routers/index.js';
import { serviceForTrack } from './routers/service.js';
import { BlueGreenStrategy } from './strategies/blue-green.js';
import { CanaryStrategy } from './strategies/canary.js';
import { RollingStrategy } from './strategies/rolling.js';
import { abortReason, RollbackReason, type Strategy } from './strategies/types.js';
import type { RolloutReport, StrategyName } from './types.js';
import { imageOf, restoreTemplate, waitRolledOut } from './workload.js';

export interface DeployResult {
  report: RolloutReport;
  exitCode: 0 | 1 | 3 | 4;
  /** Kubernetes API requests made, by verb (for the scale benchmark). */
  apiRequests: Record<string, number>;
}

export function createStrategy(name: StrategyName): Strategy {
  switch (name) {
    case 'rolling':
      return new RollingStrategy();
    case 'canary':
      return new CanaryStrategy();
    case 'blue-green':
      return new BlueGreenStrategy();
  }
}

export function newRunId(env: NodeJS.ProcessEnv = process.env): string {
  const ci = env.GITHUB_RUN_ID ?? env.CI_JOB_ID ?? env.BUILD_TAG;
  return `${ci ? `${ci}-` : ''}${randomBytes(4).toString('hex')}`;
}

/**
 * `gantry deploy`. Everything that can be checked is checked before the cluster changes: manifests parse,
 * images are pinned by digest, the namespace exists, analysis queries parse, and the server accepts every
 * object in a server-side dry run. Then: take the service's lease (roll back an orphan left by a dead run),
 * run the strategy, release, and report.
 */
export async function deploy(
  config: GantryConfig,
  options: { signal: AbortSignal; runId?: string; stdin?: () => string },
): Promise<DeployResult> {
  const d = config.deploy;
  const runId = options.runId ?? newRunId();
  if (d.report) await prepareReportDir(d.report);
  const substitutions = d.images.map(parseImageSubstitution);
  const loaded = await loadManifests(d.manifests, options.stdin);
  const manifests = substituteImages(loaded, substitutions).map((m) => withNamespace(m, d.namespace));
  const target = findTarget(manifests, d.name);
  const name = target.metadata.name;
  const service = manifests.find((m) => m.kind === 'Service' && m.metadata.name === name);
  if (d.strategy !== 'rolling' && !service) {
    throw new InputError(
      '--manifests',
      `${d.strategy} needs a Service named "${name}" beside the Deployment`,
    );
  }
  if (d.strategy === 'rolling' && d.router !== 'replicas') {
    throw new InputError(
      '--router',
      'rolling updates do not route traffic; use --router replicas (the default)',
    );
  }
  const kube = Kube.load(d.kubeconfig);
  await assertNamespace(kube, d.namespace);
  const analyze = await prepareAnalysis(config, { namespace: d.namespace, name });
  await dryRun(kube, manifests);

  const recorder = new Recorder(`${d.namespace}/${name}`);
  const newImage = imageOf(target) ?? '';
  const initialState: RolloutState = {
    runId,
    phase: 'progressing',
    strategy: d.strategy,
    router: d.router,
    step: -1,
    weight: 0,
    image: newImage,
    previousImage: null,
    startedAt: recorder.timings.startedAt,
    updatedAt: recorder.timings.startedAt,
  };
  // A cancel during the checks above (or while waiting for another run's lease) stops here: nothing changed.
  const cancelledBeforeStart = () =>
    new GantryError(
      `${messageOf(abortReason(options.signal))} before the rollout of ${name} started; nothing was changed`,
      ExitCode.gate,
    );
  if (options.signal.aborted) throw cancelledBeforeStart();
  const lease = await acquireLease(
    kube,
    {
      namespace: d.namespace,
      service: name,
      runId,
      durationSeconds: d.leaseDuration,
      waitMs: d.lockTimeout,
      signal: options.signal,
    },
    initialState,
  ).catch((error) => {
    if (options.signal.aborted && error instanceof LeaseWaitCancelled) throw cancelledBeforeStart();
    throw toGantryError(`lease ${leaseName(name)}`, error);
  });
  const events = new RolloutEvents(kube, d.namespace, name, runId);
  const controller = new AbortController();
  const onAbort = () => controller.abort(options.signal.reason);
  options.signal.addEventListener('abort', onAbort, { once: true });
  lease.lost.addEventListener('abort', () => controller.abort(lease.lost.reason), { once: true });
  // A signal that arrived while the lease was being taken fired before the listener above existed.
  if (options.signal.aborted) controller.abort(options.signal.reason);
  const promotion = new AbortController();
  lease.onCommand((command) => {
    if (command === 'abort') controller.abort(new RollbackReason('aborted by `gantry abort`'));
    else promotion.abort();
  });

  const router = createRouter(d.router);
  const report: RolloutReport = {
    verdict: 'failed',
    name,
    namespace: d.namespace,
    strategy: d.strategy,
    router: d.router,
    runId,
    revision: null,
    previousImage: null,
    image: newImage,
    reason: '',
    steps: recorder.steps,
    checks: recorder.checks,
    timings: recorder.timings,
  };
  let exitCode: DeployResult['exitCode'] = 3;
  try {
    let startStep = 0;
    const orphan = lease.orphan && lease.orphan.phase !== 'done' ? lease.orphan : undefined;
    if (orphan) {
      const where = `run ${orphan.runId}, ${orphan.phase} at step ${orphan.step + 1}`;
      const resumable =
        orphan.phase === 'progressing' &&
        orphan.image === newImage &&
        orphan.strategy === 'canary' &&
        d.strategy === 'canary';
      if (d.resume && resumable) {
        startStep = Math.max(0, Math.min(orphan.step, d.steps.length - 1));
        recorder.progress(`found an orphaned rollout (${where}); resuming at step ${startStep + 1}`);
        void events.emit(
          'OrphanResumed',
          `run ${orphan.runId} died during its rollout; resuming at step ${startStep + 1}`,
        );
      } else {
        if (d.resume)
          recorder.progress(
            `cannot resume the orphaned rollout (${where}): ${resumable ? '' : 'it was not a canary of this image in progress; '}rolling it back`,
          );
        else recorder.progress(`found an orphaned rollout (${where}); rolling it back`);
        void events.emit(
          'OrphanFound',
          `run ${orphan.runId} died during its rollout; rolling it back`,
          'Warning',
        );
        await cleanupOrphan(kube, d.namespace, name, orphan, d.timeout);
        recorder.progress('orphan removed; stable version untouched');
      }
    }
    let current = await kube.read<V1Deployment>('apps/v1', 'Deployment', d.namespace, name);
    events.setUid(current?.metadata?.uid);
    report.previousImage = imageOf(current);
    void lease.record({ previousImage: report.previousImage });
    recorder.progress(
      current
        ? `${d.strategy} rollout of ${newImage} (was ${report.previousImage}); steps ${d.strategy === 'canary' ? d.steps.join('/') : '-'}%`
        : `first deploy of ${name}: ${newImage}`,
    );
    void events.emit('RolloutStarted', `${d.strategy} rollout of ${newImage} started`);

    // Selector-pinning routers and blue-green need the stable pods labelled with their track.
    const pins = d.strategy === 'blue-green' || (d.strategy === 'canary' && router.pinsStableSelector);
    if (current && pins && current.spec?.template?.metadata?.labels?.[TRACK_LABEL] !== 'stable') {
      recorder.progress(
        `labelling ${name}'s pods with ${TRACK_LABEL}=stable (one-time rolling restart, same image)`,
      );
      const template = structuredClone(current.spec!.template!);
      template.metadata = {
        ...template.metadata,
        labels: { ...template.metadata?.labels, [TRACK_LABEL]: 'stable' },
      };
      await restoreTemplate(kube, d.namespace, name, template);
      current = await waitRolledOut(kube, d.namespace, name, { readyTimeoutMs: d.timeout });
    }
    // Everything but the Deployment goes first; the main Service pinned to the stable track when routing needs it.
    for (const manifest of manifests) {
      if (manifest === target) continue;
      const object = manifest === service && pins ? serviceForTrack(manifest, 'stable') : manifest;
      await kube.apply(stripSource(object));
    }
    const strategy = current ? createStrategy(d.strategy) : new RollingStrategy();
    if (controller.signal.aborted) {
      // Cancelled before the strategy changed anything (an orphan found above was still cleaned up).
      const reason = abortReason(controller.signal);
      throw Object.assign(new RollbackReason(`${reason.message}; the rollout had not started`), {
        notStarted: true,
      });
    }
    const outcome = await strategy.run({
      kube,
      namespace: d.namespace,
      name,
      runId,
      target: stripSource(target),
      service: service ? stripSource(service) : undefined,
      current,
      router,
      steps: d.steps,
      pauseMs: d.pause,
      startStep,
      readyTimeoutMs: d.readyTimeout,
      timeoutMs: d.timeout,
      blueGreenDelayMs: d.blueGreenDelay,
      analyze: analyze
        ? (step) =>
            analyze({
              ...step,
              onCheck: (check) => recorder.check(check),
            })
        : undefined,
      signal: controller.signal,
      promoteNow: () => promotion.signal.aborted,
      promoted: promotion.signal,
      events,
      lease,
      recorder,
    });
    report.verdict = outcome.verdict;
    report.reason = outcome.reason;
    exitCode = outcome.exitCode;
  } catch (error) {
    report.reason = messageOf(error);
    if ((error as { notStarted?: boolean }).notStarted) {
      // Cancelled (SIGTERM, `gantry abort`) before anything of the new version existed: as after a rollback,
      // the stable version is untouched.
      report.verdict = 'rolled-back';
      exitCode = 1;
    } else {
      report.verdict = 'failed';
      // Something failed before or outside the strategy (which handles its own rollback): infrastructure.
      exitCode = 3;
      log.warn(`rollout failed: ${report.reason}`);
    }
  } finally {
    options.signal.removeEventListener('abort', onAbort);
    recorder.finish();
    const after = await kube
      .read<V1Deployment>('apps/v1', 'Deployment', d.namespace, name)
      .catch(() => undefined);
    report.revision = after?.metadata?.annotations?.['deployment.kubernetes.io/revision'] ?? null;
    // An API outage the run rode out is part of what happened.
    const { outages, outageMs } = kube.transport;
    if (outages > 0) {
      report.reason += `; the Kubernetes API did not answer for ${(outageMs / 1000).toFixed(1)}s${outages > 1 ? ` (${outages} outages)` : ''}, requests were retried`;
    }
    // The outcome stays on the lease (not the Deployment, which a rolled-back run never touches).
    await lease
      .release({ phase: 'done', verdict: report.verdict, reason: report.reason })
      .catch((error) => log.warn(`could not release the lease: ${messageOf(error)}`));
    recorder.progress(`${report.verdict}: ${report.reason}`);
  }
  return { report, exitCode, apiRequests: kube.requestCounts };
}

function withNamespace(manifest: Manifest, namespace: string): Manifest {
  if (manifest.kind === 'Namespace') return manifest;
  if (manifest.metadata.namespace && manifest.metadata.namespace !== namespace) {
    throw new InputError(
      '--manifests',
      `${manifest.kind} "${manifest.metadata.name}" is in namespace ${manifest.metadata.namespace}, not --namespace ${namespace}`,
    );
  }
  return { ...manifest, metadata: { ...manifest.metadata, namespace } };
}

function stripSource(manifest: Manifest): Manifest {
  const { source: _source, ...object } = manifest;
  return object as Manifest;
}

async function assertNamespace(kube: Kube, namespace: string): Promise<void> {
  try {
    kube.count('get');
    await kube.objects.read({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  } catch (error) {
    if (isNotFound(error)) throw new InputError('--namespace', `namespace "${namespace}" does not exist`);
    throw toGantryError(`read namespace ${namespace}`, error);
  }
}

/** Server-side dry run of every object; the first the server refuses is bad input, and nothing is applied. */
async function dryRun(kube: Kube, manifests: Manifest[]): Promise<void> {
  for (const manifest of manifests) {
    try {
      await kube.apply(stripSource(manifest), { dryRun: true });
    } catch (error) {
      const status = (error as { code?: number }).code;
      if (status && status >= 400 && status < 500) {
        throw new InputError(
          '--manifests',
          `${manifest.kind} "${manifest.metadata.name}" (${manifest.source ?? 'manifests'}) was refused: ${apiMessage(error)}`,
        );
      }
      throw toGantryError(`dry run of ${manifest.kind} ${manifest.metadata.name}`, error);
    }
  }
}
