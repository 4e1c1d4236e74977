import { randomBytes } from 'node:crypto';
import type { V1Deployment } from '@kubernetes/client-node';
import { type GantryConfig, UNTIL_PROMOTED } from '../config/schema.js';
import { verifyDeployImages } from '../supply/gate.js';
import { ExitCode, GantryError, InputError, messageOf } from '../util/errors.js';
import { log } from '../util/log.js';
import { prepareReportDir } from '../util/report-dir.js';
import { prepareAnalysis } from './analysis/setup.js';
import { type Autoscaler, findAutoscaler, yieldReplicas } from './autoscaling.js';
import { applyCopies, collectConfigVersions, configKey } from './config-store.js';
import {
  type ConfigPlan,
  type ConfigRelease,
  configCopies,
  planConfigVersions,
  previousVersion,
  releaseConfig,
} from './config-versions.js';
import { RolloutEvents } from './events.js';
import { combineAnalyzers, hookAnalyzer } from './hooks/analyzer.js';
import { type Hook, Hooks, loadHooksFile } from './hooks/index.js';
import { apiMessage, Kube, toGantryError } from './kube.js';
import { canaryName, RUN_LABEL, runLabelValue, TRACK_LABEL } from './labels.js';
import {
  type AcquiredLease,
  acquireLease,
  type CheckTally,
  gateOfCommand,
  LeaseWaitCancelled,
  leaseName,
  type RolloutState,
  tallyCheck,
} from './lease.js';
import {
  findTarget,
  loadDeployManifests,
  type Manifest,
  parseImageSubstitution,
  substituteImages,
} from './manifests.js';
import { createNotifier, type Notifier } from './notify/index.js';
import { cleanupOrphan } from './orphans.js';
import { Promotions } from './promotion.js';
import { Recorder } from './recorder.js';
import { createRouter } from './routers/index.js';
import { serviceForTrack } from './routers/service.js';
import type { Router } from './routers/types.js';
import { checkScope, isMissingNamespace, isNamespaceObject, namespaceExists, ownNamespace } from './scope.js';
import { confirmGate, preRollout } from './strategies/confirm.js';
import { createStrategy } from './strategies/index.js';
import { RollingStrategy } from './strategies/rolling.js';
import {
  abortReason,
  type CanaryStep,
  describeSteps,
  RollbackReason,
  type RolloutContext,
} from './strategies/types.js';
import type { RolloutReport } from './types.js';
import { imageOf, restoreTemplate, waitRolledOut } from './workload.js';

export interface DeployResult {
  report: RolloutReport;
  exitCode: 0 | 1 | 3 | 4;
  /** Kubernetes API requests made, by verb (for the scale benchmark). */
  apiRequests: Record<string, number>;
}

export function newRunId(env: NodeJS.ProcessEnv = process.env): string {
  const ci = env.GITHUB_RUN_ID ?? env.CI_JOB_ID ?? env.BUILD_TAG;
  return `${ci ? `${ci}-` : ''}${randomBytes(4).toString('hex')}`;
}

/**
 * `gantry deploy`, as named phases. Pre-flight checks everything that can be checked before the cluster
 * changes: manifests parse, images are pinned by digest, no cluster-scoped object but the namespace's own,
 * the namespace exists (or its Namespace object is in the manifests), analysis queries parse, and the server
 * accepts every object in a server-side dry run. Then: create the namespace when the manifests bring it, lock
 * (take the service's lease), recover (roll back, or resume, an orphan a dead run left), apply, run the
 * strategy, and finalise (release, report).
 */
export interface DeployOptions {
  /** Aborts the rollout (SIGTERM, a cancelled job): the new version is taken out and removed. */
  signal: AbortSignal;
  runId?: string;
  /** Reads `-` in --manifests. */
  stdin?: () => string;
  /**
   * Called once pre-flight passed, before anything in the cluster changes: which rollout this run is (a front
   * end that can be killed mid-rollout records it, as the GitHub post step does), and the image it rolls out.
   */
  onPlanned?: (rollout: { namespace: string; name: string; runId: string; image: string }) => void;
}

