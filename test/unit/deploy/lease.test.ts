import { ApiException, type V1Lease } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Kube } from '../../../src/deploy/kube.js';
import {
  type AcquiredLease,
  acquireLease,
  type CheckTally,
  COMMAND_ANNOTATION,
  type LeaseOptions,
  LeaseWaitCancelled,
  type RolloutCommand,
  type RolloutState,
  STATE_ANNOTATION,
} from '../../../src/deploy/lease.js';
import { InfraError } from '../../../src/util/errors.js';
import { setLogSink } from '../../../src/util/log.js';

// The per-service rollout lock against an in-memory Lease API and a fake clock: no API server, no real sleeps.
// (Against a real API server, with real processes killed and racing: test/integration/faults.test.ts.)
const T0 = Date.parse('2025-06-01T12:00:00.000Z');
const NS = 'shop';
const LEASE = 'gantry-web';
/** A MicroTime as Gantry writes it: six fractional digits. */
const micro = (ms: number) => new Date(ms).toISOString().replace('Z', '000Z');

type Verb = 'read' | 'create' | 'replace';
type Hook = () => void | Promise<void>;

function apiError(code: number, message: string): ApiException<unknown> {
  return new ApiException(code, 'Unknown API Status Code!', { kind: 'Status', code, message }, {});
}

/**
 * The Lease part of the API server, in memory: what lease.ts calls on `kube.coordination`. Every write bumps
 * the resourceVersion; a replace carrying an older one is a 409, a create of an existing lease a 409
 * (AlreadyExists), a read or replace of a missing one a 404. Objects travel as JSON and come back with Dates
 * for times, as the client library returns them. `before(verb, …)` queues what happens just before the next
 * such request (another writer getting in first, a fault, a slow answer); `calls` is what was asked, and when.
 */
class FakeLeaseApi {
  readonly calls: { at: number; verb: Verb; status: number }[] = [];
  private readonly leases = new Map<string, V1Lease>();
  private readonly hooks: Record<Verb, Hook[]> = { read: [], create: [], replace: [] };
  private version = 100;

  before(verb: Verb, ...hooks: Hook[]): void {
    this.hooks[verb].push(...hooks);
  }

  /** Gantry's lease as stored (times as written). */
  get(): V1Lease | undefined {
    const lease = this.leases.get(`${NS}/${LEASE}`);
    return lease && structuredClone(lease);
  }

  state(): RolloutState | undefined {
    const text = this.get()?.metadata?.annotations?.[STATE_ANNOTATION];
    return text ? JSON.parse(text) : undefined;
  }

  /** Another client writes the whole lease (another run takes it, renews or releases it). */
  put(lease: V1Lease): void {
    this.store(NS, lease);
  }

  /** Another client merge-patches annotations (`gantry promote`, `kubectl annotate`). */
  annotate(annotations: Record<string, string>): void {
    const lease = this.get()!;
    this.store(NS, {
      ...lease,
      metadata: { ...lease.metadata, annotations: { ...lease.metadata?.annotations, ...annotations } },
    });
  }

  readNamespacedLease(request: { name: string; namespace: string }): Promise<V1Lease> {
    return this.answer('read', () => this.existing(request.namespace, request.name));
  }

  createNamespacedLease(request: { namespace: string; body: V1Lease }): Promise<V1Lease> {
    return this.answer('create', () => {
      const name = request.body.metadata!.name!;
      if (this.leases.has(`${request.namespace}/${name}`))
        throw apiError(409, `leases.coordination.k8s.io "${name}" already exists`);
      if (request.body.metadata?.resourceVersion)
        throw apiError(500, 'resourceVersion should not be set on objects to be created');
      return this.store(request.namespace, request.body);
    });
  }

  replaceNamespacedLease(request: { name: string; namespace: string; body: V1Lease }): Promise<V1Lease> {
    return this.answer('replace', () => {
      const stored = this.existing(request.namespace, request.name);
      const version = request.body.metadata?.resourceVersion;
      if (version && version !== stored.metadata!.resourceVersion)
        throw apiError(
          409,
          `Operation cannot be fulfilled on leases.coordination.k8s.io "${request.name}": the object has been modified; please apply your changes to the latest version and try again`,
        );
      return this.store(request.namespace, request.body);
    });
  }

