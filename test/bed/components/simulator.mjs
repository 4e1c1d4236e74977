// The traffic simulator (test/bed/simulator/main.mjs): installs the router CRDs (Gateway API's standard bundle,
// the VirtualService stand-in) into the sandbox cluster, then runs the simulator under this Node
// (process.execPath: the project's Node 24) on a free 127.0.0.1 port. Needs KUBECONFIG from the kubernetes
// component.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { freePort, httpOk, log, spawnDaemon, stopPid, waitFor } from '../lib.mjs';
import { installCrds } from '../simulator/crds.mjs';

export const name = 'simulator';

export async function start({ stateDir, repo, env }) {
  const kubeconfig = env.KUBECONFIG;
  if (!kubeconfig) throw new Error('simulator: no KUBECONFIG; the kubernetes component must start first');
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(kubeconfig);
  const crds = await installCrds(kc, { timeoutMs: 60000 });
  log(`simulator: CRDs established: ${crds.join(', ')}`);

  const port = await simulatorPort(stateDir);
  const main = join(repo, 'test', 'bed', 'simulator', 'main.mjs');
  const pid = spawnDaemon(stateDir, 'simulator', process.execPath, [main, '--port', String(port)], {
    cwd: repo,
    env: { KUBECONFIG: kubeconfig },
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    // /readyz answers 200 once Pods, Services, Ingresses and ConfigMaps have been listed.
    await waitFor(
      `the simulator's ${url}/readyz (see ${join(stateDir, 'logs', 'simulator.log')})`,
      async () => {
        const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) }).catch(() => null);
        return res?.status === 200;
      },
      30000,
      100,
    );
  } catch (error) {
    await stopPid(pid);
    throw error;
  }
  if (!(await httpOk(`${url}/metrics`))) throw new Error(`simulator: ${url}/metrics does not answer`);
  return { pids: [pid], env: { SIMULATOR_URL: url } };
}

/**
 * The port, kept across restarts in <stateDir>/simulator.port: a simulator restarted by `testbed up` (after a
 * crash) comes back where the running Prometheus already scrapes.
 */
async function simulatorPort(stateDir) {
  if (process.env.GANTRY_TESTBED_SIMULATOR_PORT) return Number(process.env.GANTRY_TESTBED_SIMULATOR_PORT);
  const file = join(stateDir, 'simulator.port');
  if (existsSync(file)) return Number(readFileSync(file, 'utf8'));
  const port = await freePort();
  writeFileSync(file, `${port}\n`);
  return port;
}
