import type { V1Deployment } from '@kubernetes/client-node';
import type { Autoscaler } from '../autoscaling.js';
import type { RolloutEvents } from '../events.js';
import type { Hooks } from '../hooks/index.js';
import type { Kube } from '../kube.js';
import type { Track } from '../labels.js';
import type { AcquiredLease } from '../lease.js';
import type { Manifest } from '../manifests.js';
import type { Recorder } from '../recorder.js';
import { describeMatch, type Router, type StepMatch } from '../routers/types.js';
import type { Verdict } from '../types.js';

/** Runs the analysis for one step; resolves early with `aborted` on the first breach beyond the limits. */
export type StepAnalyzer = (options: {
  step: number;
  durationMs: number;
  track: Track;
  signal: AbortSignal;
  /** A timed step may end early with a pass when sequential metrics rule a regression out (never a gate). */
  mayEndEarly?: boolean;
}) => Promise<{
  outcome: 'passed' | 'aborted';
  reason?: string;
  /** When the deciding measurement was taken. */
  decidedAt?: Date;
  /** True when the step ended because `signal` fired, not because of a measurement. */
  cancelled?: boolean;
  /** True when the metrics provider failed (down, erroring) rather than the new version: exit 3. */
  infrastructure?: boolean;
}>;

export interface RolloutContext {
  kube: Kube;
  namespace: string;
  /** The app: stable Deployment and main Service name. */
  name: string;
  runId: string;
  /**
   * The run label (`gantry.dev/run-id`) of the new version's pods: this run's id as a label value, or, when
   * resuming an orphan's canary, the label its pods already have (the template stays the same, and the analysis
   * keeps measuring the same series).
   */
  runLabel: string;
  /** The new Deployment, images substituted by digest. */
  target: Manifest;
  /** The main Service (from the manifests or the cluster); required by canary and blue-green. */
  service?: Manifest;
  /** The stable Deployment in the cluster before this run (undefined on a first deploy). */
  current?: V1Deployment;
  router: Router;
  /** The HPA that scales the stable Deployment, if any: the new version gets one of its own while it runs. */
  autoscaler?: Autoscaler;
  /** Canary: the steps, weights increasing, each 1–99 (a match step: 0, with its match), with how long each lasts (or that it waits for a person). */
  steps: CanaryStep[];
  /** How long a step lasts when it says nothing else (blue-green: the preview's analysis before the switch; rolling with an analysis: the verification window). */
  pauseMs: number;
  /** Canary: how long a gate waits for `gantry promote` or `gantry abort`, and what happens after that. */
  gateTimeoutMs: number;
  onGateTimeout: GateTimeoutAction;
  /** Canary: the step to start at (a resumed orphan continues at the step it was in). */
  startStep: number;
  /** How long pods may take to become ready before the version counts as bad. */
  readyTimeoutMs: number;
  /** Overall bound for waits on the cluster. */
  timeoutMs: number;
  /** Blue-green: how long the old version is kept after the switch, with analysis, for an instant switch back. */
  blueGreenDelayMs: number;
  analyze?: StepAnalyzer;
  /** Aborted on SIGTERM/SIGINT, a lost lease, or `gantry abort`; `reason` says which. */
  signal: AbortSignal;
  /** Set by `gantry promote` while the rollout runs outside a gate: skip the remaining steps. */
  promoteNow: () => boolean;
  /** Fires when `gantry promote` asks outside a gate: the step in progress ends at once. */
  promoted?: AbortSignal;
  /**
   * Canary: opens the gate of step `index` — from now until `close()`, `gantry promote` releases this gate (its
   * signal fires) instead of promoting at once. Without it a gate can only time out.
   */
  openGate?: (index: number) => Gate;
  /** The rollout's hooks (`--hooks`): pre-rollout and confirm-* are called by the strategies at their points. */
  hooks?: Hooks;
  events: RolloutEvents;
  lease: AcquiredLease;
  recorder: Recorder;
}

/** One canary step: the share of traffic the new version gets, and how long the step lasts. */
export interface CanaryStep {
  /** Percent of the traffic; 0 for a match step. */
  weight: number;
  /** A match step: only the requests that match go to the new version (weighted routers only). */
  match?: StepMatch;
  /** Milliseconds, or `gate`: the step holds its weight until a person decides (`gantry promote`/`abort`). */
  pause: number | 'gate';
}

/** `10/25/50%`, or with match steps `header x-canary: always/25/50%`. */
export function describeSteps(steps: readonly Pick<CanaryStep, 'weight' | 'match'>[]): string {
  const parts = steps.map((step) => (step.match ? describeMatch(step.match) : String(step.weight)));
  return `${parts.join('/')}${steps.at(-1)?.match ? '' : '%'}`;
}

/** What a gate does when nobody decided in time: roll back, or continue as if `gantry promote` had come. */
export type GateTimeoutAction = 'rollback' | 'promote';

/** A gate held open by a canary step: `released` fires when `gantry promote` arrives for it. */
export interface Gate {
  released: AbortSignal;
  /** The gate is decided (released, timed out, or the rollout stopped): `gantry promote` means promote again. */
  close(): void;
}

export interface StrategyOutcome {
  verdict: Verdict;
  reason: string;
  /** 0 promoted, 1 rolled back (gate), 3 infrastructure failure after best-effort rollback, 4 rollback failed. */
  exitCode: 0 | 1 | 3 | 4;
}

/** One rollout strategy (rolling, canary, blue-green): one file each. */
export interface Strategy {
  readonly name: 'rolling' | 'canary' | 'blue-green';
  run(context: RolloutContext): Promise<StrategyOutcome>;
}

/** Why a rollout stopped before promotion; carries the decision time for the timings. */
export class RollbackReason extends Error {
  constructor(
    message: string,
    readonly decidedAt: Date = new Date(),
    readonly exitCode: 1 | 3 = 1,
  ) {
    super(message);
  }
}

/** Sleeps, waking early (and throwing) when the rollout is aborted. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(abortReason(signal));
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortReason(signal));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export function abortReason(signal: AbortSignal): RollbackReason {
  const reason = signal.reason;
  if (reason instanceof RollbackReason) return reason;
  return new RollbackReason(reason instanceof Error ? reason.message : String(reason ?? 'aborted'));
}