export async function deploy(config: GantryConfig, options: DeployOptions): Promise<DeployResult> {
  const runId = options.runId ?? newRunId();
  const plan = await preflight(config, runId, options.stdin);
  options.onPlanned?.({ namespace: plan.settings.namespace, name: plan.name, runId, image: plan.newImage });
  const recorder = new Recorder(`${plan.settings.namespace}/${plan.name}`);
  if (!options.signal.aborted) await createNamespace(plan, recorder);
  const lease = await lock(plan, runId, recorder, options.signal);
  const run = connectSignals(plan, runId, lease, options.signal);
  const report = newReport(plan, runId, recorder);
  const hooks = withHooks(plan, report);
  followWithNotifications(plan, run.events, report);
  let exitCode: DeployResult['exitCode'] = 3;
  let release: ConfigRelease | undefined;
  try {
    release = await versionConfig(plan, lease);
    const start = await recover(plan, release, runId, lease, recorder, run.events);
    const current = await apply(plan, release, run, lease, report, recorder);
    const outcome = await runStrategy(plan, release, run, lease, recorder, current, start, hooks);
    report.verdict = outcome.verdict;
    report.reason = outcome.reason;
    exitCode = outcome.exitCode;
  } catch (error) {
    report.reason = messageOf(error);
    ({ verdict: report.verdict, exitCode } = failureVerdict(error, report.reason));
  } finally {
    run.disconnect();
    await finalise(plan, release, lease, report, recorder, exitCode, hooks);
  }
  return { report, exitCode, apiRequests: plan.kube.requestCounts };
}

/** Everything pre-flight established: what to roll out, where, and how it will be judged. */
interface Plan {
  /**
   * The manifests' Namespace object when that namespace does not exist yet: created before the lease is taken
   * (the lease lives in it), and the namespaced objects' dry run, which needs it, is made then.
   */
  missingNamespace: Manifest | undefined;
  settings: GantryConfig['deploy'];
  kube: Kube;
  manifests: Manifest[];
  /** The Deployment rolled out, and the Service of the same name (canary and blue-green need one). */
  target: Manifest;
  service: Manifest | undefined;
  name: string;
  newImage: string;
  /** The ConfigMaps and Secrets the target reads that are released as versioned copies. */
  config: ConfigPlan;
  analyze: Awaited<ReturnType<typeof prepareAnalysis>>;
  router: Router;
  /** Slack, Teams, webhook: their URLs read in pre-flight. */
  notifier: Notifier;
  /** The hooks file's hooks, their secret URLs and keys read in pre-flight. */
  hooks: Hook[];
}

/** Pre-flight: every check that needs no change to the cluster. Bad input fails here, with nothing changed. */
async function preflight(config: GantryConfig, runId: string, stdin?: () => string): Promise<Plan> {
  try {
    return await checkPlan(config, runId, stdin);
  } catch (error) {
    // With a chart, what the checks say about "the manifests" is about the chart's objects.
    if (config.deploy.chart !== undefined && error instanceof InputError && error.input === '--manifests') {
      throw new InputError('--chart', error.message.slice('--manifests: '.length), { cause: error });
    }
    throw error;
  }
}

