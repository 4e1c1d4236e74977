import type { V1Deployment } from '@kubernetes/client-node';
import { vi } from 'vitest';
import type { RolloutEvents } from '../../../src/deploy/events.js';
import { TRACK_LABEL, type Track } from '../../../src/deploy/labels.js';
import type { AcquiredLease, RolloutState } from '../../../src/deploy/lease.js';
import type { Manifest } from '../../../src/deploy/manifests.js';
import { Promotions } from '../../../src/deploy/promotion.js';
import type { Recorder } from '../../../src/deploy/recorder.js';
import {
  describeMatch,
  type RouteContext,
  type Router,
  type StepMatch,
} from '../../../src/deploy/routers/types.js';
import {
  type CanaryStep,
  type GateTimeoutAction,
  RollbackReason,
  type RolloutContext,
  type StepAnalyzer,
  type Strategy,
  type StrategyOutcome,
} from '../../../src/deploy/strategies/types.js';
import type { RouterName, StepRecord } from '../../../src/deploy/types.js';
import { messageOf } from '../../../src/util/errors.js';
import { type ApiFailure, FakeCluster, type RolloutBehaviour } from './fake-cluster.js';

/**
 * One rollout against the fake cluster and the fake clock: the inputs a table row gives, the rest defaulted
 * (app `web` in namespace `shop`, 4 replicas on image v1, new image v2, steps 10/25/50, 60 s pauses, 30 s ready
 * timeout, 5 min overall timeout, 2 min blue-green delay, 10 min gate timeout then rollback, the gateway-api
 * router, an analysis where every step passes).
 */
export interface Setup {
  router?: RouterName;
  /** A real router instead of the fake (its writes land in the log as the cluster's). */
  realRouter?: Router;
  /** Weights (each lasting the 60 s pause), or steps with their own pause (`gate`: until promoted). */
  steps?: (number | CanaryStep)[];
  onGateTimeout?: GateTimeoutAction;
  startStep?: number;
  /** No stable Deployment yet (`current` undefined). */
  firstDeploy?: boolean;
  /** Per step index, what the analysis decides (missing steps pass); `false` runs without analysis (pauses). */
  analysis?: Record<number, StepAnalysis> | false;
  /** Per Deployment, what each successive write of its spec does (missing: ready after 2 s). */
  deployments?: Record<string, RolloutBehaviour[]>;
  /** Requests the API server refuses. */
  failures?: ApiFailure[];
  /** Router calls that fail, by their log line (`route 0`, `route finalize`), with an HTTP status. */
  routeFailures?: Record<string, number>;
  /**
   * `gantry promote` arrives `afterMs` into step `step` (or into the run, without `step`); `forGate`: sent for
   * the gate of that step index, as `gantry promote` sends it when it saw the rollout waiting there.
   */
  promote?: PromoteTrigger | PromoteTrigger[];
  /** The rollout's signal fires `afterMs` into step `step` (SIGTERM, `gantry abort`, a lost lease). */
  abort?: Trigger & { reason: string | Error };
}

export interface Trigger {
  step?: number;
  afterMs: number;
}

export type PromoteTrigger = Trigger & { forGate?: number };

/** A step's analysis: it passes at the step's end, or decides `atMs` into the step. */
export type StepAnalysis =
  | 'pass'
  | { breach: string; atMs: number }
  | { infrastructure: string; atMs: number };

/** What a row asserts: the outcome, every write and routing call in order, the steps, the fake time taken. */
export interface Observed {
  verdict: StrategyOutcome['verdict'];
  exitCode: StrategyOutcome['exitCode'];
  reason: string;
  /** Cluster writes, router calls (`route 25`) and analyses (`analyse #1 canary 60s`), in order. */
  log: string[];
  /** `<weight>% <result>` per step the recorder saw. */
  steps: string[];
  /** The last Kubernetes Event the rollout emitted. */
  lastEvent: string | undefined;
  /** Seconds on the fake clock from the start to the outcome. */
  seconds: number;
}

export const NAMESPACE = 'shop';
export const TIMING = {
  pauseMs: 60_000,
  readyTimeoutMs: 30_000,
  timeoutMs: 300_000,
  blueGreenDelayMs: 120_000,
  gateTimeoutMs: 600_000,
};

export const service: Manifest = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'web', namespace: NAMESPACE },
  spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] },
};

