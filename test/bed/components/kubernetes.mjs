// A real Kubernetes control plane on 127.0.0.1 with KWOK fake nodes: etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler and kwok, each started here as its own daemon (so every pid is
// ours and every port is a free loopback port), with certificates made on the spot by openssl.
// Binaries come from test/bed/install-kubernetes.sh (cached in ~/.cache/gantry-testbed/k8s-<version>/bin).
// Pods are simulated by KWOK with the Stages in test/bed/k8s/stages.yaml: pods become Running and Ready,
// deletions finish, and pods annotated testbed.gantry.dev/never-ready: "true" stay Running but never Ready.
// All data lives under <stateDir>/k8s; logs in <stateDir>/logs/k8s-*.log.
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheRoot, freePort, httpOk, log, spawnDaemon, stopPid, waitFor } from '../lib.mjs';

export const name = 'kubernetes';

const k8sDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'k8s');
const SERVICE_CIDR = '10.96.0.0/16';
const SERVICE_IP = '10.96.0.1';
// Pod IPs come from the benchmarking range (RFC 2544), not a private one: the data plane component
// (dataplane.mjs) routes this prefix from the host into a network namespace of the sandbox's own, and the host
// must never get a route for a private range (its own networks may use them).
export const POD_NETWORK = '198.18.0.0/16';
const POD_CIDR = '198.18.0.1/16';

/** The pinned versions shared with install-kubernetes.sh. */
export function versions() {
  const out = {};
  for (const line of readFileSync(join(k8sDir, 'versions.env'), 'utf8').split('\n')) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (match) out[match[1]] = match[2];
  }
  return out;
}

/** Absolute paths of the binaries; throws a clear error if the install script has not been run. */
export function binaries() {
  const { K8S_VERSION } = versions();
  const bin = join(cacheRoot, `k8s-${K8S_VERSION}`, 'bin');
  const paths = {};
  for (const cmd of [
    'etcd',
    'kube-apiserver',
    'kube-controller-manager',
    'kube-scheduler',
    'kwok',
    'kubectl',
  ]) {
    paths[cmd] = join(bin, cmd);
    if (!existsSync(paths[cmd])) {
      throw new Error(
        `no ${cmd} in ${bin}; run test/bed/install-kubernetes.sh (a cold build takes 10-30 min)`,
      );
    }
  }
  return paths;
}

