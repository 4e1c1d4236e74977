import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, runCli } from '../helpers/cli.js';
import {
  clients,
  createNamespace,
  deleteNamespace,
  fakeImage,
  fullyAvailable,
  imageOf,
  readDeployment,
  writeAnalysis,
} from '../helpers/kube.js';

// `gantry deploy --chart`: the chart is rendered with the real helm (`helm template`, built by
// test/bed/install-helm.sh), and the rendered objects go the way of any manifests: images by digest, dry run,
// server-side apply, the strategy against the sandbox's pods and Prometheus. Helm itself never touches the
// cluster, so no release Secret may appear.

/** A Deployment `<release>` (container `app`, image from values) and its Service (test/fixtures/charts/web). */
const CHART = resolve(repoRoot, 'test', 'fixtures', 'charts', 'web');

const namespaces: string[] = [];
async function namespace(): Promise<string> {
  const ns = await createNamespace('helm');
  namespaces.push(ns);
  return ns;
}
afterAll(async () => {
  await Promise.all(namespaces.map(deleteNamespace));
});

function valuesFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'gantry-values-')), 'values.yaml');
  writeFileSync(file, text);
  return file;
}

/** The error lines of a run (`gantry: …`): a bad-input run prints exactly one. */
function errorLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.startsWith('gantry:'));
}

async function expectNothingIn(ns: string): Promise<void> {
  const { apps, core } = clients();
  expect((await apps.listNamespacedDeployment({ namespace: ns })).items).toEqual([]);
  expect((await core.listNamespacedService({ namespace: ns })).items).toEqual([]);
}

const V1 = fakeImage('helm-v1');
const V2 = fakeImage('helm-v2');

describe('a chart rendered with helm template', () => {
  it('applies what the chart renders with --values and --set, the image by digest, hooks left out', async () => {
    const ns = await namespace();
    const run = await runCli([
      'deploy',
      '--json',
      '--chart',
      CHART,
      '--values',
      valuesFile('team: checkout\nreplicaCount: 3\n'),
      '--set',
      'replicaCount=2',
      '--image',
      `app=${V1}`,
      '--namespace',
      ns,
      '--strategy',
      'rolling',
      '--ready-timeout',
      '60s',
    ]);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.json!.verdict).toBe('promoted');
    // The release name defaults to the chart's name, and the chart names its objects after the release.
    const deployment = await readDeployment(ns, 'web');
    expect(imageOf(deployment)).toBe(V1);
    expect(deployment?.spec?.replicas).toBe(2); // --set wins over --values
    expect(deployment?.metadata?.labels?.team).toBe('checkout'); // from --values
    expect(deployment?.metadata?.labels?.['helm.sh/chart']).toBe('web-0.1.0');
    expect(fullyAvailable(deployment)).toBe(true);
    const { core } = clients();
    const service = await core.readNamespacedService({ namespace: ns, name: 'web' });
    expect(service.metadata?.labels?.team).toBe('checkout');
    // The chart's test hook (a Pod web-test) is not rendered: Gantry runs no Helm lifecycle.
    const pods = await core.listNamespacedPod({ namespace: ns });
    expect(pods.items.map((p) => p.metadata?.name)).not.toContain('web-test');
    // Helm installed nothing: no release Secret (sh.helm.release.v1.*).
    const secrets = await core.listNamespacedSecret({ namespace: ns });
    expect(secrets.items.filter((s) => s.type === 'helm.sh/release.v1')).toEqual([]);
  });

  it('names the objects after --release', async () => {
    const ns = await namespace();
    const run = await runCli([
      'deploy',
      '--chart',
      CHART,
      '--release',
      'shop',
      '--set',
      'replicaCount=1',
      '--image',
      `app=${V1}`,
      '--namespace',
      ns,
      '--strategy',
      'rolling',
      '--ready-timeout',
      '60s',
    ]);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(imageOf(await readDeployment(ns, 'shop-web'))).toBe(V1);
    expect(await readDeployment(ns, 'web')).toBeUndefined();
  });
});

