import type { CoreV1Event, KubernetesObject, V1Deployment, V1Lease } from '@kubernetes/client-node';
import { InfraError, InputError } from '../util/errors.js';
import { isStale, readLease } from './control.js';
import { type Kube, toGantryError } from './kube.js';
import { leaseName, parseState, STATE_ANNOTATION } from './lease.js';
import {
  type Change,
  changesBetween,
  eventChange,
  inProgress,
  lineOf,
  type Observed,
  type WatchLine,
} from './watch-lines.js';

export interface WatchOptions {
  /** How long to follow the rollout before giving up (exit 3; the rollout itself goes on). */
  timeoutMs: number;
  /** No rollout in progress: how long to wait for one to start (0: print the state and end). */
  waitStartMs: number;
  /** Each line as it happens. */
  onLine: (line: WatchLine) => void;
}

export interface WatchOutcome {
  /** The finished run's exit code; 0 when idle, 3 when the run was orphaned. */
  exitCode: 0 | 1 | 3 | 4;
  /** The last line written. */
  last: WatchLine;
}

type Item =
  | { type: 'lease'; generation: number; lease: V1Lease | undefined }
  | { type: 'event'; generation: number; event: CoreV1Event }
  | { type: 'closed'; generation: number; stream: 'lease' | 'events'; broken: boolean }
  | { type: 'tick' };

/**
 * `gantry status --watch`: follows a rollout through Kubernetes watches on its Lease (where the run records
 * phase, step, weight, gate and checks) and on the Events it emits for its Deployment, writing one line per
 * change, until the run releases the lease; then its recorded exit code is the outcome. A run that stops
 * renewing its lease is reported orphaned (3). No polling: a timer only re-reads the lease when its holder's
 * renewal is overdue.
 */
export async function watchRollout(
  kube: Kube,
  namespace: string,
  name: string,
  options: WatchOptions,
): Promise<WatchOutcome> {
  const target = { namespace, name };
  const deadline = Date.now() + options.timeoutMs;
  const startDeadline = Math.min(deadline, Date.now() + options.waitStartMs);
  const lease = await readLease(kube, namespace, name);
  if (!lease && options.waitStartMs === 0) {
    const stable = await kube.read<V1Deployment>('apps/v1', 'Deployment', namespace, name).catch((error) => {
      throw toGantryError(`read rollout ${namespace}/${name}`, error);
    });
    if (!stable)
      throw new InputError('--name', `no Deployment "${name}" and no rollout in namespace ${namespace}`);
  }
  let observed = observe(lease);
  let last: WatchLine | undefined;
  const emit = (change: Change) => {
    last = lineOf(change, observed, target, new Date());
    options.onLine(last);
  };
  for (const change of changesBetween(undefined, observed)) emit(change);
  if (!inProgress(observed) && (observed.stale || options.waitStartMs === 0)) {
    return { exitCode: observed.stale ? 3 : 0, last: last! };
  }

  const streams = new Streams(kube, namespace, name);
  try {
    const seen = new Set<string>();
    const events = await streams.listEvents();
    for (const event of events.items) seen.add(event.metadata?.uid ?? '');
    streams.watchLease(lease?.metadata?.resourceVersion);
    streams.watchEvents(events.metadata?.resourceVersion);
    let started = inProgress(observed);
    let leaseVersion = lease?.metadata?.resourceVersion;

    const showEvent = (event: CoreV1Event) => {
      const uid = event.metadata?.uid;
      if (!uid || seen.has(uid)) return;
      seen.add(uid);
      emit(eventChange(event));
    };
    // The events the run emitted before it released the lease, whose watch events may not have arrived yet.
    const drainEvents = async () => {
      const list = await streams.listEvents().catch(() => ({ items: [] as CoreV1Event[] }));
      for (const event of list.items.sort(byTime)) showEvent(event);
    };
    const advance = async (next: V1Lease | undefined): Promise<WatchOutcome | undefined> => {
      const after = observe(next);
      const changes = changesBetween(observed, after);
      observed = after;
      leaseVersion = next?.metadata?.resourceVersion ?? leaseVersion;
      if (inProgress(after)) started = true;
      for (const change of changes) {
        if (change.kind === 'done') await drainEvents();
        emit(change);
        if (change.kind === 'done')
          return { exitCode: change.exitCode as WatchOutcome['exitCode'], last: last! };
        if (change.kind === 'orphaned') return { exitCode: 3, last: last! };
      }
      streams.expectRenewal(inProgress(after) ? next : undefined);
      return undefined;
    };
    streams.expectRenewal(inProgress(observed) ? lease : undefined);

    for (;;) {
      const until = started ? deadline : startDeadline;
      const item = await streams.next(Math.max(0, until - Date.now()));
      if (!item) {
        if (!started) {
          throw new InfraError(
            `no rollout of ${namespace}/${name} started within ${seconds(options.waitStartMs)}s (--wait-start)`,
          );
        }
        throw new InfraError(
          `the rollout of ${namespace}/${name} was still ${observed.state?.phase ?? 'in progress'} after ${seconds(options.timeoutMs)}s of watching (--timeout); it goes on`,
        );
      }
      let outcome: WatchOutcome | undefined;
      if (item.type === 'lease') outcome = await advance(item.lease);
      else if (item.type === 'event') showEvent(item.event);
      else if (item.type === 'tick') outcome = await advance(await readLease(kube, namespace, name));
      else if (item.stream === 'lease') {
        // The server ended the watch (or it broke): the lease as it is now, then a new watch from there.
        if (item.broken) await streams.pause(500);
        const fresh = await readLease(kube, namespace, name);
        outcome = await advance(fresh);
        if (!outcome) streams.watchLease(fresh?.metadata?.resourceVersion ?? leaseVersion);
      } else {
        if (item.broken) await streams.pause(500);
        const list = await streams.listEvents();
        for (const event of list.items.sort(byTime)) showEvent(event);
        streams.watchEvents(list.metadata?.resourceVersion);
      }
      if (outcome) return outcome;
    }
  } finally {
    streams.stop();
  }
}