function deployment(image: string, track?: Track): Manifest {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: NAMESPACE, labels: { app: 'web' } },
    spec: {
      replicas: 4,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web', ...(track && { [TRACK_LABEL]: track }) } },
        spec: { containers: [{ name: 'web', image }] },
      },
    },
  };
}

/** The stable Deployment before the run: v1, fully rolled out. */
const current: Manifest & { status: Record<string, number> } = {
  ...deployment('registry.example/web:v1', 'stable'),
  status: { observedGeneration: 1, replicas: 4, updatedReplicas: 4, readyReplicas: 4, availableReplicas: 4 },
};

/**
 * Runs a strategy on a fake clock (vitest's fake timers must be on) against the fake cluster and fakes of
 * the router, analysis, recorder, events and lease, until its outcome; fails when it waits for nothing.
 */
export async function runRollout(strategy: Strategy, setup: Setup = {}): Promise<Observed & Extras> {
  const log: string[] = [];
  const cluster = new FakeCluster(log, setup.deployments, setup.failures);
  if (!setup.firstDeploy) cluster.seed(current);
  cluster.seed(service);
  const signal = new AbortController();
  // The real promotion routing: at an open gate a promote releases it, elsewhere it promotes now.
  const promotions = new Promotions();
  const abort = () => {
    const reason = setup.abort!.reason;
    signal.abort(typeof reason === 'string' ? new RollbackReason(reason) : reason);
  };
  /** Arms the row's triggers for a step as it starts (`undefined`: the run as it starts). */
  const arm = (step: number | undefined) => {
    if (setup.abort && setup.abort.step === step) setTimeout(abort, setup.abort.afterMs);
    for (const promote of [setup.promote ?? []].flat())
      if (promote.step === step) setTimeout(() => promotions.request(promote.forGate), promote.afterMs);
  };
  const recorder = new FakeRecorder(arm);
  arm(undefined);
  const events = new FakeEvents();
  const lease = new FakeLease();
  const router =
    setup.realRouter ?? new FakeRouter(setup.router ?? 'gateway-api', log, cluster, setup.routeFailures);
  const context: RolloutContext = {
    kube: cluster.kube(),
    namespace: NAMESPACE,
    name: 'web',
    runId: 'run-1',
    runLabel: 'run-1',
    target: deployment('registry.example/web:v2'),
    service,
    current: setup.firstDeploy ? undefined : (structuredClone(current) as V1Deployment),
    router,
    steps: (setup.steps ?? [10, 25, 50]).map((step) =>
      typeof step === 'number' ? { weight: step, pause: TIMING.pauseMs } : step,
    ),
    startStep: setup.startStep ?? 0,
    ...TIMING,
    onGateTimeout: setup.onGateTimeout ?? 'rollback',
    analyze: setup.analysis === false ? undefined : analyzer(log, setup.analysis ?? {}),
    signal: signal.signal,
    promoteNow: () => promotions.signal.aborted,
    promoted: promotions.signal,
    openGate: (index) => promotions.openGate(index),
    events: events as unknown as RolloutEvents,
    lease: lease as unknown as AcquiredLease,
    recorder: recorder as unknown as Recorder,
  };
  const started = Date.now();
  const outcome = await settle(strategy.run(context));
  return {
    ...outcome,
    log,
    steps: recorder.steps.map((step) => `${step.weight}% ${step.result}`),
    lastEvent: events.emitted.at(-1)?.reason,
    seconds: (Date.now() - started) / 1000,
    extras: { cluster, recorder, events, lease, router },
  };
}

/** The fakes behind a run, for the assertions beyond a row. */
export interface Extras {
  extras: {
    cluster: FakeCluster;
    recorder: FakeRecorder;
    events: FakeEvents;
    lease: FakeLease;
    router: Router;
  };
}

/**
 * Advances the fake clock one timer at a time until the promise settles. A promise still pending with no
 * timer left would never settle: that fails the test instead of hanging it.
 */
export async function settle<T>(promise: Promise<T>): Promise<T> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let timers = 0; timers < 10_000; timers++) {
    await new Promise((resolve) => setImmediate(resolve));
    if (settled) return promise;
    if (vi.getTimerCount() === 0) throw new Error('the rollout waits for something that never happens');
    await vi.advanceTimersToNextTimerAsync();
  }
  throw new Error('the rollout did not end within 10000 timers');
}

/**
 * The analysis, scripted per step: it logs `analyse #<step> <track> <seconds>s`, then passes at the step's
 * end or decides at `atMs`; when the step's signal fires first it ends at once, cancelled, as the real one does.
 */
