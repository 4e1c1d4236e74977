import { describe, expect, it } from 'vitest';
import { median, runScale, stepFigures } from '../bed/scale.mjs';
import { cliPath } from '../helpers/cli.js';

// Ten services of ten replicas rolled out at once on the sandbox, every API request counted by a proxy in front
// of the API server (test/bed/kube-proxy.mjs). What is asserted is how the rollouts talk to the cluster, never
// how long they take: every one is promoted, and a step's requests are a handful of writes and watches, where
// a loop polling once a second would make at least one read per second of the step.
const SERVICES = 10;
const PAUSE_SECONDS = 6;

describe('many rollouts at once', () => {
  it(`promotes ${SERVICES} canaries of 10 replicas rolled out together, waiting on watches, not polling`, async () => {
    const result = await runScale({
      sandbox: process.env,
      node: process.execPath,
      cli: cliPath,
      services: SERVICES,
      replicas: 10,
      steps: '10,30',
      pause: `${PAUSE_SECONDS}s`,
      stableConcurrency: 5,
    });
    const failed = result.rollouts.filter((r) => r.verdict !== 'promoted');
    expect(failed.map((r) => `${r.namespace}: ${r.verdict}: ${r.reason}`)).toEqual([]);

    const steps = result.rollouts.flatMap((r) => r.steps);
    expect(steps).toHaveLength(SERVICES * 2);
    const reads = (s: { byVerb: Record<string, number> }) => (s.byVerb.GET ?? 0) + (s.byVerb.LIST ?? 0);
    // Polling once a second would read at least PAUSE_SECONDS times in a step; a watch reads once and waits.
    for (const step of steps) expect(reads(step), JSON.stringify(step)).toBeLessThan(PAUSE_SECONDS);
    expect(median(steps.map(reads))).toBeLessThanOrEqual(2);
    // Each step waits for its canary's pods on a watch.
    expect(median(steps.map((s) => s.byVerb.WATCH ?? 0))).toBeGreaterThanOrEqual(1);
    // All of it: a scale, its watch, the lease renewal, an event and the state — not dozens.
    const figures = stepFigures(result);
    expect(figures.total.max, JSON.stringify(figures)).toBeLessThanOrEqual(15);
    // The whole rollout, from the dry run to the canary's removal, stays within a few dozen requests.
    for (const rollout of result.rollouts)
      expect(rollout.total, JSON.stringify(rollout.byVerb)).toBeLessThanOrEqual(80);
    process.stderr.write(
      `[scale] ${SERVICES} rollouts promoted in ${result.wallSeconds.toFixed(0)} s; per step: median ${figures.total.median}, max ${figures.total.max} requests (${Object.entries(
        figures.byVerb,
      )
        .map(([verb, f]) => `${verb} ${f.median}/${f.max}`)
        .join(', ')})\n`,
    );
  }, 240_000);
});