  private existing(namespace: string, name: string): V1Lease {
    const lease = this.leases.get(`${namespace}/${name}`);
    if (!lease) throw apiError(404, `leases.coordination.k8s.io "${name}" not found`);
    return lease;
  }

  private store(namespace: string, body: V1Lease): V1Lease {
    const lease: V1Lease = JSON.parse(JSON.stringify(body));
    lease.metadata = { ...lease.metadata, namespace, resourceVersion: String(++this.version) };
    this.leases.set(`${namespace}/${lease.metadata.name}`, lease);
    return lease;
  }

  private async answer(verb: Verb, handle: () => V1Lease): Promise<V1Lease> {
    try {
      await this.hooks[verb].shift()?.();
      const lease: V1Lease = structuredClone(handle());
      this.calls.push({ at: Date.now() - T0, verb, status: 200 });
      if (lease.spec?.acquireTime) lease.spec.acquireTime = new Date(lease.spec.acquireTime);
      if (lease.spec?.renewTime) lease.spec.renewTime = new Date(lease.spec.renewTime);
      return lease;
    } catch (error) {
      this.calls.push({ at: Date.now() - T0, verb, status: (error as { code?: number }).code ?? 0 });
      throw error;
    }
  }
}

/** The state a run records on its lease. */
function runState(runId: string, extra: Partial<RolloutState> = {}): RolloutState {
  return {
    runId,
    phase: 'progressing',
    strategy: 'canary',
    router: 'replicas',
    step: -1,
    weight: 0,
    image: 'registry.test/web:2',
    previousImage: null,
    startedAt: new Date(T0).toISOString(),
    updatedAt: new Date(T0).toISOString(),
    ...extra,
  };
}

/** A lease as another run leaves it: `holder` (none: released) renewed it `renewedAgoMs` before now. */
function leaseOf(
  holder: string | undefined,
  lease: {
    renewedAgoMs?: number;
    acquiredAgoMs?: number;
    durationSeconds?: number;
    transitions?: number;
    state?: Partial<RolloutState> | string;
  } = {},
): V1Lease {
  const now = Date.now();
  const state = lease.state ?? {};
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name: LEASE,
      namespace: NS,
      annotations: {
        [STATE_ANNOTATION]:
          typeof state === 'string' ? state : JSON.stringify(runState(holder ?? 'run-a', state)),
      },
    },
    spec: {
      holderIdentity: holder,
      leaseDurationSeconds: lease.durationSeconds ?? 15,
      acquireTime: micro(now - (lease.acquiredAgoMs ?? lease.renewedAgoMs ?? 0)) as unknown as Date,
      renewTime: micro(now - (lease.renewedAgoMs ?? 0)) as unknown as Date,
      leaseTransitions: lease.transitions ?? 0,
    },
  };
}

