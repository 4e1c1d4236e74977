export interface StepCount {
  seconds: number;
  total: number;
  byVerb: Record<string, number>;
}
export interface RolloutFigures {
  namespace: string;
  verdict: string;
  reason?: string;
  seconds: number;
  total: number;
  byVerb: Record<string, number>;
  steps: StepCount[];
  clientCounts?: Record<string, number>;
}
export interface ScaleResult {
  services: number;
  replicas: number;
  steps: string;
  pause: string;
  wallSeconds: number;
  rollouts: RolloutFigures[];
  unattributed: number;
  cpuSeconds: Record<string, number>;
  addedNodes: string[];
}
export const fakeDigest: (seed: string) => string;
export function controlPlaneCpu(stateDir: string): Record<string, number>;
export function median(values: number[]): number;
export function p95(values: number[]): number;
export function runScale(options: {
  sandbox: Record<string, string | undefined>;
  stateDir?: string;
  node: string;
  cli: string;
  services?: number;
  replicas?: number;
  steps?: string;
  pause?: string;
  intervalSeconds?: number;
  stableConcurrency?: number;
  log?: (line: string) => void;
}): Promise<ScaleResult>;
export function stepFigures(result: ScaleResult): {
  steps: number;
  total: { median: number; max: number };
  perSecond: number;
  byVerb: Record<string, { median: number; max: number }>;
};
