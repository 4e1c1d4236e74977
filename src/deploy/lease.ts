import type { V1Lease } from '@kubernetes/client-node';
import { InfraError } from '../util/errors.js';
import { log } from '../util/log.js';
import { sleep } from '../util/sleep.js';
import { isConflict, isNotFound, type Kube, toGantryError } from './kube.js';
import type { Check } from './types.js';

/** What a run records about itself on the Lease, so the next run can tell what an orphan was doing. */
export interface RolloutState {
  runId: string;
  /** `waiting`: a canary step holds its weight until a person runs `gantry promote` (or abort). */
  phase: 'progressing' | 'waiting' | 'promoting' | 'rolling-back' | 'done';
  strategy: string;
  router: string;
  step: number;
  weight: number;
  /** How many steps the rollout has (a canary's steps); absent on leases older runs wrote. */
  steps?: number;
  image: string;
  previousImage: string | null;
  /** The versioned config copies the run rolls out (`Kind/name-hash`, sorted, joined by commas); absent: none. */
  config?: string;
  startedAt: string;
  updatedAt: string;
  /** While `phase` is `waiting`: since when, until when, and what happens then if nobody decides. */
  gate?: {
    since: string;
    timeoutAt: string;
    onTimeout: 'rollback' | 'promote';
    /** The gate `gantry promote` releases (a `promote@<id>` command); absent: the step's own gate (`step`). */
    id?: number;
    /** A confirm-* hook gate: which one (the hooks are asked while it waits). */
    hook?: 'confirm-rollout' | 'confirm-promotion';
  };
  /**
   * The analysis of the current step so far: checks by result and the latest one. Noted without a write of
   * its own (see {@link AcquiredLease.note}): the next renewal or record carries it.
   */
  checks?: CheckTally;
  /** Set when the run ends: how it ended, in a sentence. */
  verdict?: string;
  reason?: string;
  /** Set when the run ends: its exit code (0 promoted, 1 rolled back, 3 failed, 4 rollback failed). */
  exitCode?: 0 | 1 | 3 | 4;
}

/** The checks of one step: how many passed, failed and were inconclusive, and the latest. */
export interface CheckTally {
  /** The step (0-based) the checks were taken in. */
  step: number;
  pass: number;
  fail: number;
  inconclusive: number;
  last: {
    metric: string;
    value: number | null;
    result: 'pass' | 'fail' | 'inconclusive';
    message: string;
    at: string;
  };
}

/** The tally with `check` counted: a check of another step than the tally's starts a new one. */
export function tallyCheck(tally: CheckTally | undefined, check: Check): CheckTally {
  const base = tally?.step === check.step ? tally : { step: check.step, pass: 0, fail: 0, inconclusive: 0 };
  return {
    ...base,
    [check.result]: base[check.result] + 1,
    last: {
      metric: check.metric,
      value: check.value,
      result: check.result,
      message: check.message,
      at: check.at,
    },
  };
}

export const STATE_ANNOTATION = 'gantry.dev/state';
/**
 * Written by `gantry promote` / `gantry abort`; read by the run holding the lease at its next renewal.
 * `promote@<step index>` is a promote for the gate of that step only (see deploy/promotion.ts).
 */
export const COMMAND_ANNOTATION = 'gantry.dev/command';
export type RolloutCommand = 'promote' | 'abort' | `promote@${number}`;

/** The command an annotation value holds, if it is one. */
export function parseCommand(value: string | undefined): RolloutCommand | undefined {
  if (value === 'promote' || value === 'abort') return value;
  if (value && /^promote@\d{1,4}$/.test(value)) return value as RolloutCommand;
  return undefined;
}

/** The step index a `promote@<index>` command is for (undefined for a plain promote or an abort). */
export function gateOfCommand(command: RolloutCommand): number | undefined {
  return command.startsWith('promote@') ? Number(command.slice('promote@'.length)) : undefined;
}

export interface AcquiredLease {
  /** State left by a previous holder that died without releasing (its runner was killed). */
  orphan?: RolloutState;
  /** Stops renewing and frees the lease (idempotent). */
  release(finalState?: Partial<RolloutState>): Promise<void>;
  /** Records progress on the lease. */
  record(state: Partial<RolloutState>): Promise<void>;
  /** Notes progress without a write of its own: the next renewal (or record) writes it. */
  note(state: Partial<RolloutState>): void;
  /** Aborted when the lease is lost (another run took it over): the rollout must stop. */
  lost: AbortSignal;
  /** Called when `gantry promote` or `gantry abort` asks this run to act. */
  onCommand(handler: (command: RolloutCommand) => void): void;
}

export interface LeaseOptions {
  namespace: string;
  service: string;
  runId: string;
  /** How long a holder's renewals may stop before the lease counts as stale. */
  durationSeconds: number;
  /** How long to wait for another run's lease before failing. */
  waitMs: number;
  /** Stops the wait for another run's lease (a cancelled job): throws {@link LeaseWaitCancelled}. */
  signal?: AbortSignal;
}

/** The wait for another run's lease was cancelled; the lease was not taken. */
export class LeaseWaitCancelled extends InfraError {}

