import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

// The README's first command is `npm run demo` (setup, bundle, then `gantry demo`). This runs `gantry demo` on
// the sandbox the suite already has up, so the demo's fixtures, its steps and its summary cannot rot unnoticed
// (a fixture missing from the repository once made it fail at step 4 while every other test passed).
describe('gantry demo', () => {
  it('tells the whole story: build, scan, push, sign, the vulnerable release stopped, a canary promoted, an unsigned release refused, a bad one rolled back', async () => {
    const run = await runCli(['demo']);
    expect(run.stderr.concat(run.stdout)).not.toMatch(/^demo: /m);
    expect(run.exitCode).toBe(0);
    const summary = run.stdout.slice(run.stdout.indexOf('stage'));
    expect(summary).toMatch(/^build\s+3 tags: /m);
    expect(summary).toMatch(/^scan\s+passed — critical 0, high 0/m);
    expect(summary).toMatch(/^push\s+sha256:[0-9a-f]{12}… → 3 refs/m);
    expect(summary).toMatch(/^sign\s+3 attestations \(provenance, scan, SBOM\), cosign-compatible/m);
    expect(summary).toMatch(/^gate\s+vulnerable release blocked: .*CVE-2021-23337 \(high\).*exit 1$/m);
    expect(summary).toMatch(/^canary\s+good release promoted after 3 steps, \d+ checks passed/m);
    expect(summary).toMatch(
      /^verify\s+unsigned release refused: no signature for sha256:[0-9a-f]{64}.*; nothing was applied\s+exit 1$/m,
    );
    expect(summary).toMatch(/^rollback\s+bad release rolled back: error-rate [\d.]+ above max 0\.05/m);
    expect(summary).toMatch(/^stable runs \S+@sha256:[0-9a-f]{64}$/m);
  }, 300_000);
});
