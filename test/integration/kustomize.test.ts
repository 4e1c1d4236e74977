import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import {
  clients,
  createNamespace,
  deleteNamespace,
  fakeImage,
  imageOf,
  readDeployment,
  writeApp,
} from '../helpers/kube.js';

// A kustomization directory given to --manifests is rendered (kustomize, or the kustomize built into the
// sandbox's kubectl), then deployed like any manifest: images by digest, server-side apply.

let ns: string;
beforeAll(async () => {
  ns = await createNamespace('kz');
});
afterAll(async () => {
  await deleteNamespace(ns);
});

describe('kustomization directories', () => {
  it('renders the kustomization and applies its output with the image by digest', async () => {
    const dir = writeApp({ replicas: 2 });
    writeFileSync(
      join(dir, 'kustomization.yaml'),
      [
        'apiVersion: kustomize.config.k8s.io/v1beta1',
        'kind: Kustomization',
        'resources: [app.yaml]',
        'labels:',
        '  - pairs: { team: checkout }',
        '    includeSelectors: false',
        'commonAnnotations:',
        '  rendered-by: kustomize',
        '',
      ].join('\n'),
    );
    const image = fakeImage('kz1');
    const run = await runCli([
      'deploy',
      '--json',
      '--manifests',
      dir,
      '--image',
      `app=${image}`,
      '--namespace',
      ns,
      '--strategy',
      'rolling',
      '--ready-timeout',
      '60s',
    ]);
    expect(run.exitCode, run.stderr).toBe(0);
    const deployment = await readDeployment(ns, 'web');
    expect(imageOf(deployment)).toBe(image);
    expect(deployment?.metadata?.labels?.team).toBe('checkout');
    expect(deployment?.metadata?.annotations?.['rendered-by']).toBe('kustomize');
    const service = await clients().core.readNamespacedService({ namespace: ns, name: 'web' });
    expect(service.metadata?.labels?.team).toBe('checkout');
  });

  it('a kustomization that does not render is bad input: exit 2, one line naming --manifests, nothing applied', async () => {
    const dir = writeApp({ name: 'broken' });
    writeFileSync(join(dir, 'kustomization.yaml'), 'resources: [missing.yaml]\n');
    const run = await runCli([
      'deploy',
      '--manifests',
      dir,
      '--image',
      `app=${fakeImage('kz2')}`,
      '--namespace',
      ns,
      '--strategy',
      'rolling',
    ]);
    expect(run.exitCode, run.stderr).toBe(2);
    const errors = run.stderr.split('\n').filter((l) => /error/i.test(l));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('--manifests');
    expect(await readDeployment(ns, 'broken')).toBeUndefined();
  });
});
