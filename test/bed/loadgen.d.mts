// Types of loadgen.mjs (real load through the sandbox's gateway), for the TypeScript tests.
export const MAX_RPS: number;
export const MAX_DURATION_MS: number;
export interface Sample {
  sentAt: number;
  doneAt: number;
  /** 0 when no answer came. */
  status: number;
  /** The answering pod and track (the responders' x-pod / x-track headers); empty when not a responder. */
  pod: string;
  track: string;
  /** Why no answer came; empty otherwise. */
  error: string;
}
export interface Load {
  samples: Sample[];
  startedAt: number;
  stop(): Promise<Sample[]>;
}
export function startLoad(options: {
  url: string;
  host: string;
  rps?: number;
  durationMs?: number;
  timeoutMs?: number;
  path?: string;
}): Load;
export function failed(sample: Sample): boolean;
export function summarize(
  samples: Sample[],
  from?: number,
  to?: number,
): { total: number; failed: number; byTrack: Record<string, number>; statuses: Record<string, number> };
export function getVia(
  url: string,
  host: string,
  timeoutMs?: number,
): Promise<{ status: number; track: string } | Error>;
export function waitServing(url: string, host: string, timeoutMs?: number): Promise<void>;