export async function start({ stateDir }) {
  const t0 = Date.now();
  const since = () => `${((Date.now() - t0) / 1000).toFixed(1)}s`;
  const bin = binaries();
  const nodeCount = Number(process.env.GANTRY_TESTBED_K8S_NODES ?? 4);
  const maxPods = Number(process.env.GANTRY_TESTBED_K8S_MAX_PODS ?? 250);

  const dir = join(stateDir, 'k8s');
  rmSync(dir, { recursive: true, force: true }); // every start is a fresh cluster
  const pki = join(dir, 'pki');
  mkdirSync(pki, { recursive: true });
  const kwokHome = join(dir, 'kwok-home'); // KWOK_WORKDIR: keeps ~/.kwok/kwok.yaml out of this cluster
  mkdirSync(kwokHome, { recursive: true });

  const [etcdPort, etcdPeerPort, apiPort, cmPort, schedPort, kwokPort] = await distinctFreePorts(6);
  const server = `https://127.0.0.1:${apiPort}`;
  makePki(pki);
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, kubeconfigYaml(server, pki), { mode: 0o600 });
  const client = apiClient(server, pki);

  const started = []; // [label, pid] in start order; stopped in reverse on failure
  let apiserverArgs = [];
  const daemon = (label, command, args, env) => {
    const pid = spawnDaemon(stateDir, `k8s-${label}`, command, args, { env });
    started.push([label, pid]);
    return pid;
  };
  const logOf = (label) => join(stateDir, 'logs', `k8s-${label}.log`);

  try {
    daemon('etcd', bin.etcd, [
      '--name=gantry-testbed',
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=http://127.0.0.1:${etcdPort}`,
      `--advertise-client-urls=http://127.0.0.1:${etcdPort}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
      `--initial-cluster=gantry-testbed=http://127.0.0.1:${etcdPeerPort}`,
      '--initial-cluster-state=new',
      '--logger=zap',
      '--log-level=warn',
      '--quota-backend-bytes=4294967296',
      '--snapshot-count=10000',
    ]);
    await waitFor(
      `etcd on 127.0.0.1:${etcdPort} (see ${logOf('etcd')})`,
      () => httpOk(`http://127.0.0.1:${etcdPort}/health`),
      20000,
      100,
    );
    log(`kubernetes: etcd ready at ${since()}`);

    apiserverArgs = [
      `--etcd-servers=http://127.0.0.1:${etcdPort}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${apiPort}`,
      `--tls-cert-file=${join(pki, 'apiserver.crt')}`,
      `--tls-private-key-file=${join(pki, 'apiserver.key')}`,
      `--client-ca-file=${join(pki, 'ca.crt')}`,
      `--service-account-issuer=https://kubernetes.default.svc.cluster.local`,
      `--service-account-key-file=${join(pki, 'sa.pub')}`,
      `--service-account-signing-key-file=${join(pki, 'sa.key')}`,
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      '--authorization-mode=RBAC',
      '--allow-privileged=true',
      '--profiling=false',
      // The `kubernetes` Service would point at 127.0.0.1, which Endpoints may not hold; nothing in a KWOK
      // cluster reaches the API through that Service, so it is left without endpoints.
      '--endpoint-reconciler-type=none',
      // Lets KCM, the scheduler (and any aggregated API server added later) authenticate front-proxy requests.
      `--requestheader-client-ca-file=${join(pki, 'front-proxy-ca.crt')}`,
      '--requestheader-allowed-names=front-proxy-client',
      '--requestheader-username-headers=X-Remote-User',
      '--requestheader-group-headers=X-Remote-Group',
      '--requestheader-extra-headers-prefix=X-Remote-Extra-',
      `--proxy-client-cert-file=${join(pki, 'front-proxy-client.crt')}`,
      `--proxy-client-key-file=${join(pki, 'front-proxy-client.key')}`,
      // etcd 3.4 cannot serve watch-progress requests, so this apiserver cannot answer "watch-list" streams;
      // with WatchList on, it turns kwok's resourceVersion=0 watches into such streams and fails them, and
      // kwok then only sees changes on its periodic re-lists (pods take tens of seconds to start or go).
      '--feature-gates=WatchList=false',
      '--max-requests-inflight=1000',
      '--max-mutating-requests-inflight=500',
    ];
    daemon('apiserver', bin['kube-apiserver'], apiserverArgs);
    await waitFor(
      `kube-apiserver /readyz on ${server} (see ${logOf('apiserver')})`,
      async () => (await client('GET', '/readyz')).status === 200,
      90000,
      200,
    );
    log(`kubernetes: kube-apiserver ready at ${since()}`);

    const kubeFlags = [
      `--kubeconfig=${kubeconfig}`,
      `--authentication-kubeconfig=${kubeconfig}`,
      `--authorization-kubeconfig=${kubeconfig}`,
      '--bind-address=127.0.0.1',
    ];
    daemon('controller-manager', bin['kube-controller-manager'], [
      ...kubeFlags,
      `--secure-port=${cmPort}`,
      '--leader-elect=false',
      `--service-account-private-key-file=${join(pki, 'sa.key')}`,
      `--root-ca-file=${join(pki, 'ca.crt')}`,
      `--cluster-signing-cert-file=${join(pki, 'ca.crt')}`,
      `--cluster-signing-key-file=${join(pki, 'ca.key')}`,
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      '--use-service-account-credentials=false',
      '--kube-api-qps=200',
      '--kube-api-burst=400',
      '--concurrent-deployment-syncs=10',
      '--concurrent-replicaset-syncs=10',
      '--concurrent-service-endpoint-syncs=10',
      '--profiling=false',
    ]);
    const schedulerConfig = join(dir, 'kube-scheduler.yaml');
    writeFileSync(
      schedulerConfig,
      [
        'apiVersion: kubescheduler.config.k8s.io/v1',
        'kind: KubeSchedulerConfiguration',
        'clientConnection:',
        `  kubeconfig: ${JSON.stringify(kubeconfig)}`,
        '  qps: 200',
        '  burst: 400',
        'leaderElection:',
        '  leaderElect: false',
        'enableProfiling: false',
        '',
      ].join('\n'),
    );
    daemon('scheduler', bin['kube-scheduler'], [
      ...kubeFlags.slice(1),
      `--config=${schedulerConfig}`,
      `--secure-port=${schedPort}`,
    ]);
    daemon(
      'kwok',
      bin.kwok,
      [
        `--kubeconfig=${kubeconfig}`,
        `--config=${join(k8sDir, 'stages.yaml')}`,
        '--manage-all-nodes=true',
        `--server-address=127.0.0.1:${kwokPort}`,
        `--cidr=${POD_CIDR}`, // one pool for the whole cluster: pod IPs are unique, none ends in .0
        '--node-ip=10.240.0.1',
        '--node-lease-duration-seconds=40',
      ],
      { KWOK_WORKDIR: kwokHome },
    );

    // The nodes can be created while the controllers start; kwok marks them Ready once it is up.
    const nodes = Array.from({ length: nodeCount }, (_, i) => `kwok-node-${i}`);
    for (const [i, node] of nodes.entries()) {
      const response = await client('POST', '/api/v1/nodes', fakeNode(node, i, maxPods));
      if (response.status !== 201)
        throw new Error(`creating node ${node}: HTTP ${response.status} ${response.body}`);
    }
    await waitFor(
      `kwok /healthz on 127.0.0.1:${kwokPort} (see ${logOf('kwok')})`,
      () => httpOk(`http://127.0.0.1:${kwokPort}/healthz`),
      60000,
      200,
    );
    await waitFor(
      `${nodeCount} Ready KWOK nodes (see ${logOf('kwok')}, ${logOf('controller-manager')})`,
      async () => {
        const { status, json } = await client('GET', '/api/v1/nodes');
        if (status !== 200) return false;
        const ready = json.items.filter(
          (n) =>
            n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') &&
            !(n.spec?.taints ?? []).some((t) => t.key.startsWith('node.kubernetes.io/')),
        );
        return ready.length >= nodeCount;
      },
      60000,
      200,
    );
    log(`kubernetes: ${nodeCount} KWOK nodes Ready at ${since()}`);
    // The controller-manager is working once it has given the default namespace its service account
    // (pods cannot be admitted into a namespace before that).
    await waitFor(
      `the default service account (see ${logOf('controller-manager')})`,
      async () => (await client('GET', '/api/v1/namespaces/default/serviceaccounts/default')).status === 200,
      60000,
      200,
    );
    await waitFor(
      `kube-scheduler /readyz (see ${logOf('scheduler')})`,
      async () => (await insecureGet(`https://127.0.0.1:${schedPort}/readyz`)) === 200,
      60000,
      200,
    );
    log(`kubernetes: controller-manager and scheduler up; cluster ready in ${since()} (API ${server})`);
  } catch (error) {
    for (const [, pid] of started.reverse()) await stopPid(pid);
    throw error;
  }

  // Stopped in this order (kwok first, etcd last) by stop() and by `testbed down`.
  const pids = started.map(([, pid]) => pid).reverse();
  return {
    pids,
    env: { KUBECONFIG: kubeconfig, KUBECTL: bin.kubectl, GANTRY_TESTBED_POD_NETWORK: POD_NETWORK },
    // What stopApiserver/startApiserver need to bring the same API server back on the same port.
    apiserver: { command: bin['kube-apiserver'], args: apiserverArgs, server },
  };
}