describe('a chart rolled out as a canary on the sandbox', () => {
  let ns: string;

  function canary(image: string, extra: string[]): string[] {
    return [
      'deploy',
      '--json',
      '--chart',
      CHART,
      '--image',
      `app=${image}`,
      '--namespace',
      ns,
      '--strategy',
      'canary',
      '--steps',
      '20,50',
      '--pause',
      '6s',
      '--analysis',
      writeAnalysis(),
      '--ready-timeout',
      '60s',
      ...extra,
    ];
  }

  it('promotes a healthy release of the chart: stable on the new digest, canary gone', async () => {
    ns = await namespace();
    const stable = await runCli([
      'deploy',
      '--chart',
      CHART,
      '--image',
      `app=${V1}`,
      '--namespace',
      ns,
      '--strategy',
      'rolling',
      '--ready-timeout',
      '60s',
    ]);
    expect(stable.exitCode, stable.stderr).toBe(0);

    const run = await runCli(canary(V2, ['--set', 'errorRate=0']));
    expect(run.exitCode, run.stderr).toBe(0);
    const report = run.json!;
    expect(report.verdict).toBe('promoted');
    expect(report.previousImage).toBe(V1);
    expect((report.steps as { result: string }[]).map((s) => s.result)).toEqual(['passed', 'passed']);
    const deployment = await readDeployment(ns, 'web');
    expect(imageOf(deployment)).toBe(V2);
    expect(fullyAvailable(deployment)).toBe(true);
    expect(await readDeployment(ns, 'web-canary')).toBeUndefined();
  });

  it('rolls a bad release of the chart back: stable untouched and fully available, exit 1', async () => {
    const before = await readDeployment(ns, 'web');
    expect(imageOf(before)).toBe(V2);
    // The bad release: the chart's values make the new pods answer half of the requests with 5xx.
    const run = await runCli(canary(fakeImage('helm-bad'), ['--set', 'errorRate=0.5']));
    expect(run.exitCode, run.stderr).toBe(1);
    const report = run.json!;
    expect(report.verdict).toBe('rolled-back');
    expect(String(report.reason)).toMatch(/error-rate/);
    expect((report.steps as { result: string }[]).map((s) => s.result)).toEqual(['failed']);
    const after = await readDeployment(ns, 'web');
    expect(imageOf(after)).toBe(V2);
    expect(after?.metadata?.generation).toBe(before?.metadata?.generation);
    expect(fullyAvailable(after)).toBe(true);
    expect(await readDeployment(ns, 'web-canary')).toBeUndefined();
    const services = await clients().core.listNamespacedService({ namespace: ns });
    expect(services.items.map((s) => s.metadata?.name)).not.toContain('web-canary');
  });
});

describe('a chart that does not render is bad input: exit 2, one line, nothing applied', () => {
  const deploy = (ns: string, extra: string[]) =>
    runCli(['deploy', '--image', `app=${V1}`, '--namespace', ns, '--strategy', 'rolling', ...extra]);

  it("a template error: Helm's reason, naming --chart", async () => {
    const ns = await namespace();
    // The chart's deployment.yaml `required`s image.repository; null removes it from the values.
    const marker = `value-marker-${Date.now()}`;
    const run = await deploy(ns, [
      '--chart',
      CHART,
      '--set',
      'image.repository=null',
      '--set',
      `team=${marker}`,
    ]);
    expect(run.exitCode, run.stderr).toBe(2);
    expect(`${run.stdout}${run.stderr}`).not.toContain(marker); // values are never logged
    const errors = errorLines(run.stderr);
    expect(errors, run.stderr).toHaveLength(1);
    expect(errors[0]).toMatch(/^gantry: --chart: helm template could not render /);
    expect(errors[0]).toContain('web/templates/deployment.yaml');
    expect(errors[0]).toContain('image.repository is required');
    await expectNothingIn(ns);
  });

  it('a values file that is not YAML, naming --values', async () => {
    const ns = await namespace();
    const run = await deploy(ns, ['--chart', CHART, '--values', valuesFile('replicaCount: [1\n')]);
    expect(run.exitCode, run.stderr).toBe(2);
    const errors = errorLines(run.stderr);
    expect(errors, run.stderr).toHaveLength(1);
    expect(errors[0]).toMatch(
      /^gantry: --values: helm template could not render .*failed to parse .*values\.yaml/,
    );
    await expectNothingIn(ns);
  });

  it('a directory that is no chart, and --chart with --manifests', async () => {
    const ns = await namespace();
    const notAChart = mkdtempSync(join(tmpdir(), 'gantry-not-a-chart-'));
    const run = await deploy(ns, ['--chart', notAChart]);
    expect(run.exitCode, run.stderr).toBe(2);
    expect(errorLines(run.stderr)).toEqual([
      expect.stringMatching(/^gantry: --chart: ".*" has no Chart.yaml: not a Helm chart$/),
    ]);
    const both = await deploy(ns, ['--chart', CHART, '--manifests', CHART]);
    expect(both.exitCode, both.stderr).toBe(2);
    expect(errorLines(both.stderr)).toEqual([
      'gantry: --chart: a chart and manifests are mutually exclusive: give one or the other',
    ]);
    await expectNothingIn(ns);
  });

  it('a rendered object the API server refuses, naming --chart and the template', async () => {
    const ns = await namespace();
    // A port Kubernetes refuses: the server-side dry run fails before anything is applied.
    const run = await deploy(ns, ['--chart', CHART, '--set', 'service.port=70000']);
    expect(run.exitCode, run.stderr).toBe(2);
    const errors = errorLines(run.stderr);
    expect(errors, run.stderr).toHaveLength(1);
    expect(errors[0]).toMatch(
      /^gantry: --chart: Service "web" \(web\/templates\/service\.yaml\) was refused/,
    );
    await expectNothingIn(ns);
  });
});
