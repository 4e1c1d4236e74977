import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../src/config/load.js';
import {
  type ChartSettings,
  chartNameInDirectory,
  chartNameOfReference,
  helmBinary,
  helmFailure,
  helmTemplateArgs,
  releaseName,
} from '../../../src/deploy/helm.js';
import { splitRendered } from '../../../src/deploy/manifests.js';
import { InputError } from '../../../src/util/errors.js';

// `gantry deploy --chart`: the pure parts (the helm command line, the release name, helm's errors read back, the
// config rules). Rendering with the real helm and rolling the result out is test/integration/helm.test.ts.

const chart = (over: Partial<ChartSettings> = {}): ChartSettings => ({
  chart: 'charts/web',
  values: [],
  set: [],
  namespace: 'shop',
  ...over,
});

function thrown(fn: () => unknown): InputError {
  try {
    fn();
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  throw new Error('expected an InputError');
}

describe('helm template arguments', () => {
  it('renders into the namespace, without hooks, values files then --set in order, the chart after --', () => {
    const args = helmTemplateArgs(
      chart({
        values: ['base.yaml', 'prod.yaml'],
        set: ['image.tag=1.2.3', 'replicaCount=3,team=checkout'],
      }),
      'web',
    );
    expect(args).toEqual([
      'template',
      '--namespace=shop',
      '--no-hooks',
      '--values=base.yaml',
      '--values=prod.yaml',
      '--set=image.tag=1.2.3',
      '--set=replicaCount=3,team=checkout',
      '--',
      'web',
      'charts/web',
    ]);
  });

  it('never lets a value, a file name or the chart become a flag of its own', () => {
    const args = helmTemplateArgs(
      chart({ chart: '--kubeconfig=/etc/x', values: ['--post-renderer=sh'], set: ['a=--dry-run=server'] }),
      'web',
    );
    // Each user-given string is either glued to its flag with `=`, or after `--`.
    const end = args.indexOf('--');
    expect(args.slice(end + 1)).toEqual(['web', '--kubeconfig=/etc/x']);
    expect(args.slice(0, end)).toContain('--values=--post-renderer=sh');
    expect(args.slice(0, end)).toContain('--set=a=--dry-run=server');
    expect(args.slice(0, end).filter((a) => a.startsWith('--kubeconfig') || a.startsWith('--post'))).toEqual(
      [],
    );
  });

  it('runs $GANTRY_HELM when set, else helm on PATH', () => {
    expect(helmBinary({})).toBe('helm');
    expect(helmBinary({ GANTRY_HELM: '' })).toBe('helm');
    expect(helmBinary({ GANTRY_HELM: '/opt/helm/bin/helm' })).toBe('/opt/helm/bin/helm');
  });
});

describe('the release name', () => {
  const none = () => undefined;

  it('is --release, else --name, else the name in the chart', () => {
    expect(releaseName(chart({ release: 'shop-web', name: 'web' }), () => 'chart')).toBe('shop-web');
    expect(releaseName(chart({ name: 'web' }), () => 'chart')).toBe('web');
    expect(releaseName(chart(), () => 'storefront')).toBe('storefront');
  });

  it.each([
    ['oci://registry.example.com/charts/web:1.2.0', 'web'],
    [`oci://registry.example.com/charts/web@sha256:${'a'.repeat(64)}`, 'web'],
    ['oci://registry.example.com/charts/web', 'web'],
    ['dist/web-1.2.0.tgz', 'web'],
    ['dist/web-api-v2.0.0-rc.1.tgz', 'web-api'],
    ['bitnami/nginx', 'nginx'],
    ['charts/web/', 'web'],
  ])('of a reference %s is %s', (reference, name) => {
    expect(chartNameOfReference(reference)).toBe(name);
    expect(releaseName(chart({ chart: reference }), none)).toBe(name);
  });

  it("is refused, naming --release, when the chart's name is not a valid release name", () => {
    const error = thrown(() => releaseName(chart({ chart: 'charts/Web_App' }), none));
    expect(error.exitCode).toBe(2);
    expect(error.message).toMatch(
      /^--release: the chart's name "Web_App" is not a valid release name.*name the release$/,
    );
  });

  it('reads the name from Chart.yaml of a chart directory; a directory without one is not a chart', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gantry-chart-'));
    expect(thrown(() => chartNameInDirectory(dir)).message).toMatch(
      /^--chart: .* has no Chart.yaml: not a Helm chart$/,
    );
    writeFileSync(join(dir, 'Chart.yaml'), 'apiVersion: v2\nname: storefront\nversion: 0.1.0\n');
    expect(chartNameInDirectory(dir)).toBe('storefront');
    expect(releaseName(chart({ chart: dir }))).toBe('storefront');
    writeFileSync(join(dir, 'Chart.yaml'), 'apiVersion: v2\nname: [\n');
    expect(thrown(() => chartNameInDirectory(dir)).message).toMatch(
      /^--chart: .*Chart.yaml is not valid YAML/,
    );
    expect(chartNameInDirectory(join(dir, 'missing'))).toBeUndefined();
  });
});