async function checkPlan(config: GantryConfig, runId: string, stdin?: () => string): Promise<Plan> {
  const settings = config.deploy;
  if (settings.report) await prepareReportDir(settings.report);
  const notifier = createNotifier(config.notify);
  const hooks = settings.hooks ? loadHooksFile(settings.hooks) : [];
  const confirmsPromotion = hooks.find((hook) => hook.type === 'confirm-promotion');
  if (settings.strategy === 'rolling' && confirmsPromotion) {
    throw new InputError(
      '--hooks',
      `hook ${confirmsPromotion.name}: a rolling update has no promotion to confirm; use confirm-rollout, or --strategy canary or blue-green`,
    );
  }
  const substitutions = settings.images.map(parseImageSubstitution);
  const loaded = await loadDeployManifests(settings, stdin);
  const manifests = substituteImages(loaded, substitutions).map((m) => withNamespace(m, settings.namespace));
  const target = findTarget(manifests, settings.name);
  const name = target.metadata.name;
  const service = manifests.find((m) => m.kind === 'Service' && m.metadata.name === name);
  if (settings.strategy !== 'rolling' && !service) {
    throw new InputError(
      '--manifests',
      `${settings.strategy} needs a Service named "${name}" beside the Deployment`,
    );
  }
  if (settings.strategy === 'rolling' && settings.router !== 'replicas') {
    throw new InputError(
      '--router',
      'rolling updates do not route traffic; use --router replicas (the default)',
    );
  }
  const kube = Kube.load(settings.kubeconfig);
  const namespaceFound = await namespaceExists(kube, settings.namespace);
  await checkScope(kube, manifests, settings.namespace);
  const missingNamespace = namespaceFound ? undefined : requireOwnNamespace(manifests, settings.namespace);
  const analyze = await prepareAnalysis(config, {
    namespace: settings.namespace,
    name,
    run: runLabelValue(runId),
  });
  const configPlan = planConfigVersions(manifests, target);
  await dryRun(kube, withCopies(manifests, configPlan, name), {
    namespaceMissing: missingNamespace !== undefined,
  });
  // With a public key, nothing that does not verify is rolled out (src/supply/gate.ts).
  await verifyDeployImages(imagesOf(target), config.verify, config.registry.insecure);
  const newImage = imageOf(target) ?? '';
  return {
    settings,
    kube,
    manifests,
    target,
    service,
    name,
    newImage,
    config: configPlan,
    missingNamespace,
    analyze,
    router: createRouter(settings.router),
    notifier,
    hooks,
  };
}

/** Every image the Deployment's pods run: its containers' and init containers'. */
function imagesOf(target: { spec?: unknown }): string[] {
  const spec = (target.spec as V1Deployment['spec'])?.template?.spec;
  return [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])]
    .map((container) => container.image)
    .filter((image): image is string => Boolean(image));
}

/**
 * Notifications follow the rollout's events: the start, each canary step (with `notify.steps`); the end is sent
 * by `finalise`, with the verdict. They never change the rollout's outcome.
 */
function followWithNotifications(plan: Plan, events: RolloutEvents, report: RolloutReport): void {
  if (!plan.notifier.enabled) return;
  const steps = plan.settings.strategy === 'canary' ? plan.settings.steps.length : undefined;
  events.listen((reason) => {
    if (reason === 'RolloutStarted') plan.notifier.notify('started', report, steps);
    else if (reason === 'StepStarted') plan.notifier.notify('step', report, steps);
  });
}

/** The rollout's hooks, their results in the report (beside the checks); undefined without a hooks file. */
function withHooks(plan: Plan, report: RolloutReport): Hooks | undefined {
  if (plan.hooks.length === 0) return undefined;
  const steps =
    plan.settings.strategy === 'canary'
      ? plan.settings.steps.length
      : plan.settings.strategy === 'blue-green'
        ? 2
        : 1;
  const hooks = new Hooks(plan.hooks, () => report, steps);
  report.hooks = hooks.results;
  return hooks;
}

/**
 * The namespace, when the manifests bring its Namespace object and it does not exist yet: created, then the
 * dry run of the namespaced objects, which the server cannot check before their namespace exists. An object it
 * refuses now is bad input as in pre-flight: the namespace this run created is deleted again, and nothing else
 * was applied.
 */
async function createNamespace(plan: Plan, recorder: Recorder): Promise<void> {
  const { kube, settings, missingNamespace } = plan;
  if (!missingNamespace) return;
  recorder.progress(`creating namespace ${settings.namespace} from the manifests`);
  try {
    await kube.apply(stripSource(missingNamespace));
  } catch (error) {
    throw toGantryError(`create namespace ${settings.namespace}`, error);
  }
  const namespaced = withCopies(plan.manifests, plan.config, plan.name).filter((m) => !isNamespaceObject(m));
  const note = `namespace ${settings.namespace}, created for the rollout, was deleted again`;
  try {
    await dryRun(kube, namespaced, { namespaceMissing: false, note });
  } catch (error) {
    await kube
      .delete('v1', 'Namespace', '', settings.namespace)
      .catch((deleteError) =>
        log.warn(`could not delete namespace ${settings.namespace} again: ${messageOf(deleteError)}`),
      );
    throw error;
  }
}

