// Flagger v1.36.1 next to the sandbox, for `npm run bench:peers` (outside CI): built by install-flagger.sh, run
// out of cluster with the sandbox's kubeconfig and Prometheus, `-mesh-provider gatewayapi:v1` (it writes the
// HTTPRoute Traefik serves, like Gantry's gateway-api router). Flagger listens on every interface for its own
// metrics, with no flag to bind it to loopback, so it runs in a network namespace of its own that has only
// loopback; the API server and Prometheus reach it over Unix sockets (netns-exec.mjs). Nothing it starts
// outlives stop(): the namespace is the process's own and goes with it.
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import { forwarder } from './forward.mjs';
import { gatewayAppDocs } from './gateway-app.mjs';

const here = dirname(fileURLToPath(import.meta.url));
export const FLAGGER_VERSION = 'v1.36.1';

/** Builds Flagger if needed (install-flagger.sh); the cache directory holding bin/flagger and crd.yaml. */
export function installFlagger(env = process.env) {
  return execFileSync('bash', [join(here, 'install-flagger.sh')], {
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
}

/** Forwards each `<dir>/<port>.sock` to the host's 127.0.0.1:<port>; the servers (close them to stop). */
function bridge(dir, ports) {
  return ports.map((port) => forwarder(Number(port), '127.0.0.1').listen(join(dir, `${port}.sock`)));
}

/**
 * Starts Flagger against the sandbox whose variables are `env` (KUBECONFIG, KUBECTL, PROMETHEUS_URL), after
 * applying its CRDs. Its JSON log goes to `logFile`. Resolves when its workers run: { pid, stop(), log() }.
 */
export async function startFlagger(env, { logFile, controlLoopInterval = '1s' }) {
  const cache = installFlagger(env);
  execFileSync(env.KUBECTL, ['apply', '--server-side', '-f', join(cache, 'crd.yaml')], {
    env,
    stdio: 'ignore',
  });
  const kubeconfig = yaml.load(readFileSync(env.KUBECONFIG, 'utf8'));
  const apiServer = new URL(kubeconfig.clusters[0].cluster.server);
  const prometheus = new URL(env.PROMETHEUS_URL);
  for (const url of [apiServer, prometheus]) {
    if (url.hostname !== '127.0.0.1') throw new Error(`flagger: ${url} is not on 127.0.0.1`);
  }
  const ports = [apiServer.port, prometheus.port];
  const sockets = mkdtempSync(join(tmpdir(), 'gantry-flagger-'));
  const servers = bridge(sockets, ports);
  const out = openSync(logFile, 'w');
  const child = spawn(
    'unshare',
    [
      '--net',
      process.execPath,
      join(here, 'netns-exec.mjs'),
      sockets,
      ports.join(','),
      '--',
      join(cache, 'bin', 'flagger'),
      `-kubeconfig=${env.KUBECONFIG}`,
      `-metrics-server=${env.PROMETHEUS_URL}`,
      '-mesh-provider=gatewayapi:v1',
      `-control-loop-interval=${controlLoopInterval}`,
      '-log-level=info',
      '-enable-leader-election=false',
    ],
    { stdio: ['ignore', out, out] },
  );
  closeSync(out);
  const log = () => readFileSync(logFile, 'utf8');
  let exited = false;
  child.on('exit', () => {
    exited = true;
  });
  const stop = async () => {
    if (!exited) {
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await gone;
      clearTimeout(timer);
    }
    for (const server of servers) server.close();
    rmSync(sockets, { recursive: true, force: true });
  };
  const deadline = Date.now() + 60_000;
  while (!log().includes('Started operator workers')) {
    if (exited || Date.now() > deadline) {
      await stop();
      throw new Error(`flagger did not start; its log's tail:\n${log().slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { pid: child.pid, stop, log };
}

/**
 * What one Flagger canary needs in `namespace`: the Deployment `web` (the data plane answers for its pods; no
 * Service and no route: Flagger makes web, web-primary, web-canary and the HTTPRoute `web` itself), a
 * MetricTemplate with `query` (Flagger's placeholders: {{ namespace }}, {{ target }}) read from the Prometheus at
 * `prometheus`, and the Canary:
 * `interval`, fail on the first failed check (threshold 1), weight steps of `stepWeight` up to `maxWeight`.
 */
export function flaggerCanaryDocs({
  namespace,
  prometheus,
  host,
  gateway,
  query,
  max,
  interval = '10s',
  stepWeight = 10,
  maxWeight = 50,
  replicas = 2,
}) {
  const [deployment] = gatewayAppDocs({ host, gateway, replicas });
  deployment.metadata.namespace = namespace;
  return [
    deployment,
    {
      apiVersion: 'flagger.app/v1beta1',
      kind: 'MetricTemplate',
      metadata: { name: 'proxy-error-rate', namespace },
      spec: { provider: { type: 'prometheus', address: prometheus }, query },
    },
    {
      apiVersion: 'flagger.app/v1beta1',
      kind: 'Canary',
      metadata: { name: 'web', namespace },
      spec: {
        targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
        progressDeadlineSeconds: 120,
        service: {
          port: 80,
          targetPort: 8080,
          hosts: [host],
          gatewayRefs: [{ name: gateway.name, namespace: gateway.namespace }],
        },
        analysis: {
          interval,
          threshold: 1,
          stepWeight,
          maxWeight,
          metrics: [
            {
              name: 'proxy-error-rate',
              templateRef: { name: 'proxy-error-rate', namespace },
              thresholdRange: { max },
              interval: '1m',
            },
          ],
        },
      },
    },
  ];
}
