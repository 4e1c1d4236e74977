import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import {
  clients,
  createNamespace,
  deleteNamespace,
  fakeImage,
  writeAnalysis,
  writeApp,
} from '../helpers/kube.js';

let ns: string;
beforeAll(async () => {
  ns = await createNamespace('bad');
});
afterAll(async () => {
  await deleteNamespace(ns);
});

/** Everything Gantry could have created or changed in the namespace. */
async function snapshot(namespace: string): Promise<string> {
  const { apps, core, coordination } = clients();
  const [deployments, services, leases] = await Promise.all([
    apps.listNamespacedDeployment({ namespace }),
    core.listNamespacedService({ namespace }),
    coordination.listNamespacedLease({ namespace }),
  ]);
  return JSON.stringify([
    deployments.items.map((d) => [d.metadata?.name, d.metadata?.resourceVersion]),
    services.items.map((s) => [s.metadata?.name, s.metadata?.resourceVersion]),
    leases.items.map((l) => l.metadata?.name),
  ]);
}

function file(name: string, text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'gantry-bad-')), name);
  writeFileSync(path, text);
  return path;
}

const image = `app=${fakeImage('bad-input')}`;
const base = (extra: string[]) => [
  'deploy',
  '--manifests',
  writeApp(),
  '--image',
  image,
  '--namespace',
  ns,
  ...extra,
];

const cases: [string, () => string[], RegExp][] = [
  [
    'unknown strategy',
    () => base(['--strategy', 'linear']),
    /^gantry: --strategy: expected one of rolling\|canary\|blue-green, got "linear"$/,
  ],
  [
    'unknown router',
    () => base(['--router', 'traefik']),
    /^gantry: --router: expected one of replicas\|gateway-api\|istio\|nginx, got "traefik"$/,
  ],
  [
    'weights not increasing',
    () => base(['--steps', '50,25']),
    /^gantry: --steps: expected strictly increasing weights/,
  ],
  ['weight above 100', () => base(['--steps', '10,150']), /^gantry: --steps: expected weights from 1 to 99/],
  [
    'a match step with the replicas router (the default)',
    () => base(['--steps', 'header=x-canary:always:1m,50']),
    /^gantry: --steps: a match step \(header=… or cookie=…\) needs a router that routes by request: --router gateway-api, istio or nginx/,
  ],
  [
    'weight not a number',
    () => base(['--steps', '10,half']),
    /^gantry: --steps: expected a weight \(25\), weight:pause \(25:10m, 50:until-promoted\) or \{weight, pause\}, or a match: header=NAME:VALUE\[:pause\], cookie=NAME\[:pause\] or \{match, pause\}, got "half"$/,
  ],
  [
    'threshold written as "5%"',
    () =>
      base([
        '--analysis',
        file('a.yaml', 'interval: 5s\nmetrics:\n  - name: errors\n    query: up\n    max: 5%\n'),
      ]),
    /^gantry: --analysis: metrics\[0\]\.max: expected a number, got "5%"$/,
  ],
  [
    'query that does not parse',
    () => base(['--analysis', writeAnalysis({ query: 'sum(rate(http_requests_total[5s])' })]),
    /^gantry: --analysis: metric "error-rate": query does not parse/,
  ],
  [
    'a compared metric with a rolling update (no baseline beside the new version)',
    () =>
      base([
        '--strategy',
        'rolling',
        '--analysis',
        file(
          'c.yaml',
          'interval: 2s\nmetrics:\n  - name: latency\n    query: up\n    compare: { worse: increase }\n',
        ),
      ]),
    /^gantry: --analysis: metric "latency": compare needs a baseline beside the new version, and a rolling update has none/,
  ],
  [
    'namespace that does not exist',
    () => ['deploy', '--manifests', writeApp(), '--image', image, '--namespace', 'no-such-namespace'],
    /^gantry: --namespace: namespace "no-such-namespace" does not exist \(create it, or put its Namespace object in the manifests\)$/,
  ],
  [
    'Deployment not in the manifests',
    () => base(['--name', 'other']),
    /^gantry: --name: no Deployment "other" in the manifests$/,
  ],
  [
    'manifests that are not YAML',
    () => [
      'deploy',
      '--manifests',
      file('m.yaml', 'kind: Deployment\n  metadata: [oops\n'),
      '--image',
      image,
      '--namespace',
      ns,
    ],
    /^gantry: --manifests: .*m\.yaml is not valid YAML/,
  ],
  [
    'a document that is not an object',
    () => [
      'deploy',
      '--manifests',
      file('m.yaml', '- just\n- a list\n'),
      '--image',
      image,
      '--namespace',
      ns,
    ],
    /^gantry: --manifests: .* is not a Kubernetes object$/,
  ],
  [
    'image without digest',
    () => [
      'deploy',
      '--manifests',
      writeApp(),
      '--image',
      'app=127.0.0.1:5000/shop/web:latest',
      '--namespace',
      ns,
    ],
    /^gantry: --image: .*has no digest/,
  ],
  [
    'image matching no container',
    () => ['deploy', '--manifests', writeApp(), '--image', `nothing=${fakeImage('x')}`, '--namespace', ns],
    /^gantry: --image: "nothing" matches no container/,
  ],
  [
    'an object the server refuses',
    () => ['deploy', '--manifests', writeApp({ replicas: -1 }), '--image', image, '--namespace', ns],
    /^gantry: --manifests: Deployment "web" .* was refused: .*replicas/,
  ],
  [
    'bad duration',
    () => base(['--pause', 'soon']),
    /^gantry: --pause: expected a duration like 30s, 500ms or 2m, got "soon"$/,
  ],
  [
    'status of an unknown Deployment',
    () => ['status', '--name', 'ghost', '--namespace', ns],
    /^gantry: --name: no Deployment "ghost" and no rollout/,
  ],
  [
    'abort with no rollout running',
    () => ['abort', '--name', 'ghost', '--namespace', ns],
    /^gantry: --name: no rollout of ghost is in progress/,
  ],
];

describe('deploy: bad input gives one line, exit 2, and nothing applied', () => {
  it.each(cases)('%s', async (_name, args, expected) => {
    const before = await snapshot(ns);
    const run = await runCli(args());
    expect(run.exitCode, run.stderr).toBe(2);
    const lines = run.stderr
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('gantry:'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(expected);
    expect(await snapshot(ns)).toBe(before);
  });
});
