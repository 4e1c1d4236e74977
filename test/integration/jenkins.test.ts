import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';

// The Jenkins shared library (jenkins/): its Maven test suite (a Groovy harness that binds the pipeline steps
// and really runs `sh`, against this sandbox), its lint, and the CLI bundle it ships.

const jenkins = join(repoRoot, 'jenkins');

interface SurefireCounts {
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
  seconds: number;
}

/** Sums the Surefire XML reports (mvn -q prints no summary). */
function surefireCounts(dir: string): SurefireCounts {
  const counts: SurefireCounts = { tests: 0, failures: 0, errors: 0, skipped: 0, seconds: 0 };
  if (!existsSync(dir)) return counts;
  for (const file of readdirSync(dir).filter((f) => /^TEST-.*\.xml$/.test(f))) {
    const head = /<testsuite\b[^>]*>/.exec(readFileSync(join(dir, file), 'utf8'))?.[0] ?? '';
    const attr = (name: string) => Number(new RegExp(`\\b${name}="([\\d.]+)"`).exec(head)?.[1] ?? 0);
    counts.tests += attr('tests');
    counts.failures += attr('failures');
    counts.errors += attr('errors');
    counts.skipped += attr('skipped');
    counts.seconds += attr('time');
  }
  return counts;
}

describe('Jenkins shared library', () => {
  it('ships a self-contained CLI bundle that runs alone (built by npm run build or jenkins/sync-cli.sh)', () => {
    const bundled = join(jenkins, 'resources', 'dev', 'gantry', 'cli.js');
    // dist/cli.js loads its commands from dist/chunks/; the library's copy is written to the agent as one file.
    expect(readFileSync(bundled, 'utf8')).not.toMatch(/from\s*["']\.\.?\//);
    const alone = join(mkdtempSync(join(tmpdir(), 'gantry-jenkins-cli-')), 'cli.js');
    copyFileSync(bundled, alone);
    const version = spawnSync(process.execPath, [alone, '--version'], { encoding: 'utf8' });
    expect(version.status, version.stderr).toBe(0);
    const help = spawnSync(process.execPath, [alone, 'deploy', '--help'], { encoding: 'utf8' });
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toContain('--manifests');
  });

  it('passes its Maven test suite against the sandbox, skipping nothing', () => {
    for (const name of ['REGISTRY', 'KUBECONFIG', 'KUBECTL', 'PROMETHEUS_URL']) {
      expect(process.env[name], `${name} from the sandbox`).toBeTruthy();
    }
    const reports = join(jenkins, 'target', 'surefire-reports');
    rmSync(reports, { recursive: true, force: true });
    const started = Date.now();
    const run = spawnSync('mvn', ['-q', '-B', '-f', join(jenkins, 'pom.xml'), 'test'], {
      cwd: repoRoot,
      env: process.env,
      encoding: 'utf8',
      timeout: 900_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    const counts = surefireCounts(reports);
    process.stderr.write(
      `[jenkins] mvn test: ${counts.tests} tests, ${counts.failures} failures, ${counts.errors} errors, ` +
        `${counts.skipped} skipped; suites ${counts.seconds.toFixed(1)}s, mvn ${seconds}s\n`,
    );
    const output = `${run.stdout ?? ''}${run.stderr ?? ''}`.slice(-20_000);
    expect(run.error, String(run.error)).toBeUndefined();
    expect(run.status, output).toBe(0);
    expect(counts.failures + counts.errors, output).toBe(0);
    expect(counts.skipped, 'the sandbox tests ran').toBe(0);
    expect(counts.tests).toBeGreaterThanOrEqual(50);
  }, 900_000);

  it('has no npm-groovy-lint errors', () => {
    const lint = spawnSync(
      join(repoRoot, 'node_modules', '.bin', 'npm-groovy-lint'),
      ['--noserver', '--failon', 'error', '--config', 'jenkins/.groovylintrc.json', 'jenkins'],
      { cwd: repoRoot, env: process.env, encoding: 'utf8', timeout: 300_000, maxBuffer: 64 * 1024 * 1024 },
    );
    const output = `${lint.stdout ?? ''}${lint.stderr ?? ''}`;
    const summary = output.split('\n').filter((line) => /'(Error|Warning|Info)'/.test(line));
    process.stderr.write(
      `[jenkins] npm-groovy-lint: ${summary.map((l) => l.replace(/[│\s]+/g, ' ').trim()).join('; ')}\n`,
    );
    expect(lint.error, String(lint.error)).toBeUndefined();
    expect(lint.status, output.slice(-10_000)).toBe(0);
    expect(output).toMatch(/'Error'\s*│\s*0\s/);
  }, 300_000);
});
