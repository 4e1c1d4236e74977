// Pure logic of the sandbox's data plane: which responders the pods of the cluster call for, and the commands
// that turn the responders now bound into those. No I/O here, so every rule is unit-tested
// (test/unit/bed/dataplane.test.ts) without a cluster or a network namespace.
//
// A pod gets responders when it carries the label testbed.gantry.dev/responder (any value), is Ready and not
// terminating (the simulator's isReady, the same rule the EndpointSlice controller follows), and has a podIP
// inside the sandbox's pod network (the prefix routed into the data plane's namespace; anything else could not
// be bound there). One responder per TCP container port of any of its containers; port 80 when it declares
// none. Each answers with the pod's error rate and latency by the simulator's rule (podSettings).
import { isReady, podSettings, trackOf } from '../simulator/split.mjs';

export const RESPONDER_LABEL = 'testbed.gantry.dev/responder';
export const VERSION_LABEL = 'app.kubernetes.io/version';
export const DEFAULT_PORT = 80;
/**
 * How long a pod's app keeps answering after its pod is gone or no longer Ready, in ms (annotation
 * testbed.gantry.dev/drain-ms). KWOK removes a deleted pod at once, but a real container lives on through its
 * termination grace period, and a well-behaved app (a preStop sleep) keeps serving while proxies catch up with
 * the EndpointSlice; 0 is an app that stops at once.
 */
export const DRAIN_ANNOTATION = 'testbed.gantry.dev/drain-ms';
export const DEFAULT_DRAIN_MS = 5000;

/** The tag of an image reference (`repo:tag`, `host:5000/repo:tag@sha256:…`); else its digest; else undefined. */
export function imageVersion(image) {
  if (typeof image !== 'string' || image === '') return undefined;
  const at = image.indexOf('@');
  const name = at >= 0 ? image.slice(0, at) : image;
  const digest = at >= 0 ? image.slice(at + 1) : undefined;
  // A colon after the last slash starts the tag; one before it belongs to a registry's host:port.
  const colon = name.lastIndexOf(':');
  if (colon > name.lastIndexOf('/')) return name.slice(colon + 1);
  return digest;
}

/** The version a pod answers with: its app.kubernetes.io/version label, else its first container's image tag. */
export function versionOf(pod) {
  return pod.metadata?.labels?.[VERSION_LABEL] ?? imageVersion(pod.spec?.containers?.[0]?.image) ?? 'unknown';
}

/** The TCP ports the pod's containers declare (in order, without repeats); [80] when there are none. */
export function portsOf(pod) {
  const ports = [];
  for (const container of pod.spec?.containers ?? []) {
    for (const p of container.ports ?? []) {
      if ((p.protocol ?? 'TCP') !== 'TCP') continue;
      const port = Number(p.containerPort);
      if (Number.isInteger(port) && port > 0 && port < 65536 && !ports.includes(port)) ports.push(port);
    }
  }
  return ports.length > 0 ? ports : [DEFAULT_PORT];
}

/** A dotted IPv4 address as an unsigned 32-bit number; undefined when it is not one. */
export function ipv4ToNumber(ip) {
  const parts = typeof ip === 'string' ? ip.split('.') : [];
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return undefined;
    value = value * 256 + Number(part);
  }
  return value;
}

/** `a.b.c.d/n` → { base, bits } (base masked to the prefix); throws when malformed. */
export function parseCidr(cidr) {
  const [ip, bitsText] = String(cidr).split('/');
  const base = ipv4ToNumber(ip);
  const bits = Number(bitsText);
  if (base === undefined || !/^\d{1,2}$/.test(bitsText ?? '') || bits > 32)
    throw new Error(`not an IPv4 CIDR: ${JSON.stringify(cidr)}`);
  const size = 2 ** (32 - bits);
  return { base: Math.floor(base / size) * size, bits, size };
}

export function inCidr(ip, cidr) {
  const value = ipv4ToNumber(ip);
  if (value === undefined) return false;
  const { base, size } = typeof cidr === 'string' ? parseCidr(cidr) : cidr;
  return value >= base && value < base + size;
}

