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
}

export type ResponderCommand = ({ op: 'add' | 'update' } & ResponderSpec) | { op: 'remove'; key: string };

export const RESPONDER_LABEL: 'testbed.gantry.dev/responder';
export const VERSION_LABEL: 'app.kubernetes.io/version';
export const DEFAULT_PORT: number;

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
