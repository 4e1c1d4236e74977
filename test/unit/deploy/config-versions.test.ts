import type { V1PodSpec, V1PodTemplateSpec } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  CONFIG_NAME_ANNOTATION,
  CONFIG_OF_LABEL,
  type ConfigNames,
  configReferences,
  contentHash,
  copiesToDelete,
  planConfigVersions,
  previousVersion,
  RELEASED_AT_ANNOTATION,
  releaseConfig,
  rewriteConfigReferences,
  type StoredCopy,
} from '../../../src/deploy/config-versions.js';
import type { Manifest } from '../../../src/deploy/manifests.js';
import { InputError } from '../../../src/util/errors.js';

const KEY = Buffer.alloc(32, 7);
const OTHER_KEY = Buffer.alloc(32, 8);
const AT = new Date('2026-12-07T10:00:00Z');

const names = (refs: ConfigNames) => ({
  ConfigMap: [...refs.ConfigMap].sort(),
  Secret: [...refs.Secret].sort(),
});

function deployment(pod: Partial<V1PodSpec>, name = 'web'): Manifest {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [], ...pod } },
    },
  };
}

function configMap(
  name: string,
  data: Record<string, string>,
  annotations?: Record<string, string>,
): Manifest {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, annotations }, data } as Manifest;
}

function secret(
  name: string,
  content: { data?: Record<string, string>; stringData?: Record<string, string> },
) {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name }, type: 'Opaque', ...content } as Manifest;
}

describe('configReferences: every way a pod reads a ConfigMap or Secret', () => {
  it.each<[string, Partial<V1PodSpec>, { ConfigMap: string[]; Secret: string[] }]>([
    [
      'a configMap volume',
      { volumes: [{ name: 'v', configMap: { name: 'cm' } }] },
      { ConfigMap: ['cm'], Secret: [] },
    ],
    [
      'a secret volume',
      { volumes: [{ name: 'v', secret: { secretName: 's' } }] },
      { ConfigMap: [], Secret: ['s'] },
    ],
    [
      'projected volume sources',
      {
        volumes: [
          {
            name: 'v',
            projected: {
              sources: [
                { configMap: { name: 'cm' } },
                { secret: { name: 's' } },
                { serviceAccountToken: { path: 't' } },
              ],
            },
          },
        ],
      },
      { ConfigMap: ['cm'], Secret: ['s'] },
    ],
    [
      'envFrom in a container',
      {
        containers: [
          { name: 'a', envFrom: [{ configMapRef: { name: 'cm' } }, { secretRef: { name: 's' } }] },
        ],
      },
      { ConfigMap: ['cm'], Secret: ['s'] },
    ],
    [
      'env valueFrom key references in a container',
      {
        containers: [
          {
            name: 'a',
            env: [
              { name: 'A', valueFrom: { configMapKeyRef: { name: 'cm', key: 'a' } } },
              { name: 'B', valueFrom: { secretKeyRef: { name: 's', key: 'b' } } },
              { name: 'C', value: 'literal' },
              { name: 'D', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
            ],
          },
        ],
      },
      { ConfigMap: ['cm'], Secret: ['s'] },
    ],
    [
      'init containers, and every container',
      {
        initContainers: [{ name: 'i', envFrom: [{ configMapRef: { name: 'init-cm' } }] }],
        containers: [
          { name: 'a', env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'a-s', key: 'x' } } }] },
          { name: 'b', envFrom: [{ configMapRef: { name: 'b-cm' } }] },
        ],
      },
      { ConfigMap: ['b-cm', 'init-cm'], Secret: ['a-s'] },
    ],
    [
      'image pull secrets (not configuration)',
      { imagePullSecrets: [{ name: 'pull' }] },
      { ConfigMap: [], Secret: [] },
    ],
  ])('%s', (_what, pod, expected) => {
    expect(names(configReferences({ containers: [], ...pod } as V1PodSpec))).toEqual(expected);
  });
});