/** A check tally of `step` with `pass` passed checks. */
function tally(step: number, pass: number): CheckTally {
  return {
    step,
    pass,
    fail: 0,
    inconclusive: 0,
    last: {
      metric: 'error-rate',
      value: 0.01,
      result: 'pass',
      message: '0.01 ≤ max 0.05',
      at: `check ${pass}`,
    },
  };
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

let api: FakeLeaseApi;
let kube: Kube;
let logs: string[];

beforeEach(() => {
  vi.useFakeTimers({ now: T0 });
  api = new FakeLeaseApi();
  kube = { requestCounts: {}, count() {}, coordination: api } as unknown as Kube;
  logs = [];
  setLogSink({
    info: (line) => logs.push(line),
    warn: (line) => logs.push(`warning: ${line}`),
    startGroup() {},
    endGroup() {},
  });
});

afterEach(() => {
  vi.clearAllTimers();
  vi.useRealTimers();
});

function options(extra: Partial<LeaseOptions> = {}): LeaseOptions {
  return { namespace: NS, service: 'web', runId: 'run-b', durationSeconds: 15, waitMs: 30_000, ...extra };
}

/** Other clients' moves on the fake clock, at milliseconds after the start. */
function schedule<T>(timeline: [number, (arg: T) => unknown][], arg: T): void {
  for (const [at, move] of timeline) setTimeout(() => void move(arg), at);
}

const calls = (verb?: Verb) =>
  api.calls.filter((c) => !verb || c.verb === verb).map((c) => `${c.at} ${c.verb} ${c.status}`);

describe('acquireLease: taking the lock', () => {
  interface Row {
    name: string;
    /** On the server before the run asks (default: no lease). */
    server?: () => void;
    /** Other clients' moves while the run waits. */
    timeline?: [number, () => unknown][];
    options?: Partial<LeaseOptions>;
    /** Cancels the wait (the run's signal) at this time. */
    cancelAt?: number;
    /** When acquireLease settled, on the fake clock. */
    at: number;
    /** The failure; absent: the lease is ours. */
    error?: string;
    orphan?: Partial<RolloutState>;
    transitions?: number;
    /** The holder on the server afterwards (default: run-b, this run; 'none': no holder or no lease). */
    holder?: string;
    /** Every request, "ms verb status". */
    calls: string[];
    logs?: string[];
  }
  const waiting = (holder: string) =>
    `waiting for run ${holder} to finish its rollout of web (lease gantry-web)`;
  const reads = (from: number, to: number) =>
    Array.from({ length: (to - from) / 1000 + 1 }, (_, i) => `${from + i * 1000} read 200`);

  it.each<Row>([
    {
      name: 'a free lock (no lease yet) is created at once',
      at: 0,
      transitions: 0,
      calls: ['0 read 404', '0 create 200'],
    },
    {
      name: 'a released lease (no holder) is taken at once, with no orphan',
      server: () =>
        api.put(leaseOf(undefined, { renewedAgoMs: 60_000, transitions: 3, state: { phase: 'done' } })),
      at: 0,
      transitions: 4,
      calls: ['0 read 200', '0 replace 200'],
    },
    {
      name: 'held by a live holder: waits, reading once a second, and takes it once released',
      server: () => api.put(leaseOf('run-a', { transitions: 2 })),
      timeline: [[4_500, () => api.put(leaseOf(undefined, { transitions: 2, state: { phase: 'done' } }))]],
      at: 5_000,
      transitions: 3,
      calls: [...reads(0, 5_000), '5000 replace 200'],
      logs: [waiting('run-a')],
    },
    {
      name: 'held by a live holder past the lock timeout: fails naming the holder and since when',
      server: () => api.put(leaseOf('run-a', { acquiredAgoMs: 120_000, durationSeconds: 60 })),
      options: { waitMs: 10_000 },
      at: 10_000,
      error:
        'another rollout of web in shop is in progress (run run-a since 2025-06-01T11:58:00.000Z); waited 10s for lease gantry-web',
      holder: 'run-a',
      calls: reads(0, 10_000),
      logs: [waiting('run-a')],
    },
    {
      name: 'a stale holder (not renewed for its lease duration) is taken over; its state is the orphan',
      server: () =>
        api.put(
          leaseOf('run-a', {
            renewedAgoMs: 15_001,
            transitions: 1,
            state: { phase: 'promoting', step: 2, weight: 50 },
          }),
        ),
      at: 0,
      orphan: { runId: 'run-a', phase: 'promoting', step: 2, weight: 50 },
      transitions: 2,
      calls: ['0 read 200', '0 replace 200'],
      logs: ['warning: lease gantry-web was stale: run run-a stopped renewing it; taking over'],
    },
    {
      name: 'renewed exactly its lease duration ago is still live (stale only after)',
      server: () => api.put(leaseOf('run-a', { renewedAgoMs: 15_000 })),
      options: { waitMs: 0 },
      at: 0,
      error: 'another rollout of web in shop is in progress (run run-a since 2025-06-01T11:59:45.000Z)',
      holder: 'run-a',
      calls: ['0 read 200'],
    },
    {
      name: 'a holder that stops renewing while the run waits is taken over once its duration has passed',
      server: () =>
        api.put(leaseOf('run-a', { durationSeconds: 3, state: { phase: 'rolling-back', step: 1 } })),
      at: 4_000,
      orphan: { runId: 'run-a', phase: 'rolling-back', step: 1 },
      transitions: 1,
      calls: [...reads(0, 4_000), '4000 replace 200'],
      logs: [
        waiting('run-a'),
        'warning: lease gantry-web was stale: run run-a stopped renewing it; taking over',
      ],
    },
    {
      name: 'a holder that keeps renewing a short lease is never taken over',
      server: () => api.put(leaseOf('run-a', { durationSeconds: 3 })),
      timeline: [
        [2_400, () => api.put(leaseOf('run-a', { durationSeconds: 3, acquiredAgoMs: 2_400 }))],
        [4_800, () => api.put(leaseOf('run-a', { durationSeconds: 3, acquiredAgoMs: 4_800 }))],
      ],
      options: { waitMs: 6_000 },
      at: 6_000,
      error:
        'another rollout of web in shop is in progress (run run-a since 2025-06-01T12:00:00.000Z); waited 6s for lease gantry-web',
      holder: 'run-a',
      calls: reads(0, 6_000),
      logs: [waiting('run-a')],
    },
    {
      name: 'a stale lease whose state cannot be read is taken over with no orphan',
      server: () => api.put(leaseOf('run-a', { renewedAgoMs: 20_000, state: '{not json' })),
      at: 0,
      transitions: 1,
      calls: ['0 read 200', '0 replace 200'],
      logs: ['warning: lease gantry-web was stale: run run-a stopped renewing it; taking over'],
    },
    {
      name: 'a concurrent run creates the lease first (409 on create): the run re-reads and waits for it',
      server: () => api.before('create', () => api.put(leaseOf('run-c'))),
      timeline: [[2_500, () => api.put(leaseOf(undefined, { state: { runId: 'run-c', phase: 'done' } }))]],
      at: 3_000,
      transitions: 1,
      calls: ['0 read 404', '0 create 409', ...reads(0, 3_000), '3000 replace 200'],
      logs: [waiting('run-c')],
    },
    {
      name: 'a concurrent take-over of the same stale lease (409 on replace): the faster run keeps it',
      server: () => {
        api.put(leaseOf('run-a', { renewedAgoMs: 30_000 }));
        api.before('replace', () => api.put(leaseOf('run-c', { transitions: 1 })));
      },
      options: { waitMs: 0 },
      at: 0,
      error: 'another rollout of web in shop is in progress (run run-c since 2025-06-01T12:00:00.000Z)',
      holder: 'run-c',
      calls: ['0 read 200', '0 replace 409', '0 read 200'],
    },
    {
      name: 'a conflict from a write that leaves the lease free is retried at once on the fresh version',
      server: () => {
        api.put(leaseOf(undefined, { transitions: 5 }));
        api.before('replace', () => api.annotate({ 'example.com/note': 'touched' }));
      },
      at: 0,
      transitions: 6,
      calls: ['0 read 200', '0 replace 409', '0 read 200', '0 replace 200'],
    },
    {
      name: 'a read that fails (HTTP 500) fails at once with the server’s message',
      server: () =>
        api.before('read', () => {
          throw apiError(500, 'etcdserver: request timed out');
        }),
      at: 0,
      error: 'read lease gantry-web: etcdserver: request timed out',
      holder: 'none',
      calls: ['0 read 500'],
    },
    {
      name: 'a create that fails (HTTP 500) fails with the server’s message, not as a conflict',
      server: () =>
        api.before('create', () => {
          throw apiError(500, 'etcdserver: leader changed');
        }),
      at: 0,
      error: 'take lease gantry-web: etcdserver: leader changed',
      holder: 'none',
      calls: ['0 read 404', '0 create 500'],
    },
    {
      name: 'cancelled while waiting: stops at once and leaves the holder’s lease alone',
      server: () => api.put(leaseOf('run-a')),
      cancelAt: 2_500,
      at: 2_500,
      error: 'cancelled while waiting for lease gantry-web; it was not taken',
      holder: 'run-a',
      calls: reads(0, 2_000),
      logs: [waiting('run-a')],
    },
  ])('$name', async (row) => {
    row.server?.();
    schedule(row.timeline ?? [], undefined);
    const cancel = new AbortController();
    if (row.cancelAt !== undefined) setTimeout(() => cancel.abort(), row.cancelAt);
    let outcome: { at: number; lease?: AcquiredLease; error?: Error; server?: V1Lease } | undefined;
    acquireLease(kube, options({ signal: cancel.signal, ...row.options }), runState('run-b')).then(
      (lease) => {
        outcome = { at: Date.now() - T0, lease, server: api.get() };
      },
      (error: Error) => {
        outcome = { at: Date.now() - T0, error, server: api.get() };
      },
    );
    for (let waited = 0; !outcome && waited < 60_000; waited += 100) await vi.advanceTimersByTimeAsync(100);

    expect(outcome?.at).toBe(row.at);
    expect(calls()).toEqual(row.calls);
    expect(logs).toEqual(row.logs ?? []);
    const server = outcome!.server;
    expect(server?.spec?.holderIdentity ?? 'none').toBe(row.holder ?? 'run-b');
    if (row.error) {
      expect(outcome?.error?.message).toContain(row.error);
      expect(outcome?.error).toBeInstanceOf(row.cancelAt ? LeaseWaitCancelled : InfraError);
      return;
    }
    expect(outcome?.error).toBeUndefined();
    expect(outcome?.lease?.orphan).toEqual(row.orphan && expect.objectContaining(row.orphan));
    expect(outcome?.lease?.lost.aborted).toBe(false);
    // The lease is this run's: its initial state, taken now, for this run's lease duration.
    expect(server?.spec).toEqual({
      holderIdentity: 'run-b',
      leaseDurationSeconds: 15,
      acquireTime: micro(T0 + row.at),
      renewTime: micro(T0 + row.at),
      leaseTransitions: row.transitions,
    });
    expect(server?.metadata?.labels).toEqual({
      'app.kubernetes.io/managed-by': 'gantry',
      'gantry.dev/rollout': 'web',
    });
    expect(server?.metadata?.annotations).toEqual({ [STATE_ANNOTATION]: JSON.stringify(runState('run-b')) });
  });
});

describe('a held lease: renewals, records, commands, loss and release', () => {
  interface Row {
    name: string;
    durationSeconds?: number;
    /** This run's calls and other clients' moves, at milliseconds after the lease was taken. */
    timeline?: [number, (held: AcquiredLease) => unknown][];
    /** How long the run holds the lease. */
    forMs: number;
    /** This run's replace requests, "ms replace status" (renewals, records, release). */
    writes: string[];
    /** The holder on the server at the end (default: run-b, this run; 'none': released). */
    holder?: string;
    /** On the server at the end (a subset). */
    state?: Partial<RolloutState>;
    /** The reason `lost` fired with; absent: it did not fire. */
    lost?: string;
    commands?: RolloutCommand[];
    annotations?: Record<string, string>;
    warnings?: RegExp[];
  }
  const ok = (...times: number[]) => times.map((t) => `${t} replace 200`);
  const conflict = (...times: number[]) => times.map((t) => `${t} replace 409`);
  const takenByRunC = () => api.put(leaseOf('run-c', { state: { step: 0 } }));

  it.each<Row>([
    {
      name: 'renews every third of its duration (15 s: every 5 s), keeping its acquire time',
      forMs: 16_000,
      writes: ok(5_000, 10_000, 15_000),
      state: { runId: 'run-b', step: -1, updatedAt: new Date(T0 + 15_000).toISOString() },
    },
    {
      name: 'a 3 s lease renews every second',
      durationSeconds: 3,
      forMs: 3_500,
      writes: ok(1_000, 2_000, 3_000),
    },
    {
      name: 'a 1 s lease renews every 500 ms (the shortest interval)',
      durationSeconds: 1,
      forMs: 2_000,
      writes: ok(500, 1_000, 1_500, 2_000),
    },
    {
      name: 'record() writes at once, successive records merge, renewals keep the data',
      timeline: [
        [1_000, (held) => held.record({ step: 0, weight: 10 })],
        [2_000, (held) => held.record({ step: 1, weight: 20, previousImage: 'registry.test/web:1' })],
      ],
      forMs: 6_000,
      writes: ok(1_000, 2_000, 5_000),
      state: {
        runId: 'run-b',
        phase: 'progressing',
        step: 1,
        weight: 20,
        previousImage: 'registry.test/web:1',
        image: 'registry.test/web:2',
        updatedAt: new Date(T0 + 5_000).toISOString(),
      },
    },
    {
      name: 'note() writes nothing of its own: the next renewal carries what was noted',
      timeline: [
        [1_000, (held) => held.note({ checks: tally(0, 1) })],
        [2_000, (held) => held.note({ checks: tally(0, 2) })],
      ],
      forMs: 6_000,
      writes: ok(5_000),
      state: { checks: tally(0, 2), updatedAt: new Date(T0 + 5_000).toISOString() },
    },
    {
      name: 'note() then record(): the record carries the note, and its own fields win',
      timeline: [
        [1_000, (held) => held.note({ checks: tally(0, 3), weight: 5 })],
        [2_000, (held) => held.record({ step: 1, weight: 20 })],
      ],
      forMs: 4_000,
      writes: ok(2_000),
      state: { checks: tally(0, 3), step: 1, weight: 20 },
    },
    {
      name: 'a record that fails (HTTP 500) is a warning, and its data lands with the next renewal',
      timeline: [
        [
          2_000,
          (held) => {
            api.before('replace', () => {
              throw apiError(500, 'etcdserver: request timed out');
            });
            return held.record({ step: 3, weight: 60 });
          },
        ],
      ],
      forMs: 6_000,
      writes: ['2000 replace 500', ...ok(5_000)],
      state: { step: 3, weight: 60 },
      warnings: [/^warning: could not renew lease gantry-web: HTTP-Code: 500/],
    },
    {
      name: 'a renewal that hangs (API outage) is not stacked: the ticks while it waits are skipped',
      timeline: [[4_000, () => api.before('replace', () => delay(12_000))]],
      forMs: 21_000,
      writes: ok(17_000, 20_000),
    },
    {
      name: 'a renewal that finds another run holding the lease (lost): fires `lost` and stops writing',
      timeline: [
        [6_000, takenByRunC],
        [12_000, (held) => held.record({ step: 5 })],
      ],
      forMs: 21_000,
      writes: [...ok(5_000), ...conflict(10_000)],
      holder: 'run-c',
      state: { runId: 'run-c', step: 0 },
      lost: 'lost lease gantry-web to run run-c',
    },
    ...(['promote', 'abort', 'promote@2'] as const).map(
      (command): Row => ({
        name: `\`gantry ${command}\`: the next renewal hands the command over once and clears it`,
        timeline: [[6_000, () => api.annotate({ [COMMAND_ANNOTATION]: command })]],
        forMs: 16_000,
        writes: [...ok(5_000), ...conflict(10_000), ...ok(10_000, 15_000)],
        commands: [command],
        annotations: {},
      }),
    ),
    {
      name: 'a value that is no command (`promote@x`) is not handed over',
      timeline: [[6_000, () => api.annotate({ [COMMAND_ANNOTATION]: 'promote@x' })]],
      forMs: 16_000,
      writes: [...ok(5_000), ...conflict(10_000), ...ok(10_000, 15_000)],
      commands: [],
      annotations: { [COMMAND_ANNOTATION]: 'promote@x' },
    },
    {
      name: 'another writer’s annotation (a conflict that leaves this run the holder) is kept, not a loss',
      timeline: [[6_000, () => api.annotate({ 'example.com/owner': 'team-a' })]],
      forMs: 11_000,
      writes: [...ok(5_000), ...conflict(10_000), ...ok(10_000)],
      annotations: { 'example.com/owner': 'team-a' },
    },
    {
      name: 'three conflicts in a row: that renewal gives up quietly, the next one renews',
      timeline: [
        [
          9_000,
          () => {
            const touch = (n: number) => () => api.annotate({ 'example.com/touched': String(n) });
            api.before('replace', touch(1), touch(2), touch(3));
          },
        ],
      ],
      forMs: 15_000,
      writes: [...ok(5_000), ...conflict(10_000, 10_000, 10_000), ...ok(15_000)],
      annotations: { 'example.com/touched': '3' },
    },
    {
      name: 'release writes the final state, clears the holder and stops renewing; a second release is a no-op',
      timeline: [
        [7_000, (held) => held.release({ phase: 'done', verdict: 'promoted', exitCode: 0 })],
        [8_000, (held) => held.release({ phase: 'done', verdict: 'released twice', exitCode: 3 })],
      ],
      forMs: 30_000,
      writes: ok(5_000, 7_000),
      holder: 'none',
      state: {
        runId: 'run-b',
        phase: 'done',
        verdict: 'promoted',
        exitCode: 0,
        updatedAt: new Date(T0 + 7_000).toISOString(),
      },
    },
    {
      name: 'release after another run took the lease over: fires `lost`, leaves that run’s lease alone',
      timeline: [
        [6_000, takenByRunC],
        [7_000, (held) => held.release({ phase: 'done', verdict: 'promoted' })],
      ],
      forMs: 20_000,
      writes: [...ok(5_000), ...conflict(7_000)],
      holder: 'run-c',
      state: { runId: 'run-c', phase: 'progressing', step: 0 },
      lost: 'lost lease gantry-web to run run-c',
    },
    {
      name: 'release once the loss was noticed writes nothing',
      timeline: [
        [6_000, takenByRunC],
        [12_000, (held) => held.release({ phase: 'done', verdict: 'rolled back' })],
      ],
      forMs: 20_000,
      writes: [...ok(5_000), ...conflict(10_000)],
      holder: 'run-c',
      state: { runId: 'run-c', phase: 'progressing' },
      lost: 'lost lease gantry-web to run run-c',
    },
  ])('$name', async (row) => {
    const held = await acquireLease(
      kube,
      options({ durationSeconds: row.durationSeconds ?? 15 }),
      runState('run-b'),
    );
    const commands: RolloutCommand[] = [];
    held.onCommand((command) => commands.push(command));
    let released = false;
    const release = held.release;
    held.release = (finalState) => {
      released = true;
      return release(finalState);
    };
    schedule(row.timeline ?? [], held);
    await vi.advanceTimersByTimeAsync(row.forMs);
    // The renewal timer runs until the release, and not after it.
    expect(vi.getTimerCount()).toBe(released ? 0 : 1);

    expect(calls('replace')).toEqual(row.writes);
    const server = api.get();
    expect(server?.spec?.holderIdentity ?? 'none').toBe(row.holder ?? 'run-b');
    expect(api.state()).toMatchObject(row.state ?? { runId: 'run-b' });
    expect(held.lost.aborted).toBe(row.lost !== undefined);
    if (row.lost) {
      expect(held.lost.reason).toBeInstanceOf(InfraError);
      expect((held.lost.reason as Error).message).toBe(row.lost);
    }
    expect(commands).toEqual(row.commands ?? []);
    if (row.annotations) {
      const { [STATE_ANNOTATION]: _state, ...others } = server?.metadata?.annotations ?? {};
      expect(others).toEqual(row.annotations);
    }
    expect(logs.filter((line) => line.startsWith('warning:'))).toEqual(
      (row.warnings ?? []).map((pattern) => expect.stringMatching(pattern)),
    );
    // A renewal or record moves renewTime and leaves acquireTime and the duration as they were taken.
    const lastWrite = api.calls.filter((c) => c.verb === 'replace' && c.status === 200).at(-1);
    if (server?.spec?.holderIdentity !== 'run-c') {
      expect(server?.spec).toMatchObject({
        acquireTime: micro(T0),
        renewTime: micro(T0 + (lastWrite?.at ?? 0)),
        leaseDurationSeconds: row.durationSeconds ?? 15,
        leaseTransitions: 0,
      });
    }
  });
});