/** What a Lease says: held or free, by whom, stale or live, and the state its run recorded. */
export function observe(lease: V1Lease | undefined): Observed {
  const state = parseState(lease?.metadata?.annotations?.[STATE_ANNOTATION]);
  const holder = lease?.spec?.holderIdentity || undefined;
  return {
    held: Boolean(holder),
    stale: holder ? isStale(lease!) : false,
    holder: holder ?? state?.runId ?? null,
    state,
  };
}

function byTime(a: CoreV1Event, b: CoreV1Event): number {
  const time = (e: CoreV1Event) => new Date(e.metadata?.creationTimestamp ?? e.lastTimestamp ?? 0).getTime();
  return (
    time(a) - time(b) || Number(a.metadata?.resourceVersion ?? 0) - Number(b.metadata?.resourceVersion ?? 0)
  );
}

function seconds(ms: number): number {
  return Math.round(ms / 1000);
}

/**
 * The two watches (the Lease, the rollout's Events) feeding one queue, and the timer that wakes the watcher
 * when the lease's holder is overdue with a renewal. Each (re)started watch has a generation: what an ended
 * watch still delivers is dropped.
 */
class Streams {
  private readonly items: Item[] = [];
  private waiter: ((item: Item | undefined) => void) | undefined;
  private readonly controllers = new Map<
    'lease' | 'events',
    { generation: number; controller?: AbortController }
  >();
  private generation = 0;
  private stopped = false;
  private renewalTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly kube: Kube,
    private readonly namespace: string,
    private readonly name: string,
  ) {}

  async listEvents() {
    this.kube.count('list');
    try {
      return await this.kube.objects.list<CoreV1Event>(
        'v1',
        'Event',
        this.namespace,
        undefined,
        undefined,
        undefined,
        eventFields(this.name),
        EVENT_LABELS,
      );
    } catch (error) {
      throw toGantryError(`list the events of ${this.namespace}/${this.name}`, error);
    }
  }

  watchLease(resourceVersion: string | undefined): void {
    this.start('lease', `/apis/coordination.k8s.io/v1/namespaces/${this.namespace}/leases`, {
      fieldSelector: `metadata.name=${leaseName(this.name)}`,
      resourceVersion,
    });
  }

  watchEvents(resourceVersion: string | undefined): void {
    this.start('events', `/api/v1/namespaces/${this.namespace}/events`, {
      fieldSelector: eventFields(this.name),
      labelSelector: EVENT_LABELS,
      resourceVersion,
    });
  }

  /** Wakes the watcher when `lease`'s holder should have renewed it by now (none: no timer). */
  expectRenewal(lease: V1Lease | undefined): void {
    clearTimeout(this.renewalTimer);
    const renew = lease?.spec?.renewTime ?? lease?.spec?.acquireTime;
    if (!lease || !renew) return;
    const due = new Date(renew).getTime() + (lease.spec?.leaseDurationSeconds ?? 15) * 1000 + 1000;
    this.renewalTimer = setTimeout(() => this.push({ type: 'tick' }), Math.max(0, due - Date.now()));
  }

  /** The next item, or undefined after `ms`. */
  next(ms: number): Promise<Item | undefined> {
    const item = this.items.shift();
    if (item) return Promise.resolve(item);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        resolve(undefined);
      }, ms);
      this.waiter = (value) => {
        clearTimeout(timer);
        resolve(value);
      };
    });
  }

  pause(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.renewalTimer);
    for (const { controller } of this.controllers.values()) controller?.abort();
  }

  private push(item: Item): void {
    if (this.stopped) return;
    if ('generation' in item && this.controllers.get(streamOf(item))?.generation !== item.generation) return;
    const waiter = this.waiter;
    this.waiter = undefined;
    if (waiter) waiter(item);
    else this.items.push(item);
  }

  private start(
    stream: 'lease' | 'events',
    path: string,
    query: { fieldSelector: string; labelSelector?: string; resourceVersion: string | undefined },
  ): void {
    this.controllers.get(stream)?.controller?.abort();
    const generation = ++this.generation;
    const entry: { generation: number; controller?: AbortController } = { generation };
    this.controllers.set(stream, entry);
    const closed = (broken: boolean) => {
      if (entry.generation !== this.controllers.get(stream)?.generation) return;
      this.push({ type: 'closed', generation, stream, broken });
      // Whatever this watch still delivers belongs to a generation that is over.
      entry.generation = -1;
      entry.controller?.abort();
    };
    const { resourceVersion, ...selectors } = query;
    this.kube
      .stream(
        path,
        { ...selectors, allowWatchBookmarks: false, ...(resourceVersion && { resourceVersion }) },
        (phase, object: KubernetesObject) => {
          // An ERROR event (410 Gone: the version is older than the server keeps) ends this watch.
          if (phase === 'ERROR') return closed(true);
          if (stream === 'lease')
            this.push({
              type: 'lease',
              generation,
              lease: phase === 'DELETED' ? undefined : (object as V1Lease),
            });
          else if (phase === 'ADDED') this.push({ type: 'event', generation, event: object as CoreV1Event });
        },
        (error) => closed(Boolean(error) && (error as { name?: string }).name !== 'AbortError'),
      )
      .then((controller) => {
        entry.controller = controller;
        if (this.stopped || entry.generation !== generation) controller.abort();
      })
      .catch(() => closed(true));
  }
}

const EVENT_LABELS = 'app.kubernetes.io/managed-by=gantry';

function eventFields(name: string): string {
  return `involvedObject.kind=Deployment,involvedObject.name=${name}`;
}

function streamOf(item: Exclude<Item, { type: 'tick' }>): 'lease' | 'events' {
  if (item.type === 'closed') return item.stream;
  return item.type === 'lease' ? 'lease' : 'events';
}