describe('rewriteConfigReferences: the new version reads the copies', () => {
  const pod: V1PodSpec = {
    volumes: [
      { name: 'a', configMap: { name: 'cm' } },
      { name: 'b', secret: { secretName: 's' } },
      { name: 'c', projected: { sources: [{ configMap: { name: 'cm' } }, { secret: { name: 'other' } }] } },
      { name: 'd', configMap: { name: 'untouched' } },
    ],
    initContainers: [{ name: 'i', envFrom: [{ secretRef: { name: 's' } }] }],
    containers: [
      {
        name: 'app',
        envFrom: [{ configMapRef: { name: 'cm' } }],
        env: [
          { name: 'A', valueFrom: { configMapKeyRef: { name: 'cm', key: 'a' } } },
          { name: 'B', valueFrom: { secretKeyRef: { name: 's', key: 'b' } } },
        ],
      },
    ],
  };
  const renames = {
    ConfigMap: new Map([['cm', 'cm-0123456789']]),
    Secret: new Map([['s', 's-abcdefabcd']]),
  };

  it('renames every reference of the renamed objects, by kind, and nothing else', () => {
    const rewritten = rewriteConfigReferences(pod, renames);
    expect(names(configReferences(rewritten))).toEqual({
      ConfigMap: ['cm-0123456789', 'untouched'],
      Secret: ['other', 's-abcdefabcd'],
    });
    expect(rewritten.volumes![0]!.configMap!.name).toBe('cm-0123456789');
    expect(rewritten.volumes![1]!.secret!.secretName).toBe('s-abcdefabcd');
    expect(
      rewritten.volumes![2]!.projected!.sources!.map((s) => s.configMap?.name ?? s.secret?.name),
    ).toEqual(['cm-0123456789', 'other']);
    expect(rewritten.initContainers![0]!.envFrom![0]!.secretRef!.name).toBe('s-abcdefabcd');
    expect(
      rewritten.containers[0]!.env!.map(
        (e) => e.valueFrom?.configMapKeyRef?.name ?? e.valueFrom?.secretKeyRef?.name,
      ),
    ).toEqual(['cm-0123456789', 's-abcdefabcd']);
  });

  it('leaves the original pod spec as it was', () => {
    const before = structuredClone(pod);
    rewriteConfigReferences(pod, renames);
    expect(pod).toEqual(before);
  });

  it('does not rename a Secret that shares a ConfigMap name', () => {
    const both: V1PodSpec = {
      containers: [{ name: 'a', envFrom: [{ configMapRef: { name: 'x' } }, { secretRef: { name: 'x' } }] }],
    };
    const rewritten = rewriteConfigReferences(both, {
      ConfigMap: new Map([['x', 'x-1111111111']]),
      Secret: new Map(),
    });
    expect(rewritten.containers[0]!.envFrom).toEqual([
      { configMapRef: { name: 'x-1111111111' } },
      { secretRef: { name: 'x' } },
    ]);
  });
});

describe('planConfigVersions: which objects of the manifests are versioned', () => {
  const target = deployment({
    containers: [
      {
        name: 'app',
        envFrom: [{ configMapRef: { name: 'app-config' } }, { secretRef: { name: 'app-secret' } }],
      },
    ],
    volumes: [
      { name: 'shared', configMap: { name: 'shared-config' } },
      { name: 'opt', configMap: { name: 'opted-out' } },
      { name: 'ext', configMap: { name: 'not-in-manifests' } },
    ],
  });
  const worker = deployment(
    { containers: [{ name: 'w', envFrom: [{ configMapRef: { name: 'shared-config' } }] }] },
    'worker',
  );
  const manifests = [
    target,
    worker,
    configMap('app-config', { a: '1' }),
    secret('app-secret', { stringData: { password: 'hunter2' } }),
    configMap('shared-config', { b: '2' }),
    configMap('opted-out', { c: '3' }, { 'gantry.dev/versioned': 'false' }),
    configMap('unread', { d: '4' }),
  ];

  it('versions what only the target reads; a shared or opted-out object stays as is, with a note why', () => {
    const plan = planConfigVersions(manifests, target);
    expect(plan.versioned.map((m) => `${m.kind}/${m.metadata.name}`)).toEqual([
      'ConfigMap/app-config',
      'Secret/app-secret',
    ]);
    expect(plan.notes).toEqual([
      'ConfigMap shared-config is also read by Deployment worker: applied as is, not versioned',
      'ConfigMap opted-out is not versioned (gantry.dev/versioned: "false"): applied as is',
    ]);
  });

  it('versions nothing when the target reads nothing of the manifests', () => {
    expect(planConfigVersions([deployment({}), configMap('x', {})], deployment({})).versioned).toEqual([]);
  });

  it('refuses an opt-out annotation that is not "true" or "false", naming the object', () => {
    const bad = configMap('app-config', { a: '1' }, { 'gantry.dev/versioned': 'no' });
    expect(() => planConfigVersions([target, { ...bad, source: 'k8s/app.yaml' }], target)).toThrow(
      new InputError(
        '--manifests',
        'ConfigMap "app-config" (k8s/app.yaml): annotation gantry.dev/versioned must be "true" or "false", got "no"',
      ),
    );
  });

  it('refuses a name with no room for the hash', () => {
    const long = 'c'.repeat(250);
    const reader = deployment({ volumes: [{ name: 'v', configMap: { name: long } }] });
    expect(() => planConfigVersions([reader, configMap(long, {})], reader)).toThrow(
      /too long for a versioned copy/,
    );
  });
});

