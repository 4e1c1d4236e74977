import type { V1Deployment, V1Lease } from '@kubernetes/client-node';
import { PatchStrategy } from '@kubernetes/client-node';
import { InfraError, InputError } from '../util/errors.js';
import { isNotFound, type Kube, toGantryError } from './kube.js';
import { canaryName, previewName } from './labels.js';
import {
  acquireLease,
  COMMAND_ANNOTATION,
  leaseName,
  parseState,
  type RolloutCommand,
  type RolloutState,
  STATE_ANNOTATION,
} from './lease.js';
import { cleanupOrphan } from './orphans.js';
import { exitCodeOf } from './watch-lines.js';
import { imageOf } from './workload.js';

export interface RolloutStatus {
  name: string;
  namespace: string;
  /**
   * idle: no rollout holds the lease; progressing/promoting/rolling-back: a run is at work; waiting: a canary step
   * holds its weight until a person runs `gantry promote` (or `gantry abort`); orphaned: its run died.
   */
  phase: 'idle' | 'orphaned' | RolloutState['phase'];
  /** `promote` while a gate waits for a person (phase `waiting`), else null. */
  waitingFor: 'promote' | null;
  /** While waiting: since when, when the gate times out, and what happens then if nobody decides. */
  gate: NonNullable<RolloutState['gate']> | null;
  runId: string | null;
  step: number | null;
  weight: number | null;
  strategy: string | null;
  router: string | null;
  image: string | null;
  previousImage: string | null;
  stable: { image: string | null; replicas: number; ready: number } | null;
  canary: { name: string; image: string | null; replicas: number; ready: number } | null;
  lastRollout: Record<string, unknown> | null;
}

/** The rollout's Lease; undefined when there is none. */
export async function readLease(kube: Kube, namespace: string, name: string): Promise<V1Lease | undefined> {
  try {
    kube.count('get');
    return await kube.coordination.readNamespacedLease({ name: leaseName(name), namespace });
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw toGantryError(`read lease ${leaseName(name)}`, error);
  }
}

/** The holder stopped renewing the lease (its run died). */
export function isStale(lease: V1Lease): boolean {
  const renew = lease.spec?.renewTime ?? lease.spec?.acquireTime;
  return !renew || new Date(renew).getTime() + (lease.spec?.leaseDurationSeconds ?? 15) * 1000 < Date.now();
}

/** `gantry status`: what the cluster says about a service's rollout. */
export async function rolloutStatus(kube: Kube, namespace: string, name: string): Promise<RolloutStatus> {
  const [lease, stable, canary, preview] = await Promise.all([
    readLease(kube, namespace, name),
    kube.read<V1Deployment>('apps/v1', 'Deployment', namespace, name),
    kube.read<V1Deployment>('apps/v1', 'Deployment', namespace, canaryName(name)),
    kube.read<V1Deployment>('apps/v1', 'Deployment', namespace, previewName(name)),
  ]).catch((error) => {
    throw toGantryError(`read rollout ${namespace}/${name}`, error);
  });
  if (!stable && !lease)
    throw new InputError('--name', `no Deployment "${name}" and no rollout in namespace ${namespace}`);
  const state = parseState(lease?.metadata?.annotations?.[STATE_ANNOTATION]);
  const held = Boolean(lease?.spec?.holderIdentity);
  const phase: RolloutStatus['phase'] = !held
    ? 'idle'
    : isStale(lease!)
      ? 'orphaned'
      : (state?.phase ?? 'progressing');
  const newVersion = canary ?? preview;
  const last = !held && state?.phase === 'done' ? state : undefined;
  const waiting = phase === 'waiting';
  return {
    name,
    namespace,
    phase,
    waitingFor: waiting ? 'promote' : null,
    gate: waiting ? (state?.gate ?? null) : null,
    runId: held ? (lease?.spec?.holderIdentity ?? null) : null,
    step: held && state ? state.step + 1 : null,
    weight: held && state ? state.weight : null,
    strategy: state?.strategy ?? null,
    router: state?.router ?? null,
    image: state?.image ?? null,
    previousImage: state?.previousImage ?? null,
    stable: stable
      ? {
          image: imageOf(stable),
          replicas: stable.spec?.replicas ?? 0,
          ready: stable.status?.readyReplicas ?? 0,
        }
      : null,
    canary: newVersion
      ? {
          name: newVersion.metadata!.name!,
          image: imageOf(newVersion),
          replicas: newVersion.spec?.replicas ?? 0,
          ready: newVersion.status?.readyReplicas ?? 0,
        }
      : null,
    lastRollout: last
      ? {
          runId: last.runId,
          verdict: last.verdict,
          reason: last.reason,
          image: last.image,
          previousImage: last.previousImage,
          finishedAt: last.updatedAt,
          exitCode: exitCodeOf(last),
        }
      : null,
  };
}