/**
 * Fault injection: stops the API server (SIGTERM to its process, SIGKILL after `graceMs`), leaving etcd, the
 * controllers, the scheduler and kwok running. Returns the entry with the pid removed from `pids`.
 */
export async function stopApiserver(_context, entry, { graceMs = 10000 } = {}) {
  const pid = apiserverPid(entry);
  if (pid) await stopPid(pid, graceMs);
  return {
    ...entry,
    pids: entry.pids.filter((p) => p !== pid),
    apiserver: { ...entry.apiserver, pid: null },
  };
}

/**
 * Starts the API server again with exactly the arguments (and so the port, certificates and etcd) it had, and
 * waits until /readyz answers. Returns the entry with the new pid in the API server's place in `pids`.
 */
export async function startApiserver({ stateDir }, entry, { timeoutMs = 90000 } = {}) {
  const { command, args, server } = entry.apiserver ?? {};
  if (!command)
    throw new Error('kubernetes: no API server arguments recorded; restart the sandbox (testbed down, up)');
  if (apiserverPid(entry))
    throw new Error(`kubernetes: the API server is running (pid ${apiserverPid(entry)})`);
  const pid = spawnDaemon(stateDir, 'k8s-apiserver', command, args);
  const client = apiClient(server, join(stateDir, 'k8s', 'pki'));
  await waitFor(
    `kube-apiserver /readyz on ${server} after a restart`,
    async () => (await client('GET', '/readyz')).status === 200,
    timeoutMs,
    100,
  );
  // pids are kept in stop order: kwok, scheduler, controller-manager, apiserver, etcd.
  const pids = [...entry.pids];
  pids.splice(Math.max(0, pids.length - 1), 0, pid);
  return { ...entry, pids, apiserver: { ...entry.apiserver, pid } };
}