/**
 * The manifests as the dry run sees them: each versioned object as its copy (named with a throwaway key for
 * Secrets: the name's length, all that matters here, is the same).
 */
function withCopies(manifests: Manifest[], config: ConfigPlan, app: string): Manifest[] {
  if (config.versioned.length === 0) return manifests;
  const copies = configCopies(config, app, { secretKey: randomBytes(32), releasedAt: new Date() });
  return manifests.map((m) => {
    const index = config.versioned.indexOf(m);
    return index < 0 ? m : { ...copies[index]!, source: m.source };
  });
}

/**
 * Version the config (the lease held): the copies of this release's ConfigMaps and Secrets and the target
 * rewritten to read them. Secret copies are named with the app's key, created here on first use.
 */
async function versionConfig(plan: Plan, lease: AcquiredLease): Promise<ConfigRelease> {
  const { config, kube, settings, name } = plan;
  const needsKey = config.versioned.some((m) => m.kind === 'Secret');
  const secretKey = needsKey
    ? await configKey(kube, settings.namespace, name).catch((error) => {
        throw toGantryError(`the config key of ${name}`, error);
      })
    : undefined;
  const release = releaseConfig(config, plan.target, name, { secretKey, releasedAt: new Date() });
  if (release.fingerprint) void lease.record({ config: release.fingerprint });
  return release;
}

/** Lock: takes the service's lease, waiting for another run's; a cancel before it is taken changes nothing. */
async function lock(
  plan: Plan,
  runId: string,
  recorder: Recorder,
  signal: AbortSignal,
): Promise<AcquiredLease> {
  const { settings, name } = plan;
  const initialState: RolloutState = {
    runId,
    phase: 'progressing',
    strategy: settings.strategy,
    router: settings.router,
    step: -1,
    weight: 0,
    image: plan.newImage,
    previousImage: null,
    startedAt: recorder.timings.startedAt,
    updatedAt: recorder.timings.startedAt,
  };
  // A cancel during pre-flight (or while waiting for another run's lease) stops here: nothing changed.
  const cancelledBeforeStart = () =>
    new GantryError(
      `${messageOf(abortReason(signal))} before the rollout of ${name} started; nothing was changed`,
      ExitCode.gate,
    );
  if (signal.aborted) throw cancelledBeforeStart();
  const lease = { namespace: settings.namespace, service: name, runId, signal };
  return acquireLease(
    plan.kube,
    { ...lease, durationSeconds: settings.leaseDuration, waitMs: settings.lockTimeout },
    initialState,
  ).catch((error) => {
    if (signal.aborted && error instanceof LeaseWaitCancelled) throw cancelledBeforeStart();
    throw toGantryError(`lease ${leaseName(name)}`, error);
  });
}

/** The running rollout's signals: abort (SIGTERM, a lost lease, `gantry abort`) and `gantry promote`. */
interface RunSignals {
  runId: string;
  signal: AbortSignal;
  promotions: Promotions;
  events: RolloutEvents;
  disconnect(): void;
}

function connectSignals(plan: Plan, runId: string, lease: AcquiredLease, cancel: AbortSignal): RunSignals {
  const events = new RolloutEvents(plan.kube, plan.settings.namespace, plan.name, runId);
  const controller = new AbortController();
  const onAbort = () => controller.abort(cancel.reason);
  cancel.addEventListener('abort', onAbort, { once: true });
  lease.lost.addEventListener('abort', () => controller.abort(lease.lost.reason), { once: true });
  // A signal that arrived while the lease was being taken fired before the listener above existed.
  if (cancel.aborted) controller.abort(cancel.reason);
  const promotions = new Promotions();
  lease.onCommand((command) => {
    if (command === 'abort') {
      controller.abort(new RollbackReason('aborted by `gantry abort`'));
      return;
    }
    const gate = gateOfCommand(command);
    if (promotions.request(gate) === 'ignored')
      log.info(
        `\`gantry promote\` for the gate of step ${gate! + 1} came after that gate was decided; ignored`,
      );
  });
  return {
    runId,
    signal: controller.signal,
    promotions,
    events,
    disconnect: () => cancel.removeEventListener('abort', onAbort),
  };
}