/** True when two CIDRs share any address. */
export function overlaps(a, b) {
  const x = parseCidr(a);
  const y = parseCidr(b);
  return x.base < y.base + y.size && y.base < x.base + x.size;
}

/**
 * The responders the cluster calls for: `pods` and `configMaps` as the API returns them (configMaps already
 * grouped with split.mjs's byNamespace). Returns { responders: Map `ip:port` → spec, skipped: [{ pod, reason }] }
 * where spec is { key, ip, port, namespace, pod, version, track, errorRate, latencyMs }. Two pods claiming one
 * ip:port (an IP reused before the old pod's object is gone): the first by namespace/name keeps it.
 */
export function desiredResponders(pods, configMaps, { podNetwork }) {
  const network = parseCidr(podNetwork);
  const responders = new Map();
  const skipped = [];
  const candidates = [...pods]
    .filter((p) => p.metadata?.labels?.[RESPONDER_LABEL] !== undefined && isReady(p) && p.status?.podIP)
    .sort(
      (a, b) =>
        (a.metadata.namespace ?? '').localeCompare(b.metadata.namespace ?? '') ||
        a.metadata.name.localeCompare(b.metadata.name),
    );
  for (const pod of candidates) {
    const ip = pod.status.podIP;
    const id = `${pod.metadata.namespace}/${pod.metadata.name}`;
    if (!inCidr(ip, network)) {
      skipped.push({ pod: id, reason: `podIP ${ip} is outside the pod network ${podNetwork}` });
      continue;
    }
    const { errorRate, latencyMs } = podSettings(pod, configMaps);
    for (const port of portsOf(pod)) {
      const key = `${ip}:${port}`;
      const holder = responders.get(key);
      if (holder) {
        skipped.push({ pod: id, reason: `${key} is taken by ${holder.namespace}/${holder.pod}` });
        continue;
      }
      responders.set(key, {
        key,
        ip,
        port,
        namespace: pod.metadata.namespace,
        pod: pod.metadata.name,
        version: versionOf(pod),
        track: trackOf(pod),
        errorRate,
        latencyMs,
        drainMs: drainOf(pod),
      });
    }
  }
  return { responders, skipped };
}

/** A pod's drain time (annotation testbed.gantry.dev/drain-ms, ≥ 0), else DEFAULT_DRAIN_MS. */
export function drainOf(pod) {
  const value = Number(pod.metadata?.annotations?.[DRAIN_ANNOTATION]);
  return Number.isFinite(value) && value >= 0 ? value : DEFAULT_DRAIN_MS;
}

/**
 * `desired` with the responders that `current` has and `desired` no longer wants kept until their drain time
 * has passed since they were first left out (`drainingUntil` on their spec): the app still answers while its
 * pod terminates. An ip:port a new pod claims is the new pod's at once. Returns { desired, nextExpiry } (the
 * earliest drainingUntil still ahead, for a reconciliation then; undefined when none).
 */
export function withDraining(current, desired, now) {
  const out = new Map(desired);
  let nextExpiry;
  for (const [key, spec] of current) {
    if (out.has(key)) continue;
    const until = spec.drainingUntil ?? now + (spec.drainMs ?? DEFAULT_DRAIN_MS);
    if (until <= now) continue;
    out.set(key, { ...spec, drainingUntil: until });
    nextExpiry = nextExpiry === undefined ? until : Math.min(nextExpiry, until);
  }
  return { desired: out, nextExpiry };
}

const FIELDS = ['ip', 'port', 'namespace', 'pod', 'version', 'track', 'errorRate', 'latencyMs'];

/**
 * The commands that turn the responders `current` (Map key → spec) into `desired`: removals first (so that a
 * port freed and taken in one step is free when the add arrives), then adds and updates, each in key order.
 */
export function diffResponders(current, desired) {
  const removes = [];
  const others = [];
  for (const key of [...current.keys()].sort()) {
    if (!desired.has(key)) removes.push({ op: 'remove', key });
  }
  for (const key of [...desired.keys()].sort()) {
    const want = desired.get(key);
    const have = current.get(key);
    if (!have) others.push({ op: 'add', ...want });
    else if (FIELDS.some((f) => have[f] !== want[f])) others.push({ op: 'update', ...want });
  }
  return [...removes, ...others];
}
