import { execFileSync } from 'node:child_process';
import type { TestProject } from 'vitest/node';

/**
 * Brings the local sandbox up once for the whole run (idempotent: a sandbox already up is reused and left
 * running), and hands its endpoints (REGISTRY, TRIVY_*, KUBECONFIG, PROMETHEUS_URL) to every test file.
 * GANTRY_NO_TESTBED=1 skips it for pure unit-test runs.
 */
export default function setup(project: TestProject) {
  if (process.env.GANTRY_NO_TESTBED === '1') {
    project.provide('testbedEnv', {});
    return;
  }
  const node = process.execPath;
  const status = execFileSync(node, ['scripts/testbed.mjs', 'status'], { encoding: 'utf8' });
  const wasUp = !/: (down|dead)/.test(status);
  const out = execFileSync(node, ['scripts/testbed.mjs', 'up'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const env: Record<string, string> = {};
  for (const line of out.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  project.provide('testbedEnv', env);
  return () => {
    if (!wasUp && process.env.GANTRY_KEEP_TESTBED !== '1') {
      execFileSync(node, ['scripts/testbed.mjs', 'down'], { stdio: 'inherit' });
    }
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    testbedEnv: Record<string, string>;
  }
}