function newReport(plan: Plan, runId: string, recorder: Recorder): RolloutReport {
  const { settings } = plan;
  return {
    verdict: 'failed',
    name: plan.name,
    namespace: settings.namespace,
    strategy: settings.strategy,
    router: settings.router,
    runId,
    revision: null,
    previousImage: null,
    image: plan.newImage,
    reason: '',
    steps: recorder.steps,
    checks: recorder.checks,
    timings: recorder.timings,
  };
}

/** Where the strategy starts: its first step, and the run label of the new version's pods. */
interface Start {
  step: number;
  runLabel: string;
}

/**
 * Recover: a rollout left by a run that died (its lease went stale) is rolled back, or, with --resume, a
 * canary of this same image in progress is continued (its pods keep the orphan's run label). Returns where to
 * start.
 */
async function recover(
  plan: Plan,
  release: ConfigRelease,
  runId: string,
  lease: AcquiredLease,
  recorder: Recorder,
  events: RolloutEvents,
): Promise<Start> {
  const { settings } = plan;
  const fresh = { step: 0, runLabel: runLabelValue(runId) };
  const orphan = lease.orphan && lease.orphan.phase !== 'done' ? lease.orphan : undefined;
  if (!orphan) return fresh;
  const where = `run ${orphan.runId}, ${orphan.phase} at step ${orphan.step + 1}`;
  const resumable =
    (orphan.phase === 'progressing' || orphan.phase === 'waiting') &&
    orphan.image === plan.newImage &&
    (orphan.config ?? '') === release.fingerprint &&
    orphan.strategy === 'canary' &&
    settings.strategy === 'canary';
  if (settings.resume && resumable) {
    const startStep = Math.max(0, Math.min(orphan.step, settings.steps.length - 1));
    recorder.progress(`found an orphaned rollout (${where}); resuming at step ${startStep + 1}`);
    void events.emit(
      'OrphanResumed',
      `run ${orphan.runId} died during its rollout; resuming at step ${startStep + 1}`,
    );
    return { step: startStep, runLabel: await orphanRunLabel(plan, orphan.runId) };
  }
  if (settings.resume)
    recorder.progress(
      `cannot resume the orphaned rollout (${where}): ${resumable ? '' : 'it was not a canary of this image and config in progress; '}rolling it back`,
    );
  else recorder.progress(`found an orphaned rollout (${where}); rolling it back`);
  void events.emit('OrphanFound', `run ${orphan.runId} died during its rollout; rolling it back`, 'Warning');
  await cleanupOrphan(plan.kube, settings.namespace, plan.name, orphan, settings.timeout);
  recorder.progress('orphan removed; stable version untouched');
  return fresh;
}

/** The run label on the resumed canary's pods (the orphan's, or none if an older Gantry created it). */
async function orphanRunLabel(plan: Plan, orphanRunId: string): Promise<string> {
  const { kube, settings, name } = plan;
  const canary = await kube.read<V1Deployment>('apps/v1', 'Deployment', settings.namespace, canaryName(name));
  return canary?.spec?.template?.metadata?.labels?.[RUN_LABEL] ?? runLabelValue(orphanRunId);
}

/**
 * Apply: labels the stable pods with their track where routing needs it, then applies every object but the
 * Deployment (which the strategy rolls out), the main Service pinned to the stable track when routing needs it.
 * Returns the Deployment as it is now (undefined on a first deploy).
 */