describe("helm's errors, read back", () => {
  const settings = { chart: 'charts/web', values: ['deploy/prod.yaml'] };

  it.each([
    [
      'a template error',
      'Error: execution error at (web/templates/deployment.yaml:22:21): image.repository is required\n\nUse --debug flag to render out invalid YAML\n',
      '--chart',
      'execution error at (web/templates/deployment.yaml:22:21): image.repository is required',
    ],
    [
      'a template that does not parse',
      'Error: parse error at (web/templates/a.yaml:2): unclosed action started at web/templates/a.yaml:1\n',
      '--chart',
      'parse error at (web/templates/a.yaml:2): unclosed action started at web/templates/a.yaml:1',
    ],
    [
      'a chart helm cannot find',
      'Error: repo nosuchrepo not found\n',
      '--chart',
      'repo nosuchrepo not found',
    ],
    [
      'a values file that is not YAML',
      "Error: failed to parse deploy/prod.yaml: error converting YAML to JSON: yaml: line 1: did not find expected ',' or ']'\n",
      '--values',
      "failed to parse deploy/prod.yaml: error converting YAML to JSON: yaml: line 1: did not find expected ',' or ']'",
    ],
    [
      'bad --set syntax',
      'Error: failed parsing --set data: key "c" has no value\n',
      '--set',
      'failed parsing --set data: key "c" has no value',
    ],
    [
      'a registry that does not answer',
      'Error: failed to perform "FetchReference" on source: Get "https://r.example/v2/web/manifests/1.0.0": dial tcp 10.0.0.1:443: connect: connection refused\n',
      'network',
      'failed to perform "FetchReference" on source: Get "https://r.example/v2/web/manifests/1.0.0": dial tcp 10.0.0.1:443: connect: connection refused',
    ],
    [
      'output without an Error: line',
      'walk.go:75: found symbolic link in path\npanic: something\n',
      '--chart',
      'panic: something',
    ],
  ])('%s', (_what, stderr, input, reason) => {
    expect(helmFailure(stderr, settings)).toEqual({ input, reason });
  });
});

describe('helm template output, split by template', () => {
  it("names each document after its '# Source:' comment, documents of one template after the same", () => {
    const text = [
      '---',
      '# Source: web/templates/service.yaml',
      'apiVersion: v1',
      'kind: Service',
      '',
      '---',
      '# Source: web/templates/deployment.yaml',
      'apiVersion: apps/v1',
      'kind: Deployment',
      '---',
      'apiVersion: v1',
      'kind: ConfigMap',
      '',
    ].join('\n');
    expect(splitRendered(text, 'charts/web').map((d) => d.source)).toEqual([
      'web/templates/service.yaml',
      'web/templates/deployment.yaml',
      'web/templates/deployment.yaml',
    ]);
    expect(splitRendered('apiVersion: v1\nkind: Service\n', 'charts/web')[0]!.source).toBe('charts/web');
  });
});

describe('the chart inputs in the config', () => {
  const cwd = () => mkdtempSync(join(tmpdir(), 'gantry-cfg-'));
  const resolve = (raw: Record<string, string | string[]>, dir = cwd()) =>
    resolveConfig({ command: 'deploy', raw, cwd: dir });
  const refused = (raw: Record<string, string | string[]>, dir?: string) =>
    thrown(() => resolve(raw, dir)).message;

  it('takes a chart with values files, --set items (commas and all) and a release', () => {
    const deploy = resolve({
      chart: 'charts/web',
      values: ['a.yaml', 'b.yaml'],
      set: ['image.tag=1.2.3', 'a=1,b=2'],
      release: 'shop-web',
    }).deploy;
    expect(deploy).toMatchObject({
      chart: 'charts/web',
      values: ['a.yaml', 'b.yaml'],
      set: ['image.tag=1.2.3', 'a=1,b=2'],
      release: 'shop-web',
      manifests: [],
    });
    expect(resolve({ manifests: ['k8s/'] }).deploy).toMatchObject({ values: [], set: [] });
  });

  it('refuses --chart with --manifests, naming --chart', () => {
    expect(refused({ chart: 'charts/web', manifests: ['k8s/'] })).toBe(
      '--chart: a chart and manifests are mutually exclusive: give one or the other',
    );
  });

  it("refuses a chart beside gantry.yml's manifests", () => {
    const dir = cwd();
    writeFileSync(join(dir, 'gantry.yml'), 'deploy:\n  manifests: [k8s/]\n');
    expect(refused({ chart: 'charts/web' }, dir)).toMatch(
      /^--chart: a chart and manifests are mutually exclusive/,
    );
  });

  it.each([
    [{ manifests: ['k8s/'], values: ['a.yaml'] }, '--values: only with a chart'],
    [{ manifests: ['k8s/'], set: ['a=1'] }, '--set: only with a chart'],
    [{ manifests: ['k8s/'], release: 'web' }, '--release: only with a chart'],
  ])('refuses chart settings without a chart: %j', (raw, message) => {
    expect(refused(raw)).toBe(message);
  });

  it('refuses a --set item that is not key=value, and a release name helm would refuse', () => {
    expect(refused({ chart: 'c', set: ['replicaCount'] })).toMatch(
      /^--set: expected key=value in Helm's --set syntax/,
    );
    expect(refused({ chart: 'c', release: 'Web_App' })).toMatch(/^--release: expected a Helm release name/);
    expect(refused({ chart: 'c', release: 'a'.repeat(54) })).toMatch(/^--release: .*at most 53 characters/);
    expect(refused({ chart: '  ' })).toMatch(/^--chart: expected a chart directory or reference/);
  });

  it('reads a chart from gantry.yml', () => {
    const dir = cwd();
    mkdirSync(join(dir, 'charts'));
    writeFileSync(
      join(dir, 'gantry.yml'),
      'deploy:\n  chart: charts/web\n  values: [prod.yaml]\n  set: ["image.tag=2"]\n',
    );
    expect(resolve({}, dir).deploy).toMatchObject({
      chart: 'charts/web',
      values: ['prod.yaml'],
      set: ['image.tag=2'],
    });
  });
});
