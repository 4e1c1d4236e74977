// Types of pods.mjs (the data plane's pure logic), for the TypeScript tests that import it.
import type { KubeObject } from '../simulator/split.mjs';

export interface ResponderSpec {
  /** `ip:port` */
  key: string;
  ip: string;
  port: number;
  namespace: string;
  pod: string;
  version: string;
  track: string;
  errorRate: number;
  latencyMs: number;
  /** How long the app answers after its pod is gone (testbed.gantry.dev/drain-ms). */
  drainMs?: number;
  /** Set while it drains: when it stops. */
  drainingUntil?: number;
}

export type ResponderCommand = ({ op: 'add' | 'update' } & ResponderSpec) | { op: 'remove'; key: string };

export const RESPONDER_LABEL: 'testbed.gantry.dev/responder';
export const VERSION_LABEL: 'app.kubernetes.io/version';
export const DEFAULT_PORT: number;
export const DRAIN_ANNOTATION: 'testbed.gantry.dev/drain-ms';
export const DEFAULT_DRAIN_MS: number;
export function drainOf(pod: KubeObject): number;
export function withDraining(
  current: Map<string, ResponderSpec>,
  desired: Map<string, ResponderSpec>,
  now: number,
): { desired: Map<string, ResponderSpec>; nextExpiry: number | undefined };

export function imageVersion(image: string | undefined): string | undefined;
export function versionOf(pod: KubeObject): string;
export function portsOf(pod: KubeObject): number[];
export function ipv4ToNumber(ip: string): number | undefined;
export function parseCidr(cidr: string): { base: number; bits: number; size: number };
export function inCidr(ip: string, cidr: string | { base: number; size: number }): boolean;
export function overlaps(a: string, b: string): boolean;
export function desiredResponders(
  pods: readonly KubeObject[],
  configMaps: Map<string, Map<string, KubeObject & { data?: Record<string, string> }>>,
  options: { podNetwork: string },
): { responders: Map<string, ResponderSpec>; skipped: { pod: string; reason: string }[] };
export function diffResponders(
  current: Map<string, ResponderSpec>,
  desired: Map<string, ResponderSpec>,
): ResponderCommand[];