async function apply(
  plan: Plan,
  release: ConfigRelease,
  run: RunSignals,
  lease: AcquiredLease,
  report: RolloutReport,
  recorder: Recorder,
): Promise<V1Deployment | undefined> {
  const { settings, kube, name, newImage } = plan;
  let current = await kube.read<V1Deployment>('apps/v1', 'Deployment', settings.namespace, name);
  run.events.setUid(current?.metadata?.uid);
  report.previousImage = imageOf(current);
  void lease.record({ previousImage: report.previousImage });
  recorder.progress(
    current
      ? `${settings.strategy} rollout of ${newImage} (${report.previousImage === newImage ? 'image unchanged' : `was ${report.previousImage}`}); steps ${settings.strategy === 'canary' ? describeSteps(settings.steps) : '-%'}`
      : `first deploy of ${name}: ${newImage}`,
  );
  if (release.versions.length > 0) {
    report.config = release.versions.map((v) => ({
      ...v,
      previous: previousVersion(current?.spec?.template, v.kind, v.name),
    }));
    for (const v of report.config) {
      const was = !v.previous ? '' : v.previous === v.version ? ' (unchanged)' : ` (was ${v.previous})`;
      recorder.progress(`${v.kind} ${v.name}: this release reads ${v.version}${was}`);
    }
  }
  for (const note of plan.config.notes) recorder.progress(note);
  const withConfig = release.versions.length
    ? ` with config ${release.versions.map((v) => v.version).join(', ')}`
    : '';
  void run.events.emit('RolloutStarted', `${settings.strategy} rollout of ${newImage}${withConfig} started`);
  // Selector-pinning routers and blue-green need the stable pods labelled with their track.
  const pins = pinsStable(plan);
  if (current && pins && current.spec?.template?.metadata?.labels?.[TRACK_LABEL] !== 'stable') {
    recorder.progress(
      `labelling ${name}'s pods with ${TRACK_LABEL}=stable (one-time rolling restart, same image)`,
    );
    const template = structuredClone(current.spec!.template!);
    template.metadata = {
      ...template.metadata,
      labels: { ...template.metadata?.labels, [TRACK_LABEL]: 'stable' },
    };
    await restoreTemplate(kube, settings.namespace, name, template);
    current = await waitRolledOut(kube, settings.namespace, name, { readyTimeoutMs: settings.timeout });
  }
  // The copies first (what reads them may be applied next); the originals are never written.
  await applyCopies(kube, release.copies, current);
  // The Namespace first: everything else lives in it.
  const ordered = [
    ...plan.manifests.filter(isNamespaceObject),
    ...plan.manifests.filter((m) => !isNamespaceObject(m)),
  ];
  for (const manifest of ordered) {
    if (manifest === plan.target || plan.config.versioned.includes(manifest)) continue;
    const object = manifest === plan.service && pins ? serviceForTrack(manifest, 'stable') : manifest;
    await kube.apply(stripSource(object));
  }
  return current;
}

const pinsStable = (plan: Plan) =>
  plan.settings.strategy === 'blue-green' ||
  (plan.settings.strategy === 'canary' && plan.router.pinsStableSelector);

/**
 * The new Deployment as the strategy applies it: without `spec.replicas` when a HorizontalPodAutoscaler scales
 * it, so the count the autoscaler chose is never written over (src/deploy/autoscaling.ts).
 */
async function deploymentToApply(
  plan: Plan,
  deployment: Manifest,
  current: V1Deployment | undefined,
  recorder: Recorder,
): Promise<{ target: Manifest; autoscaler?: Autoscaler }> {
  const target = stripSource(deployment);
  if (!current) return { target };
  const { kube, settings, name } = plan;
  const warn = (message: string) => recorder.progress(message);
  const autoscaler = await findAutoscaler(kube, settings.namespace, name, plan.manifests, warn);
  if (!autoscaler) return { target };
  recorder.progress(
    `${name} is scaled by HorizontalPodAutoscaler ${autoscaler.name} (${autoscaler.minReplicas}-${autoscaler.maxReplicas}); its ${current.spec?.replicas ?? '?'} replica(s) are left to it`,
  );
  return { target: await yieldReplicas(kube, target, current), autoscaler };
}