/**
 * Lease times are MicroTime: the API server insists on six fractional digits, while the client library
 * writes Dates with three. Strings pass through its serializer untouched, so times are written as strings.
 */
function microTime(value: Date | string | undefined = new Date()): Date {
  const date = value instanceof Date ? value : new Date(value);
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z') as unknown as Date;
}

export function leaseName(service: string): string {
  return `gantry-${service}`.slice(0, 63);
}

/**
 * A coordination.k8s.io/v1 Lease per service, held and renewed by the running pipeline. A second pipeline
 * waits for it (up to `waitMs`) and then fails clearly; a lease whose holder stopped renewing is stale and is
 * taken over, handing the orphan's state to the caller so it can roll the orphan back.
 */
export async function acquireLease(
  kube: Kube,
  options: LeaseOptions,
  initial: RolloutState,
): Promise<AcquiredLease> {
  const name = leaseName(options.service);
  const deadline = Date.now() + options.waitMs;
  let announced = false;
  for (;;) {
    if (options.signal?.aborted)
      throw new LeaseWaitCancelled(`cancelled while waiting for lease ${name}; it was not taken`);
    const now = new Date();
    let lease: V1Lease | undefined;
    try {
      kube.count('get');
      lease = await kube.coordination.readNamespacedLease({ name, namespace: options.namespace });
    } catch (error) {
      if (!isNotFound(error)) throw toGantryError(`read lease ${name}`, error);
    }
    const holder = lease?.spec?.holderIdentity;
    const stale = holder ? isStale(lease!, now) : false;
    if (!lease || !holder || stale) {
      const orphan = stale ? parseState(lease?.metadata?.annotations?.[STATE_ANNOTATION]) : undefined;
      const body = takenLease(options, initial, now, lease);
      try {
        kube.count(lease ? 'update' : 'create');
        const created = lease
          ? await kube.coordination.replaceNamespacedLease({ name, namespace: options.namespace, body })
          : await kube.coordination.createNamespacedLease({ namespace: options.namespace, body });
        if (stale) log.warn(`lease ${name} was stale: run ${holder} stopped renewing it; taking over`);
        return holdLease(kube, options, created, orphan);
      } catch (error) {
        if (isLeaseConflict(error)) continue; // someone else was faster
        throw toGantryError(`take lease ${name}`, error);
      }
    }
    if (Date.now() >= deadline) {
      const since = lease.spec?.acquireTime ? ` since ${new Date(lease.spec.acquireTime).toISOString()}` : '';
      throw new InfraError(
        `another rollout of ${options.service} in ${options.namespace} is in progress (run ${holder}${since}); waited ${Math.round(options.waitMs / 1000)}s for lease ${name}`,
      );
    }
    if (!announced) {
      log.info(`waiting for run ${holder} to finish its rollout of ${options.service} (lease ${name})`);
      announced = true;
    }
    await sleep(Math.min(1000, Math.max(0, deadline - Date.now())), options.signal);
  }
}

/** The lease as this run takes it at `now`: a new one, or `previous` (free or stale) taken over. */
function takenLease(
  options: LeaseOptions,
  initial: RolloutState,
  now: Date,
  previous: V1Lease | undefined,
): V1Lease {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name: leaseName(options.service),
      namespace: options.namespace,
      resourceVersion: previous?.metadata?.resourceVersion,
      labels: { 'app.kubernetes.io/managed-by': 'gantry', 'gantry.dev/rollout': options.service },
      annotations: { [STATE_ANNOTATION]: JSON.stringify(initial) },
    },
    spec: {
      holderIdentity: options.runId,
      leaseDurationSeconds: options.durationSeconds,
      acquireTime: microTime(now),
      renewTime: microTime(now),
      leaseTransitions: (previous?.spec?.leaseTransitions ?? 0) + (previous ? 1 : 0),
    },
  };
}

function isStale(lease: V1Lease, now: Date): boolean {
  const renew = lease.spec?.renewTime ?? lease.spec?.acquireTime;
  if (!renew) return true;
  const duration = (lease.spec?.leaseDurationSeconds ?? 15) * 1000;
  return new Date(renew).getTime() + duration < now.getTime();
}

export function parseState(text: string | undefined): RolloutState | undefined {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as RolloutState;
  } catch {
    return undefined;
  }
}

/** A conflict: the lease changed since it was read (or, on create, someone created it first). */
function isLeaseConflict(error: unknown): boolean {
  return isConflict(error) || (error as { code?: number }).code === 409;
}

/** What the run holding a lease hands the rollout: the lease renewed in the background until released. */
function holdLease(
  kube: Kube,
  options: LeaseOptions,
  initial: V1Lease,
  orphan?: RolloutState,
): AcquiredLease {
  const held = new HeldLease(kube, options, initial);
  return {
    orphan,
    lost: held.lost.signal,
    onCommand: (handler) => held.onCommand(handler),
    record: (patch) => held.write(patch, options.runId),
    note: (patch) => held.note(patch),
    release: (finalState) => held.release(finalState),
  };
}