function analyzer(log: string[], script: Record<number, StepAnalysis>): StepAnalyzer {
  return ({ step, durationMs, track, signal }) => {
    log.push(`analyse #${step} ${track} ${durationMs / 1000}s`);
    const decision = script[step] ?? 'pass';
    const atMs = decision === 'pass' ? durationMs : decision.atMs;
    return new Promise((resolve) => {
      const cancel = () => {
        clearTimeout(timer);
        resolve({
          outcome: 'aborted',
          reason: `analysis cancelled: ${messageOf(signal.reason)}`,
          cancelled: true,
          decidedAt: new Date(),
        });
      };
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', cancel);
        if (decision === 'pass') return resolve({ outcome: 'passed' });
        if ('breach' in decision)
          return resolve({ outcome: 'aborted', reason: decision.breach, decidedAt: new Date() });
        resolve({
          outcome: 'aborted',
          reason: decision.infrastructure,
          decidedAt: new Date(),
          infrastructure: true,
        });
      }, atMs);
      if (signal.aborted) cancel();
      else signal.addEventListener('abort', cancel, { once: true });
    });
  };
}

/**
 * A router that logs its calls (`route reconcile`, `route <weight>`, `route finalize`) and fails the ones the
 * row names. Like the replica router, it cannot weight a canary Deployment that does not exist (404).
 */
export class FakeRouter implements Router {
  readonly pinsStableSelector: boolean;
  /** Every call with what it was given: the wait bound and whether the rollout's signal can cut it short. */
  readonly calls: { call: string; timeoutMs: number; signal: boolean }[] = [];

  constructor(
    readonly name: RouterName,
    private readonly log: string[],
    private readonly cluster: FakeCluster,
    private readonly failures: Record<string, number> = {},
  ) {
    this.pinsStableSelector = name !== 'replicas';
  }

  async reconcile(context: RouteContext): Promise<void> {
    this.call('route reconcile', context);
  }

  async setRoutes(context: RouteContext, weight: number, match?: StepMatch): Promise<void> {
    const missing = this.name === 'replicas' && !this.cluster.get('Deployment', context.canaryDeployment);
    this.call(
      match ? `route ${weight} + ${describeMatch(match)}` : `route ${weight}`,
      context,
      missing ? 404 : undefined,
    );
  }

  async getRoutes(): Promise<{ stable: number; canary: number }> {
    throw new Error('the strategies do not read weights back');
  }

  async finalize(context: RouteContext): Promise<void> {
    this.call('route finalize', context);
  }

  private call(call: string, context: RouteContext, missing?: number): void {
    this.calls.push({ call, timeoutMs: context.timeoutMs, signal: context.signal !== undefined });
    const code = this.failures[call] ?? missing;
    this.log.push(code ? `${call} ✗${code}` : call);
    if (code) throw Object.assign(new Error(`${call}: HTTP ${code}`), { code });
  }
}

/** The recorder's surface, recording: steps with their results, timings (the first mark wins), progress. */
export class FakeRecorder {
  readonly steps: Pick<StepRecord, 'index' | 'weight' | 'result'>[] = [];
  readonly timings: Record<string, string> = {};
  readonly lines: string[] = [];

  constructor(private readonly onStepStarted: (index: number) => void) {}

  progress(line: string): void {
    this.lines.push(line);
  }

  mark(name: string, at: Date = new Date()): string {
    this.timings[name] ??= at.toISOString();
    return this.timings[name];
  }

  stepStarted(index: number, weight: number): void {
    this.steps.push({ index, weight, result: 'running' });
    this.onStepStarted(index);
  }

  stepEnded(result: StepRecord['result']): void {
    const step = this.steps.at(-1);
    if (step?.result === 'running') step.result = result;
  }

  check(): void {}
}

export class FakeEvents {
  readonly emitted: { reason: string; message: string; type: string }[] = [];

  async emit(reason: string, message: string, type = 'Normal'): Promise<void> {
    this.emitted.push({ reason, message, type });
  }
}

export class FakeLease {
  readonly recorded: Partial<RolloutState>[] = [];
  readonly lost = new AbortController().signal;

  async record(state: Partial<RolloutState>): Promise<void> {
    this.recorded.push(state);
  }

  async release(): Promise<void> {}

  note(): void {}

  onCommand(): void {}
}