/** Run: the strategy (a first deploy is always rolling); cancelled before it started, nothing of it exists. */
async function runStrategy(
  plan: Plan,
  release: ConfigRelease,
  run: RunSignals,
  lease: AcquiredLease,
  recorder: Recorder,
  current: V1Deployment | undefined,
  start: Start,
  hooks: Hooks | undefined,
) {
  const { settings } = plan;
  const strategy = current ? createStrategy(settings.strategy) : new RollingStrategy();
  // The first deploy of a canary or blue-green has nothing to compare with: a plain rolling update, unanalysed.
  // The rollout and rollback hooks judge each step beside the metrics.
  const probes =
    hooks &&
    hookAnalyzer(hooks, (step) => ({
      phase: 'progressing',
      step,
      weight: recorder.steps.at(-1)?.weight ?? 0,
    }));
  const analyze = strategy.name === settings.strategy ? combineAnalyzers(plan.analyze, probes) : undefined;
  let tally: CheckTally | undefined;
  if (run.signal.aborted) {
    // Cancelled before the strategy changed anything (an orphan found above was still cleaned up).
    const reason = abortReason(run.signal);
    throw Object.assign(new RollbackReason(`${reason.message}; the rollout had not started`), {
      notStarted: true,
    });
  }
  const context: RolloutContext = {
    kube: plan.kube,
    namespace: settings.namespace,
    name: plan.name,
    runId: run.runId,
    runLabel: start.runLabel,
    ...(await deploymentToApply(plan, release.target, current, recorder)),
    service: plan.service ? stripSource(plan.service) : undefined,
    current,
    router: plan.router,
    steps: canarySteps(settings),
    pauseMs: settings.pause,
    gateTimeoutMs: settings.gateTimeout,
    onGateTimeout: settings.onGateTimeout,
    startStep: start.step,
    readyTimeoutMs: settings.readyTimeout,
    timeoutMs: settings.timeout,
    blueGreenDelayMs: settings.blueGreenDelay,
    analyze: analyze
      ? (step) =>
          analyze({
            ...step,
            run: start.runLabel,
            onCheck: (check) => {
              recorder.check(check);
              // The checks so far ride on the lease's next renewal: `gantry status --watch` shows them.
              tally = tallyCheck(tally, check);
              lease.note({ checks: tally });
            },
          })
      : undefined,
    signal: run.signal,
    promoteNow: () => run.promotions.signal.aborted,
    promoted: run.promotions.signal,
    openGate: (index) => run.promotions.openGate(index),
    hooks,
    events: run.events,
    lease,
    recorder,
  };
  await beforeStrategy(context, strategy.name === 'rolling');
  return strategy.run(context);
}

/**
 * Before the strategy changes anything: the confirm-rollout gate, and for a rolling update (whose first change
 * already moves traffic) the pre-rollout hooks. Stopped here, nothing of the new version exists: rolled back.
 */
async function beforeStrategy(context: RolloutContext, rolling: boolean): Promise<void> {
  const moment = { step: null, weight: 0 };
  try {
    if (context.startStep === 0)
      await confirmGate(context, 'confirm-rollout', { ...moment, phase: 'confirm-rollout' });
    if (rolling) await preRollout(context, { ...moment, phase: 'pre-rollout' });
  } catch (error) {
    const reason = error instanceof RollbackReason ? error : abortReason(context.signal);
    context.recorder.mark('abortDecidedAt', reason.decidedAt);
    throw Object.assign(new RollbackReason(`${reason.message}; the rollout had not started`), {
      notStarted: true,
    });
  }
}

/** The canary steps as the strategy runs them: each with its pause (`deploy.pause` unless it says otherwise). */
export function canarySteps(settings: Pick<GantryConfig['deploy'], 'steps' | 'pause'>): CanaryStep[] {
  return settings.steps.map(({ weight, pause, match }) => ({
    weight,
    pause: pause === UNTIL_PROMOTED ? 'gate' : (pause ?? settings.pause),
    ...(match ? { match } : {}),
  }));
}

/** What a failure outside the strategy (which handles its own rollback) means for the verdict and exit code. */
function failureVerdict(
  error: unknown,
  reason: string,
): { verdict: RolloutReport['verdict']; exitCode: DeployResult['exitCode'] } {
  // Cancelled (SIGTERM, `gantry abort`) before anything of the new version existed: as after a rollback,
  // the stable version is untouched.
  if ((error as { notStarted?: boolean }).notStarted) return { verdict: 'rolled-back', exitCode: 1 };
  log.warn(`rollout failed: ${reason}`);
  return { verdict: 'failed', exitCode: 3 };
}

