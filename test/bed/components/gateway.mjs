// A real Gateway API implementation in the sandbox: Traefik (built by test/bed/install-traefik.sh) run out of
// cluster with the sandbox's kubeconfig, its Kubernetes Gateway provider reading the HTTPRoutes Gantry writes
// and sending real requests to the pods the data plane component (dataplane.mjs) makes answer. It serves:
//   - the GatewayClass `traefik` (controller traefik.io/gateway-controller) and the Gateway
//     `gantry-gateway/gateway`, whose one HTTP listener `web` takes routes from every namespace;
//   - the listener on 127.0.0.1:GATEWAY_PORT (Traefik ties a listener to the entry point of the same port);
//   - its own metrics (per router, per service, per status code, latency histograms) and /ping on
//     127.0.0.1:GATEWAY_METRICS_PORT, which Prometheus scrapes.
// Its ingress-nginx provider serves Ingresses of the IngressClass `gantry-nginx` (controller k8s.io/ingress-nginx)
// on the same listener, NGINX canary annotations included: Gantry's nginx router meets a real implementation of
// them too (one deviation from NGINX: Traefik raises a canary-weight-total below 100 to 100).
// Traefik writes the Gateway's and each route's status (Accepted, ResolvedRefs, Programmed), which Gantry's
// gateway-api router reads. The simulator keeps computing traffic for the other tests; the two do not mix.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { cacheRoot, freePort, log, spawnDaemon, stopPid, waitFor } from '../lib.mjs';

export const name = 'gateway';
export const TRAEFIK_VERSION = 'v3.7.13';
export const GATEWAY_CLASS = 'traefik';
export const GATEWAY_NAMESPACE = 'gantry-gateway';
export const GATEWAY_NAME = 'gateway';
export const CONTROLLER_NAME = 'traefik.io/gateway-controller';
export const NGINX_INGRESS_CLASS = 'gantry-nginx';

export function traefikBinary() {
  return (
    process.env.GANTRY_TESTBED_TRAEFIK ?? join(cacheRoot, `traefik-${TRAEFIK_VERSION}`, 'bin', 'traefik')
  );
}

export async function start({ stateDir, env }) {
  const kubeconfig = env.KUBECONFIG;
  if (!kubeconfig) throw new Error('gateway: no KUBECONFIG; the kubernetes component must start first');
  const binary = traefikBinary();
  if (!existsSync(binary)) throw new Error(`gateway: no Traefik at ${binary}; run \`npm run setup\``);
  const [port, metricsPort] = await ports(stateDir);

  const kc = new k8s.KubeConfig();
  kc.loadFromFile(kubeconfig);
  const objects = k8s.KubernetesObjectApi.makeApiClient(kc);
  for (const object of gatewayObjects(port)) {
    await objects.patch(
      object,
      undefined,
      undefined,
      'gantry-testbed',
      true,
      k8s.PatchStrategy.ServerSideApply,
    );
  }

  const pid = spawnDaemon(
    stateDir,
    'traefik',
    binary,
    [
      '--providers.kubernetesgateway=true',
      // The address Traefik writes into the Gateway's status: where the listener really is.
      '--providers.kubernetesgateway.statusaddress.ip=127.0.0.1',
      `--entrypoints.web.address=127.0.0.1:${port}`,
      // Traefik's own entry point (default :8080 on every interface) moved to loopback.
      `--entrypoints.traefik.address=127.0.0.1:${metricsPort}`,
      '--providers.kubernetesingressnginx=true',
      `--providers.kubernetesingressnginx.ingressclass=${NGINX_INGRESS_CLASS}`,
      '--providers.kubernetesingressnginx.httpentrypoint=web',
      '--api.dashboard=false',
      '--ping=true',
      '--ping.entrypoint=traefik',
      '--metrics.prometheus=true',
      '--metrics.prometheus.entrypoint=traefik',
      '--metrics.prometheus.addserviceslabels=true',
      '--metrics.prometheus.addrouterslabels=true',
      '--metrics.prometheus.buckets=0.005,0.01,0.025,0.05,0.1,0.25,0.5,1,2.5,5',
      '--log.level=INFO',
      '--global.checknewversion=false',
      '--global.sendanonymoususage=false',
    ],
    { env: { KUBECONFIG: kubeconfig } },
  );
  const logFile = join(stateDir, 'logs', 'traefik.log');
  try {
    await waitFor(
      `Traefik's /ping on 127.0.0.1:${metricsPort} (see ${logFile})`,
      async () =>
        (await fetch(`http://127.0.0.1:${metricsPort}/ping`, { signal: AbortSignal.timeout(2000) })).ok,
      60000,
      200,
    );
    await waitFor(
      `Traefik to program the Gateway ${GATEWAY_NAMESPACE}/${GATEWAY_NAME} (see ${logFile})`,
      async () => {
        const gateway = await objects.read({
          apiVersion: 'gateway.networking.k8s.io/v1',
          kind: 'Gateway',
          metadata: { name: GATEWAY_NAME, namespace: GATEWAY_NAMESPACE },
        });
        const conditions = gateway.status?.conditions ?? [];
        return ['Accepted', 'Programmed'].every((type) =>
          conditions.some((c) => c.type === type && c.status === 'True'),
        );
      },
      60000,
      200,
    );
  } catch (error) {
    await stopPid(pid);
    throw error;
  }
  log(`gateway: Traefik ${TRAEFIK_VERSION} serves ${GATEWAY_NAMESPACE}/${GATEWAY_NAME} on 127.0.0.1:${port}`);
  return {
    pids: [pid],
    env: {
      GATEWAY_URL: `http://127.0.0.1:${port}`,
      GATEWAY_METRICS_URL: `http://127.0.0.1:${metricsPort}`,
      GATEWAY_NAMESPACE,
      GATEWAY_NAME,
      GATEWAY_INGRESS_CLASS: NGINX_INGRESS_CLASS,
    },
  };
}

/** The GatewayClass, the IngressClass, the Gateway's namespace and the Gateway with one listener on `port`. */
export function gatewayObjects(port) {
  return [
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'IngressClass',
      metadata: { name: NGINX_INGRESS_CLASS },
      spec: { controller: 'k8s.io/ingress-nginx' },
    },
    {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'GatewayClass',
      metadata: { name: GATEWAY_CLASS },
      spec: { controllerName: CONTROLLER_NAME },
    },
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: GATEWAY_NAMESPACE } },
    {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: { name: GATEWAY_NAME, namespace: GATEWAY_NAMESPACE },
      spec: {
        gatewayClassName: GATEWAY_CLASS,
        listeners: [{ name: 'web', protocol: 'HTTP', port, allowedRoutes: { namespaces: { from: 'All' } } }],
      },
    },
  ];
}

/**
 * The listener and metrics ports, kept across restarts in <stateDir>/gateway.ports: the Gateway in the
 * cluster names the listener's port, and Prometheus scrapes the metrics port.
 */
async function ports(stateDir) {
  const file = join(stateDir, 'gateway.ports');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim().split(' ').map(Number);
  const chosen = [await freePort(), await freePort()];
  if (chosen[0] === chosen[1]) chosen[1] = await freePort();
  writeFileSync(file, `${chosen.join(' ')}\n`);
  return chosen;
}
