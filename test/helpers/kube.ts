import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  KubeConfig,
  type V1Deployment,
} from '@kubernetes/client-node';
import yaml from 'js-yaml';

export function kubeConfig(): KubeConfig {
  const file = process.env.KUBECONFIG;
  if (!file) throw new Error('KUBECONFIG is not set: the sandbox did not start (see test/global-setup.ts)');
  const config = new KubeConfig();
  config.loadFromFile(file);
  return config;
}

export function clients() {
  const config = kubeConfig();
  return {
    apps: config.makeApiClient(AppsV1Api),
    core: config.makeApiClient(CoreV1Api),
    coordination: config.makeApiClient(CoordinationV1Api),
  };
}

let counter = 0;
/** A fresh namespace per test, so tests never see each other's objects. */
export async function createNamespace(prefix = 'it'): Promise<string> {
  const name = `${prefix}-${Date.now().toString(36)}-${(counter++).toString(36)}`;
  await clients().core.createNamespace({ body: { metadata: { name } } });
  return name;
}

export async function deleteNamespace(name: string): Promise<void> {
  await clients()
    .core.deleteNamespace({ name })
    .catch(() => {});
}

/** A syntactically valid image digest that differs per `seed` (KWOK pods never pull images). */
export function fakeImage(seed: string, repository = '127.0.0.1:5000/shop/web'): string {
  const hex = Buffer.from(seed).toString('hex').padEnd(64, '0').slice(0, 64);
  return `${repository}@sha256:${hex}`;
}

export interface AppOptions {
  name?: string;
  replicas?: number;
  errorRate?: number;
  latencyMs?: number;
  neverReady?: boolean;
  /**
   * The Deployment's minReadySeconds: each new pod counts as available only after this long, so the real
   * controller updates the replicas one by one, at least this long apart (a slow rolling update).
   */
  minReadySeconds?: number;
  /** Extra manifests (routes, ingresses) as objects. */
  extra?: object[];
  /** Annotations of the Service (the simulator's testbed.gantry.dev/rps, …/header-share, …/cookie-share). */
  serviceAnnotations?: Record<string, string>;
}

/** Writes a Deployment + Service for an app into a temp directory and returns the directory. */
export function writeApp(options: AppOptions = {}): string {
  const name = options.name ?? 'web';
  const annotations: Record<string, string> = {
    'testbed.gantry.dev/error-rate': String(options.errorRate ?? 0),
    'testbed.gantry.dev/latency-ms': String(options.latencyMs ?? 20),
  };
  if (options.neverReady) annotations['testbed.gantry.dev/never-ready'] = 'true';
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels: { app: name } },
    spec: {
      replicas: options.replicas ?? 4,
      ...(options.minReadySeconds !== undefined && { minReadySeconds: options.minReadySeconds }),
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name }, annotations },
        spec: {
          containers: [{ name: 'app', image: 'shop/web:placeholder', ports: [{ containerPort: 8080 }] }],
        },
      },
    },
  };
  const service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name,
      labels: { app: name },
      ...(options.serviceAnnotations && { annotations: options.serviceAnnotations }),
    },
    spec: { selector: { app: name }, ports: [{ port: 80, targetPort: 8080 }] },
  };
  const dir = mkdtempSync(join(tmpdir(), 'gantry-app-'));
  const docs = [deployment, service, ...(options.extra ?? [])].map((d) => yaml.dump(d)).join('---\n');
  writeFileSync(join(dir, 'app.yaml'), docs);
  return dir;
}

/** The error-rate analysis used across tests: canary 5xx share over a 4 s window, at most 5%. */
export function writeAnalysis(
  options: {
    intervalSeconds?: number;
    failureLimit?: number;
    inconclusiveLimit?: number;
    query?: string;
    /** Only this rollout's pods (its run label): an earlier version's samples never count. */
    byRun?: boolean;
  } = {},
): string {
  const selector = `namespace="{{namespace}}",app="{{name}}",track="{{canary}}"${options.byRun ? ',run="{{run}}"' : ''}`;
  const spec = {
    interval: `${options.intervalSeconds ?? 2}s`,
    failureLimit: options.failureLimit ?? 0,
    inconclusiveLimit: options.inconclusiveLimit ?? 1,
    metrics: [
      {
        name: 'error-rate',
        query:
          options.query ??
          `(sum(rate(http_requests_total{${selector},code=~"5.."}[4s])) or vector(0)) / sum(rate(http_requests_total{${selector}}[4s]))`,
        max: 0.05,
      },
    ],
  };
  const dir = mkdtempSync(join(tmpdir(), 'gantry-analysis-'));
  const file = join(dir, 'analysis.yaml');
  writeFileSync(file, yaml.dump(spec));
  return file;
}

export async function readDeployment(namespace: string, name: string): Promise<V1Deployment | undefined> {
  return clients()
    .apps.readNamespacedDeployment({ namespace, name })
    .catch(() => undefined);
}

export function imageOf(deployment: V1Deployment | undefined): string | undefined {
  return deployment?.spec?.template?.spec?.containers?.[0]?.image;
}

export function fullyAvailable(deployment: V1Deployment | undefined): boolean {
  const want = deployment?.spec?.replicas ?? -1;
  return deployment?.status?.availableReplicas === want && deployment?.status?.updatedReplicas === want;
}

/**
 * A namespace with the stable `web` app already rolled out (rolling, image `fakeImage(seed)`), for suites that
 * then ship a new version into it; throws with the CLI's output when that first rollout fails.
 */
export async function namespaceWithStableApp(
  prefix: string,
  seed: string,
  app: AppOptions = {},
): Promise<string> {
  const { runCli } = await import('./cli.js');
  const ns = await createNamespace(prefix);
  const args = [
    'deploy',
    '--manifests',
    writeApp(app),
    '--image',
    `app=${fakeImage(seed)}`,
    '--namespace',
    ns,
  ];
  const stable = await runCli([...args, '--strategy', 'rolling', '--ready-timeout', '60s']);
  if (stable.exitCode !== 0) throw new Error(`the stable rollout in ${ns} failed: ${stable.stderr}`);
  return ns;
}

/**
 * `gantry deploy --json` of the `web` app (writeApp()) into `namespace` as a rolling update whose 2 s
 * verification window is judged by the analysis file `analysis`: the rollout the metric-provider tests run.
 */
export function rollingWithAnalysis(namespace: string, image: string, analysis: string): string[] {
  return [
    'deploy',
    '--json',
    '--manifests',
    writeApp(),
    '--image',
    `app=${image}`,
    '--namespace',
    namespace,
    '--strategy',
    'rolling',
    '--pause',
    '2s',
    '--analysis',
    analysis,
    '--ready-timeout',
    '60s',
  ];
}