/**
 * `gantry promote` / `gantry abort`: asks the run holding the lease to act (it reads the request at its next
 * renewal) and waits until that run has released the lease — or, for a promote of a rollout waiting at a gate,
 * until the run has left that gate (the rollout goes on with its next steps). An orphaned rollout (its run died)
 * is aborted here directly; promoting an orphan is refused — its analysis never finished.
 */
export async function commandRollout(
  kube: Kube,
  namespace: string,
  name: string,
  command: RolloutCommand,
  timeoutMs: number,
): Promise<RolloutStatus> {
  const lease = await readLease(kube, namespace, name);
  if (!lease?.spec?.holderIdentity)
    throw new InputError('--name', `no rollout of ${name} is in progress in ${namespace}`);
  if (isStale(lease)) {
    if (command === 'promote') {
      throw new InputError(
        '--name',
        `the rollout of ${name} was orphaned (run ${lease.spec.holderIdentity} died); abort it or deploy again`,
      );
    }
    const runId = `abort-${Date.now().toString(36)}`;
    const state = parseState(lease.metadata?.annotations?.[STATE_ANNOTATION]);
    const held = await acquireLease(
      kube,
      { namespace, service: name, runId, durationSeconds: 15, waitMs: 0 },
      {
        ...(state ?? ({} as RolloutState)),
        runId,
        phase: 'rolling-back',
        updatedAt: new Date().toISOString(),
      },
    );
    try {
      if (held.orphan) await cleanupOrphan(kube, namespace, name, held.orphan, timeoutMs);
    } finally {
      await held.release({ phase: 'done' });
    }
    return rolloutStatus(kube, namespace, name);
  }
  // A promote for a rollout waiting at a gate is for that gate only: if the gate is decided before the run
  // reads the request (it timed out), the request must not promote the steps after it.
  const state = parseState(lease.metadata?.annotations?.[STATE_ANNOTATION]);
  const gate = command === 'promote' && state?.phase === 'waiting' ? gateId(state) : undefined;
  const request: RolloutCommand = gate === undefined ? command : `promote@${gate}`;
  kube.count('patch');
  await kube.objects.patch(
    {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: leaseName(name), namespace, annotations: { [COMMAND_ANNOTATION]: request } },
    },
    undefined,
    undefined,
    'gantry-command',
    undefined,
    PatchStrategy.MergePatch,
  );
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const current = await readLease(kube, namespace, name);
    if (!current?.spec?.holderIdentity || current.spec.holderIdentity !== lease.spec.holderIdentity) {
      return rolloutStatus(kube, namespace, name);
    }
    if (gate !== undefined) {
      const now = parseState(current.metadata?.annotations?.[STATE_ANNOTATION]);
      if (now?.phase !== 'waiting' || gateId(now) !== gate) return rolloutStatus(kube, namespace, name);
    }
    // The run died before it read the request (a killed CI job): abort its orphan here.
    if (command === 'abort' && isStale(current)) {
      return commandRollout(kube, namespace, name, command, Math.max(0, deadline - Date.now()));
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new InfraError(
    `asked run ${lease.spec.holderIdentity} to ${command}, but it did not ${gate === undefined ? 'finish' : `leave the gate of step ${gate + 1}`} within ${Math.round(timeoutMs / 1000)}s`,
  );
}

/** The gate a waiting rollout holds: a confirm-* hook gate's own id, or the step's index. */
function gateId(state: RolloutState): number {
  return state.gate?.id ?? state.step;
}
