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
  const deadline = Date.now() + options.timeoutMs;
  const startDeadline = Math.min(deadline, Date.now() + options.waitStartMs);
  const lease = await readLease(kube, namespace, name);
  if (!lease && options.waitStartMs === 0) await requireDeployment(kube, namespace, name);
  const follower = new Follower(kube, { namespace, name }, options, lease);
  const idle = follower.first();
  if (idle) return idle;

  const streams = new Streams(kube, namespace, name);
  try {
    await follower.attach(streams);
    for (;;) {
      const until = follower.started ? deadline : startDeadline;
      const item = await streams.next(Math.max(0, until - Date.now()));
      if (!item) throw follower.timedOut();
      const outcome = await follower.handle(item);
      if (outcome) return outcome;
    }
  } finally {
    streams.stop();
  }
}

/** No lease and no Deployment: a name that names nothing is bad input. */
async function requireDeployment(kube: Kube, namespace: string, name: string): Promise<void> {
  const stable = await kube.read<V1Deployment>('apps/v1', 'Deployment', namespace, name).catch((error) => {
    throw toGantryError(`read rollout ${namespace}/${name}`, error);
  });
  if (!stable)
    throw new InputError('--name', `no Deployment "${name}" and no rollout in namespace ${namespace}`);
}

/** One watch's state: what the lease said last, the events shown, and the lines written. */
class Follower {
  observed: Observed;
  started: boolean;
  private last: WatchLine | undefined;
  private leaseVersion: string | undefined;
  private readonly seen = new Set<string>();
  private streams!: Streams;

  constructor(
    private readonly kube: Kube,
    private readonly target: { namespace: string; name: string },
    private readonly options: WatchOptions,
    private readonly lease: V1Lease | undefined,
  ) {
    this.observed = observe(lease);
    this.started = inProgress(this.observed);
    this.leaseVersion = lease?.metadata?.resourceVersion;
  }

  /** The state as the watch begins; an outcome when there is nothing to follow. */
  first(): WatchOutcome | undefined {
    for (const change of changesBetween(undefined, this.observed)) this.emit(change);
    if (!inProgress(this.observed) && (this.observed.stale || this.options.waitStartMs === 0)) {
      return { exitCode: this.observed.stale ? 3 : 0, last: this.last! };
    }
    return undefined;
  }

  /** Starts the watches: the events so far count as seen, later ones are shown. */
  async attach(streams: Streams): Promise<void> {
    this.streams = streams;
    const events = await streams.listEvents();
    for (const event of events.items) this.seen.add(event.metadata?.uid ?? '');
    streams.watchLease(this.lease?.metadata?.resourceVersion);
    streams.watchEvents(events.metadata?.resourceVersion);
    streams.expectRenewal(inProgress(this.observed) ? this.lease : undefined);
  }

  timedOut(): InfraError {
    const { namespace, name } = this.target;
    if (!this.started) {
      return new InfraError(
        `no rollout of ${namespace}/${name} started within ${seconds(this.options.waitStartMs)}s (--wait-start)`,
      );
    }
    return new InfraError(
      `the rollout of ${namespace}/${name} was still ${this.observed.state?.phase ?? 'in progress'} after ${seconds(this.options.timeoutMs)}s of watching (--timeout); it goes on`,
    );
  }

  async handle(item: Item): Promise<WatchOutcome | undefined> {
    const { namespace, name } = this.target;
    if (item.type === 'lease') return this.advance(item.lease);
    if (item.type === 'event') return this.showEvent(item.event);
    if (item.type === 'tick') return this.advance(await readLease(this.kube, namespace, name));
    if (item.broken) await this.streams.pause(500);
    if (item.stream === 'lease') {
      // The server ended the watch (or it broke): the lease as it is now, then a new watch from there.
      const fresh = await readLease(this.kube, namespace, name);
      const outcome = await this.advance(fresh);
      if (!outcome) this.streams.watchLease(fresh?.metadata?.resourceVersion ?? this.leaseVersion);
      return outcome;
    }
    const list = await this.streams.listEvents();
    for (const event of list.items.sort(byTime)) this.showEvent(event);
    this.streams.watchEvents(list.metadata?.resourceVersion);
    return undefined;
  }

  private emit(change: Change): void {
    this.last = lineOf(change, this.observed, this.target, new Date());
    this.options.onLine(this.last);
  }

  private showEvent(event: CoreV1Event): undefined {
    const uid = event.metadata?.uid;
    if (!uid || this.seen.has(uid)) return;
    this.seen.add(uid);
    this.emit(eventChange(event));
  }

  /** The events the run emitted before it released the lease, whose watch events may not have arrived yet. */
  private async drainEvents(): Promise<void> {
    const list = await this.streams.listEvents().catch(() => ({ items: [] as CoreV1Event[] }));
    for (const event of list.items.sort(byTime)) this.showEvent(event);
  }

  private async advance(next: V1Lease | undefined): Promise<WatchOutcome | undefined> {
    const after = observe(next);
    const changes = changesBetween(this.observed, after);
    this.observed = after;
    this.leaseVersion = next?.metadata?.resourceVersion ?? this.leaseVersion;
    if (inProgress(after)) this.started = true;
    for (const change of changes) {
      if (change.kind === 'done') await this.drainEvents();
      this.emit(change);
      if (change.kind === 'done')
        return { exitCode: change.exitCode as WatchOutcome['exitCode'], last: this.last! };
      if (change.kind === 'orphaned') return { exitCode: 3, last: this.last! };
    }
    this.streams.expectRenewal(inProgress(after) ? next : undefined);
    return undefined;
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