/** The API server's pid: recorded at start, or its place in `pids` (the one before etcd). */
function apiserverPid(entry) {
  if (entry.apiserver && 'pid' in entry.apiserver) return entry.apiserver.pid;
  return entry.pids.length >= 2 ? entry.pids[entry.pids.length - 2] : null;
}

export async function stop(_context, entry) {
  // pids are recorded kwok, scheduler, controller-manager, apiserver, etcd. The three API clients go first
  // (together: each takes ~2 s to shut down), then the apiserver, then etcd.
  const pids = entry?.pids ?? [];
  await Promise.all(pids.slice(0, -2).map((pid) => stopPid(pid, 10000)));
  for (const pid of pids.slice(-2)) await stopPid(pid, 10000);
}

async function distinctFreePorts(count) {
  const ports = new Set();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

function openssl(args, cwd) {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A throw-away CA, the API server's serving certificate, an admin client certificate, a front-proxy CA
 *  and client certificate, and the service-account signing key pair; all ECDSA P-256 (fast to make). */
function makePki(pki) {
  const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(
    [
      'req',
      '-x509',
      ...ecKey,
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-days',
      '3650',
      '-subj',
      '/CN=gantry-testbed-ca',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
    ],
    pki,
  );
  openssl(
    [
      'req',
      '-x509',
      ...ecKey,
      '-keyout',
      'front-proxy-ca.key',
      '-out',
      'front-proxy-ca.crt',
      '-days',
      '3650',
      '-subj',
      '/CN=gantry-testbed-front-proxy-ca',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
    ],
    pki,
  );
  const issue = (base, subject, extensions, ca = 'ca') => {
    writeFileSync(join(pki, `${base}.ext`), `${extensions.join('\n')}\n`);
    openssl(
      ['req', '-new', ...ecKey, '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', subject],
      pki,
    );
    openssl(
      [
        'x509',
        '-req',
        '-in',
        `${base}.csr`,
        '-CA',
        `${ca}.crt`,
        '-CAkey',
        `${ca}.key`,
        '-CAcreateserial',
        '-days',
        '3650',
        '-out',
        `${base}.crt`,
        '-extfile',
        `${base}.ext`,
      ],
      pki,
    );
  };
  issue('apiserver', '/CN=kube-apiserver', [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    'extendedKeyUsage=serverAuth',
    `subjectAltName=IP:127.0.0.1,IP:${SERVICE_IP},DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,` +
      'DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local',
  ]);
  issue('admin', '/O=system:masters/CN=gantry-testbed-admin', [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    'extendedKeyUsage=clientAuth',
  ]);
  issue(
    'front-proxy-client',
    '/CN=front-proxy-client',
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=clientAuth',
    ],
    'front-proxy-ca',
  );
  const { privateKey, publicKey } = generateKeyPairSync('ec', {
    namedCurve: 'P-256',
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  writeFileSync(join(pki, 'sa.key'), privateKey, { mode: 0o600 });
  writeFileSync(join(pki, 'sa.pub'), publicKey);
}

function kubeconfigYaml(server, pki) {
  const b64 = (file) => readFileSync(join(pki, file)).toString('base64');
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: gantry-testbed',
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority-data: ${b64('ca.crt')}`,
    'users:',
    '- name: gantry-testbed-admin',
    '  user:',
    `    client-certificate-data: ${b64('admin.crt')}`,
    `    client-key-data: ${b64('admin.key')}`,
    'contexts:',
    '- name: gantry-testbed',
    '  context:',
    '    cluster: gantry-testbed',
    '    user: gantry-testbed-admin',
    '    namespace: default',
    'current-context: gantry-testbed',
    '',
  ].join('\n');
}

/** A minimal HTTPS client for the API server with the admin certificate: (method, path, body?) → response. */
function apiClient(server, pki) {
  const tls = {
    ca: readFileSync(join(pki, 'ca.crt')),
    cert: readFileSync(join(pki, 'admin.crt')),
    key: readFileSync(join(pki, 'admin.key')),
  };
  return (method, path, body) =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = request(
        new URL(path, server),
        {
          method,
          ...tls,
          headers: { accept: 'application/json', ...(payload ? { 'content-type': 'application/json' } : {}) },
          timeout: 5000,
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk) => (text += chunk));
          res.on('end', () => {
            let json;
            try {
              json = JSON.parse(text);
            } catch {}
            resolve({ status: res.statusCode, body: text, json });
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timeout`)));
      req.on('error', reject);
      req.end(payload);
    });
}

/** GET over HTTPS without verifying the (self-signed, in-memory) certificate; resolves the status or 0. */
function insecureGet(url) {
  return new Promise((resolve) => {
    const req = request(url, { rejectUnauthorized: false, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
    req.end();
  });
}

function fakeNode(nodeName, index, maxPods) {
  const resources = { cpu: '64', memory: '256Gi', pods: String(maxPods), 'ephemeral-storage': '1Ti' };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: nodeName,
      labels: {
        type: 'kwok',
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/os': 'linux',
        'kubernetes.io/hostname': nodeName,
        'node-role.kubernetes.io/agent': '',
        'topology.kubernetes.io/zone': `testbed-${String.fromCharCode(97 + (index % 3))}`,
      },
      annotations: { 'kwok.x-k8s.io/node': 'fake' },
    },
    spec: {},
    status: {
      allocatable: resources,
      capacity: resources,
      addresses: [
        { type: 'InternalIP', address: `10.240.0.${index + 2}` },
        { type: 'Hostname', address: nodeName },
      ],
      nodeInfo: {
        architecture: 'amd64',
        operatingSystem: 'linux',
        kubeletVersion: `${versions().K8S_VERSION}`,
      },
    },
  };
}