describe('contentHash', () => {
  it('of a ConfigMap: 10 hex characters of SHA-256, of the data only, whatever the key order', () => {
    const a = configMap('a', { x: '1', y: '2' });
    const b = { ...configMap('b', { y: '2', x: '1' }), metadata: { name: 'b', labels: { other: 'label' } } };
    expect(contentHash(a)).toMatch(/^[0-9a-f]{10}$/);
    expect(contentHash(b)).toBe(contentHash(a));
    expect(contentHash(configMap('a', { x: '1', y: '3' }))).not.toBe(contentHash(a));
    expect(contentHash({ ...a, binaryData: { z: 'AA==' } } as Manifest)).not.toBe(contentHash(a));
  });

  it('of a Secret: keyed (HMAC), the same for data and stringData of the same value, type included', () => {
    const asString = secret('s', { stringData: { password: 'hunter2' } });
    const asData = secret('s', { data: { password: Buffer.from('hunter2').toString('base64') } });
    expect(contentHash(asString, KEY)).toMatch(/^[0-9a-f]{10}$/);
    expect(contentHash(asData, KEY)).toBe(contentHash(asString, KEY));
    expect(contentHash(asString, OTHER_KEY)).not.toBe(contentHash(asString, KEY));
    expect(contentHash(secret('s', { stringData: { password: 'hunter3' } }), KEY)).not.toBe(
      contentHash(asString, KEY),
    );
    expect(contentHash({ ...asString, type: 'kubernetes.io/basic-auth' } as Manifest, KEY)).not.toBe(
      contentHash(asString, KEY),
    );
    // stringData wins over data for the same key, as the API server stores it.
    const both = secret('s', { data: { password: 'b2xk' }, stringData: { password: 'hunter2' } });
    expect(contentHash(both, KEY)).toBe(contentHash(asString, KEY));
  });

  it('never hashes a Secret without the key', () => {
    expect(() => contentHash(secret('s', { stringData: { p: 'x' } }))).toThrow();
  });
});

describe('releaseConfig: copies and the rewritten target', () => {
  const target = deployment({
    containers: [
      {
        name: 'app',
        image: 'registry/web@sha256:aa',
        envFrom: [{ configMapRef: { name: 'app-config' } }],
        env: [{ name: 'P', valueFrom: { secretKeyRef: { name: 'app-secret', key: 'password' } } }],
      },
    ],
  });
  const manifests = [
    target,
    configMap('app-config', { mode: 'fast' }, { note: 'kept', 'gantry.dev/versioned': 'true' }),
    secret('app-secret', { stringData: { password: 'hunter2' } }),
  ];
  const plan = planConfigVersions(manifests, target);
  const release = releaseConfig(plan, target, 'web', { secretKey: KEY, releasedAt: AT });
  const cmHash = contentHash(manifests[1]!);
  const secretHash = contentHash(manifests[2]!, KEY);

  it('copies each object as <name>-<hash>, labelled for the app, annotated with its original name', () => {
    expect(release.copies.map((c) => `${c.kind}/${c.metadata.name}`)).toEqual([
      `ConfigMap/app-config-${cmHash}`,
      `Secret/app-secret-${secretHash}`,
    ]);
    const [cm, s] = release.copies as (Manifest & Record<string, unknown>)[];
    expect(cm!.data).toEqual({ mode: 'fast' });
    expect(cm!.metadata.labels).toEqual({
      'app.kubernetes.io/managed-by': 'gantry',
      [CONFIG_OF_LABEL]: 'web',
    });
    expect(cm!.metadata.annotations).toEqual({
      note: 'kept',
      [CONFIG_NAME_ANNOTATION]: 'app-config',
      [RELEASED_AT_ANNOTATION]: AT.toISOString(),
    });
    expect(s!.stringData).toEqual({ password: 'hunter2' });
    expect(s!.type).toBe('Opaque');
  });

  it('rewrites the target to read the copies; the original target and image are untouched', () => {
    const container = (release.target.spec as { template: V1PodTemplateSpec }).template.spec!.containers[0]!;
    expect(container.envFrom![0]!.configMapRef!.name).toBe(`app-config-${cmHash}`);
    expect(container.env![0]!.valueFrom!.secretKeyRef!.name).toBe(`app-secret-${secretHash}`);
    expect(container.image).toBe('registry/web@sha256:aa');
    const original = (target.spec as { template: V1PodTemplateSpec }).template.spec!.containers[0]!;
    expect(original.envFrom![0]!.configMapRef!.name).toBe('app-config');
  });

  it('reports names and hashes only, and fingerprints the release by its copies', () => {
    expect(release.versions).toEqual([
      { kind: 'ConfigMap', name: 'app-config', version: `app-config-${cmHash}`, previous: null },
      { kind: 'Secret', name: 'app-secret', version: `app-secret-${secretHash}`, previous: null },
    ]);
    expect(release.fingerprint).toBe(`ConfigMap/app-config-${cmHash},Secret/app-secret-${secretHash}`);
    expect(JSON.stringify(release.versions)).not.toContain('hunter2');
    expect(release.fingerprint).not.toContain('hunter2');
  });

  it('a config-only change is a different pod template with the same image', () => {
    const changed = [manifests[0]!, configMap('app-config', { mode: 'slow' }), manifests[2]!];
    const next = releaseConfig(planConfigVersions(changed, target), target, 'web', {
      secretKey: KEY,
      releasedAt: AT,
    });
    expect(next.fingerprint).not.toBe(release.fingerprint);
    expect(next.target).not.toEqual(release.target);
    const image = (m: Manifest) =>
      (m.spec as { template: V1PodTemplateSpec }).template.spec!.containers[0]!.image;
    expect(image(next.target)).toBe(image(release.target));
  });

  it('no versioned object: the target as it was, an empty fingerprint', () => {
    const none = releaseConfig({ versioned: [], notes: [] }, target, 'web', { releasedAt: AT });
    expect(none.target).toEqual(target);
    expect(none.fingerprint).toBe('');
  });
});

