// Installs the sandbox's router CRDs by server-side apply and waits until each is Established: Gateway API's
// standard-channel bundle (fetched by test/bed/install-gateway-api.sh into the tool cache: HTTPRoute, Gateway,
// GatewayClass and the kinds a real gateway waits for) and the Istio VirtualService of test/bed/crds/ (a
// stand-in of our own: Istio's CRDs cannot be fetched here). Idempotent: applying again is a no-op.
//
// The requests are raw JSON over https with the kubeconfig's credentials rather than through
// @kubernetes/client-node's typed models: its serializer round-trips a CRD through V1JSONSchemaProps and
// drops `x-kubernetes-preserve-unknown-fields` on nested schemas, which would make the CRDs prune fields.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';

export const crdDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'crds');
export const GATEWAY_API_VERSION = 'v1.6.1';
const CRD_PATH = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';

/** Where install-gateway-api.sh put the Gateway API standard CRDs. */
export function gatewayApiCrdDir() {
  const cache = process.env.GANTRY_TESTBED_CACHE ?? join(homedir(), '.cache', 'gantry-testbed');
  return join(cache, `gateway-api-${GATEWAY_API_VERSION}`, 'crds');
}

/** The CRD manifests the sandbox installs: Gateway API's standard bundle, then test/bed/crds. */
export function loadCrds(dirs = [gatewayApiCrdDir(), crdDir]) {
  return dirs.flatMap((dir) => {
    if (!existsSync(dir)) {
      throw new Error(
        `no CRDs in ${dir}; run \`npm run setup\` (test/bed/install-gateway-api.sh fetches them)`,
      );
    }
    return readdirSync(dir)
      .filter((f) => f.endsWith('.yaml'))
      .sort()
      .map((f) => yaml.load(readFileSync(join(dir, f), 'utf8')));
  });
}

/** Applies every CRD (field manager gantry-testbed) and waits until all are Established. */
export async function installCrds(kc, { timeoutMs = 30000, log = () => {} } = {}) {
  const crds = loadCrds();
  for (const crd of crds) {
    const name = crd.metadata.name;
    const res = await call(kc, 'PATCH', `${CRD_PATH}/${name}?fieldManager=gantry-testbed&force=true`, crd);
    if (res.status !== 200 && res.status !== 201) {
      throw new Error(`applying CRD ${name}: HTTP ${res.status} ${res.body.slice(0, 500)}`);
    }
  }
  const deadline = Date.now() + timeoutMs;
  for (const crd of crds) {
    const name = crd.metadata.name;
    for (;;) {
      const res = await call(kc, 'GET', `${CRD_PATH}/${name}`);
      const conditions = res.json?.status?.conditions ?? [];
      if (conditions.some((c) => c.type === 'Established' && c.status === 'True')) break;
      if (Date.now() > deadline) {
        throw new Error(`CRD ${name} not Established after ${timeoutMs} ms: ${JSON.stringify(conditions)}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    log(`CRD ${name} established`);
  }
  return crds.map((c) => c.metadata.name);
}

async function call(kc, method, path, body) {
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw new Error('the kubeconfig has no current cluster');
  const options = {
    method,
    headers: {
      accept: 'application/json',
      ...(body ? { 'content-type': 'application/apply-patch+yaml' } : {}),
    },
    timeout: 10000,
  };
  await kc.applyToHTTPSOptions(options);
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, server), options, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        text += chunk;
      });
      res.on('end', () => {
        let json;
        try {
          json = JSON.parse(text);
        } catch {}
        resolve({ status: res.statusCode, body: text, json });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timeout`)));
    req.on('error', reject);
    // JSON is YAML: an apply patch may be sent as JSON.
    req.end(body ? JSON.stringify(body) : undefined);
  });
}
