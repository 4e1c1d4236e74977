import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { configSchema } from '../../../src/config/schema.js';
import { prepareAnalysis } from '../../../src/deploy/analysis/setup.js';
import { InputError } from '../../../src/util/errors.js';

// What prepareAnalysis refuses before it asks the metrics provider anything. Without a Prometheus URL, an
// analysis it accepts stops at the next check, `--prometheus-url`: that error is the sign it got that far.

afterEach(() => {
  vi.unstubAllEnvs();
});

function analysisFile(metric: Record<string, unknown>): string {
  const path = join(mkdtempSync(join(tmpdir(), 'gantry-setup-')), 'analysis.yaml');
  writeFileSync(path, JSON.stringify({ interval: '2s', metrics: [metric] }));
  return path;
}

const threshold = { name: 'error-rate', query: 'sum(rate(x{track="{{canary}}"}[4s]))', max: 0.05 };
const compared = { ...threshold, name: 'latency', compare: { worse: 'increase' } };

describe('prepareAnalysis', () => {
  it.each([
    [
      'rolling, a compared metric: refused (no baseline beside the new version)',
      'rolling',
      compared,
      '--analysis',
    ],
    ['rolling, thresholds only: accepted', 'rolling', threshold, '--prometheus-url'],
    ['canary, a compared metric: accepted', 'canary', compared, '--prometheus-url'],
    ['blue-green, a compared metric: accepted', 'blue-green', compared, '--prometheus-url'],
  ])('%s', async (_title, strategy, metric, input) => {
    vi.stubEnv('PROMETHEUS_URL', '');
    const config = configSchema.parse({ deploy: { strategy, analysis: analysisFile(metric) } });
    const error = await prepareAnalysis(config, { namespace: 'shop', name: 'web', run: 'run-1' }).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).exitCode).toBe(2);
    expect((error as Error).message).toMatch(new RegExp(`^${input}: `));
    if (input === '--analysis')
      expect((error as Error).message).toBe(
        '--analysis: metric "latency": compare needs a baseline beside the new version, and a rolling update has none; use --strategy canary or blue-green, or remove compare',
      );
  });
});
