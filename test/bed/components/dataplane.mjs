// The data plane: pods that answer real HTTP. Makes a network namespace of the sandbox's own
// (test/bed/dataplane/netns.mjs) to which the host routes the pod network (GANTRY_TESTBED_POD_NETWORK from the
// kubernetes component) and nothing else, then runs test/bed/dataplane/main.mjs on a free 127.0.0.1 port: it
// watches the cluster and binds a responder on podIP:containerPort, inside the namespace, for every Ready pod
// labelled testbed.gantry.dev/responder. A real proxy on the host can then reach the pods at the addresses
// their EndpointSlices list. Needs root (ip netns) and KUBECONFIG.
// Exports DATAPLANE_URL (/metrics, /responders, /readyz), DATAPLANE_NETNS and DATAPLANE_REQUEST_LOG (one JSON
// line per answered request). `stop` stops main.mjs and its responders and removes the namespace.
import { join } from 'node:path';
import { netnsNames, setUp, tearDown } from '../dataplane/netns.mjs';
import { commandExists, freePort, log, spawnDaemon, stopPid, waitFor } from '../lib.mjs';

export const name = 'dataplane';

export async function start({ stateDir, repo, env }) {
  const kubeconfig = env.KUBECONFIG;
  if (!kubeconfig) throw new Error('dataplane: no KUBECONFIG; the kubernetes component must start first');
  const podNetwork = env.GANTRY_TESTBED_POD_NETWORK;
  if (!podNetwork) throw new Error('dataplane: no GANTRY_TESTBED_POD_NETWORK from the kubernetes component');
  if (!commandExists('ip')) throw new Error('dataplane: needs `ip` (iproute2)');
  if (process.getuid?.() !== 0) throw new Error('dataplane: needs root to make a network namespace');

  const names = netnsNames(stateDir);
  await setUp({ names, podNetwork, log });

  const port = await freePort();
  const requestLog = join(stateDir, 'dataplane', 'requests.log');
  const main = join(repo, 'test', 'bed', 'dataplane', 'main.mjs');
  let pid;
  try {
    pid = spawnDaemon(
      stateDir,
      'dataplane',
      process.execPath,
      [
        main,
        '--port',
        String(port),
        '--netns',
        names.netns,
        '--pod-network',
        podNetwork,
        '--request-log',
        requestLog,
      ],
      { cwd: repo, env: { KUBECONFIG: kubeconfig } },
    );
    const url = `http://127.0.0.1:${port}`;
    await waitFor(
      `the data plane's ${url}/readyz (see ${join(stateDir, 'logs', 'dataplane.log')})`,
      async () => {
        const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) }).catch(() => null);
        return res?.status === 200;
      },
      30000,
      100,
    );
    return {
      pids: [pid],
      netns: names,
      env: { DATAPLANE_URL: url, DATAPLANE_NETNS: names.netns, DATAPLANE_REQUEST_LOG: requestLog },
    };
  } catch (error) {
    if (pid) await stopPid(pid);
    await tearDown(names, { log });
    throw error;
  }
}

/** Stops main.mjs (its responders go with it: same process group) and removes the namespace and veth. */
export async function stop({ stateDir }, entry) {
  for (const pid of entry?.pids ?? []) await stopPid(pid);
  const names = entry?.netns ?? netnsNames(stateDir);
  await tearDown(names, { log });
}