describe('previousVersion: which copy the stable template read', () => {
  const template = (names: string[]): V1PodTemplateSpec => ({
    spec: { containers: [{ name: 'a', envFrom: names.map((name) => ({ configMapRef: { name } })) }] },
  });
  it.each<[string, string[], string | null]>([
    ['a copy of the object', ['app-config-0123456789'], 'app-config-0123456789'],
    ['the original itself', ['app-config'], null],
    ['a copy of another object with the same prefix', ['app-config-extra-0123456789'], null],
    ['nothing', [], null],
  ])('%s', (_what, refs, expected) => {
    expect(previousVersion(template(refs), 'ConfigMap', 'app-config')).toBe(expected);
  });
  it('no Deployment yet', () => {
    expect(previousVersion(undefined, 'ConfigMap', 'app-config')).toBeNull();
  });
});

describe('copiesToDelete: keep the newest few versions of each object and every one in use', () => {
  const copy = (kind: 'ConfigMap' | 'Secret', original: string, hash: string, at: string): StoredCopy => ({
    kind,
    metadata: {
      name: `${original}-${hash}`,
      annotations: {
        [CONFIG_NAME_ANNOTATION]: original,
        [RELEASED_AT_ANNOTATION]: `2026-12-07T10:00:0${at}Z`,
      },
    },
  });
  const none: ConfigNames = { ConfigMap: new Set(), Secret: new Set() };
  const deleted = (copies: StoredCopy[], inUse = none, keep = 3) =>
    copiesToDelete(copies, inUse, keep).map((c) => `${c.kind}/${c.metadata.name}`);

  it('keeps the three most recently released of each object, per kind and name', () => {
    const copies = [
      copy('ConfigMap', 'cfg', 'a', '1'),
      copy('ConfigMap', 'cfg', 'b', '2'),
      copy('ConfigMap', 'cfg', 'c', '3'),
      copy('ConfigMap', 'cfg', 'd', '4'),
      copy('ConfigMap', 'cfg', 'e', '5'),
      copy('Secret', 'cfg', 'f', '1'),
      copy('ConfigMap', 'other', 'g', '1'),
    ];
    expect(deleted(copies)).toEqual(['ConfigMap/cfg-b', 'ConfigMap/cfg-a']);
  });

  it('never deletes a copy in use, however old', () => {
    const copies = ['1', '2', '3', '4'].map((at, i) => copy('ConfigMap', 'cfg', `h${i}`, at));
    const inUse: ConfigNames = { ConfigMap: new Set(['cfg-h0']), Secret: new Set() };
    expect(deleted(copies, inUse)).toEqual([]);
    expect(deleted(copies, { ConfigMap: new Set(), Secret: new Set(['cfg-h0']) })).toEqual([
      'ConfigMap/cfg-h0',
    ]);
  });

  it('a copy released again (an older config brought back) counts as new', () => {
    const copies = [
      copy('ConfigMap', 'cfg', 'old', '9'),
      ...['1', '2', '3'].map((at, i) => copy('ConfigMap', 'cfg', `h${i}`, at)),
    ];
    expect(deleted(copies)).toEqual(['ConfigMap/cfg-h0']);
  });

  it('never touches an object without the original-name annotation', () => {
    const foreign: StoredCopy = { kind: 'ConfigMap', metadata: { name: 'x' } };
    expect(deleted([foreign], none, 0)).toEqual([]);
  });
});