/** Finalise: the revision now live, an API outage the run rode out, the lease released with the outcome. */
async function finalise(
  plan: Plan,
  release: ConfigRelease | undefined,
  lease: AcquiredLease,
  report: RolloutReport,
  recorder: Recorder,
  exitCode: DeployResult['exitCode'],
  hooks: Hooks | undefined,
): Promise<void> {
  const { kube, settings } = plan;
  recorder.finish();
  const after = await kube
    .read<V1Deployment>('apps/v1', 'Deployment', settings.namespace, plan.name)
    .catch(() => undefined);
  report.revision = after?.metadata?.annotations?.['deployment.kubernetes.io/revision'] ?? null;
  if (release?.fingerprint) await collectConfig(plan, after, recorder);
  const { outages, outageMs } = kube.transport;
  if (outages > 0) {
    report.reason += `; the Kubernetes API did not answer for ${(outageMs / 1000).toFixed(1)}s${outages > 1 ? ` (${outages} outages)` : ''}, requests were retried`;
  }
  // The outcome stays on the lease (not the Deployment, which a rolled-back run never touches).
  await lease
    .release({ phase: 'done', verdict: report.verdict, reason: report.reason, exitCode })
    .catch((error) => log.warn(`could not release the lease: ${messageOf(error)}`));
  recorder.progress(`${report.verdict}: ${report.reason}`);
  // After the outcome is final: a post-rollout hook is told the verdict, and never changes it.
  if (hooks?.has('post-rollout')) {
    const last = recorder.steps.at(-1);
    await hooks.runAll('post-rollout', {
      phase: 'done',
      step: last?.index ?? null,
      weight: report.verdict === 'promoted' ? 100 : 0,
      verdict: report.verdict,
      reason: report.reason,
    });
  }
  plan.notifier.notify('finished', report);
  await plan.notifier.flush();
}

/**
 * Old config copies collected, under the lease: the stable Deployment owns every copy, and all but the newest
 * few of each object go. A failure here is a warning: the rollout's outcome stands.
 */
async function collectConfig(
  plan: Plan,
  stable: V1Deployment | undefined,
  recorder: Recorder,
): Promise<void> {
  try {
    const removed = await collectConfigVersions(plan.kube, plan.settings.namespace, plan.name, stable);
    if (removed.length > 0) recorder.progress(`old config versions removed: ${removed.join(', ')}`);
  } catch (error) {
    log.warn(`could not collect old config versions of ${plan.name}: ${messageOf(error)}`);
  }
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

/** A namespace that does not exist must come with the manifests: their Namespace object (created after pre-flight). */
function requireOwnNamespace(manifests: Manifest[], namespace: string): Manifest {
  const own = ownNamespace(manifests, namespace);
  if (own) return own;
  throw new InputError(
    '--namespace',
    `namespace "${namespace}" does not exist (create it, or put its Namespace object in the manifests)`,
  );
}

/**
 * Server-side dry run of every object, the Namespace first; the first the server refuses is bad input, and
 * nothing is applied. When the namespace does not exist yet, the server answers "namespace not found" for the
 * namespaced objects before it validates them (admission runs first): that answer is expected here, and they
 * are dry-run once the namespace exists (`createNamespace`); any other refusal still counts.
 */
async function dryRun(
  kube: Kube,
  manifests: Manifest[],
  options: { namespaceMissing: boolean; note?: string },
): Promise<void> {
  const ordered = [...manifests.filter(isNamespaceObject), ...manifests.filter((m) => !isNamespaceObject(m))];
  for (const manifest of ordered) {
    try {
      await kube.apply(stripSource(manifest), { dryRun: true });
    } catch (error) {
      const namespace = manifest.metadata.namespace;
      if (options.namespaceMissing && namespace && isMissingNamespace(error, namespace)) continue;
      const status = (error as { code?: number }).code;
      if (status && status >= 400 && status < 500) {
        throw new InputError(
          '--manifests',
          `${manifest.kind} "${manifest.metadata.name}" (${manifest.source ?? 'manifests'}) was refused: ${apiMessage(error)}${options.note ? `; ${options.note}` : ''}`,
        );
      }
      throw toGantryError(`dry run of ${manifest.kind} ${manifest.metadata.name}`, error);
    }
  }
}