/**
 * A lease this run holds: the lease as last written, the state recorded on it, and one queue of writes
 * (renewals, records, the release), each a replace guarded by the lease's resourceVersion.
 */
class HeldLease {
  readonly lost = new AbortController();
  private readonly name: string;
  private current: V1Lease;
  private state: RolloutState | undefined;
  /** Noted since the last write, written by the next one. */
  private pending: Partial<RolloutState> = {};
  private released = false;
  private writing: Promise<void> = Promise.resolve();
  private commandHandler: (command: RolloutCommand) => void = () => {};
  // One renewal at a time: while the API is down a renewal waits (retrying), and renewals queued behind it
  // would each wait again before the final write of `release` could run.
  private renewing = false;
  private readonly renewer: NodeJS.Timeout;

  constructor(
    private readonly kube: Kube,
    private readonly options: LeaseOptions,
    initial: V1Lease,
  ) {
    this.name = leaseName(options.service);
    this.current = initial;
    this.state = parseState(initial.metadata?.annotations?.[STATE_ANNOTATION]);
    this.renewer = setInterval(() => this.renew(), Math.max(500, (options.durationSeconds * 1000) / 3));
    this.renewer.unref();
  }

  onCommand(handler: (command: RolloutCommand) => void): void {
    this.commandHandler = handler;
  }

  /** Queues a write of the state with `patch` merged in, and `holder` (none: released) as the holder. */
  write(patch: Partial<RolloutState>, holder: string | undefined): Promise<void> {
    this.writing = this.writing.then(() => this.writeNow(patch, holder));
    return this.writing;
  }

  /** Merges `patch` into the state the next write carries. */
  note(patch: Partial<RolloutState>): void {
    if (this.released) return;
    this.pending = { ...this.pending, ...patch };
  }

  /** Stops renewing and writes the final state with no holder (once; later calls wait for that write). */
  async release(finalState?: Partial<RolloutState>): Promise<void> {
    if (this.released) return this.writing;
    this.released = true;
    clearInterval(this.renewer);
    await this.write({ ...finalState }, undefined);
  }

  /** The renewal timer's tick: a write of the state as it is, unless one is still under way. */
  private renew(): void {
    if (this.released || this.renewing) return;
    this.renewing = true;
    void this.write({}, this.options.runId).finally(() => {
      this.renewing = false;
    });
  }

  /**
   * Up to three tries: a conflict re-reads the lease and tries again on the fresh version while it is still
   * ours; any other failure is a warning (the next renewal writes the same state again).
   */
  private async writeNow(patch: Partial<RolloutState>, holder: string | undefined): Promise<void> {
    this.state = {
      ...(this.state as RolloutState),
      ...this.pending,
      ...patch,
      updatedAt: new Date().toISOString(),
    };
    this.pending = {};
    for (let attempt = 0; attempt < 3 && !this.lost.signal.aborted; attempt++) {
      const body = this.nextLease(holder);
      try {
        this.kube.count('update');
        this.current = await this.kube.coordination.replaceNamespacedLease({
          name: this.name,
          namespace: this.options.namespace,
          body,
        });
        return;
      } catch (error) {
        if (!isLeaseConflict(error)) {
          log.warn(`could not renew lease ${this.name}: ${(error as Error).message}`);
          return;
        }
        if (!(await this.reread())) return;
      }
    }
  }

  /** The lease as last read, with the current state, `holder`, and renewed now. */
  private nextLease(holder: string | undefined): V1Lease {
    const current = this.current;
    return {
      ...current,
      metadata: {
        ...current.metadata,
        annotations: { ...current.metadata?.annotations, [STATE_ANNOTATION]: JSON.stringify(this.state) },
      },
      spec: {
        ...current.spec,
        holderIdentity: holder,
        acquireTime: microTime(current.spec?.acquireTime),
        renewTime: microTime(),
      },
    };
  }

  /**
   * Someone changed the lease under us: re-reads it. Still ours: keeps the fresh version (taking any command
   * off it) and returns true. No longer ours: we lost it; fires `lost` and returns false.
   */
  private async reread(): Promise<boolean> {
    this.kube.count('get');
    const fresh = await this.kube.coordination
      .readNamespacedLease({ name: this.name, namespace: this.options.namespace })
      .catch(() => undefined);
    if (!fresh || fresh.spec?.holderIdentity !== this.options.runId) {
      this.lost.abort(
        new InfraError(`lost lease ${this.name} to run ${fresh?.spec?.holderIdentity ?? 'unknown'}`),
      );
      return false;
    }
    this.current = this.takeCommand(fresh);
    return true;
  }

  /** Takes a pending command off a freshly read lease and hands it to the run. */
  private takeCommand(lease: V1Lease): V1Lease {
    const command = parseCommand(lease.metadata?.annotations?.[COMMAND_ANNOTATION]);
    if (!command) return lease;
    const { [COMMAND_ANNOTATION]: _taken, ...annotations } = lease.metadata!.annotations!;
    log.info(`received "${command}" for this rollout`);
    this.commandHandler(command);
    return { ...lease, metadata: { ...lease.metadata, annotations } };
  }
}
