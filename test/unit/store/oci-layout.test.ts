import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  describeLayout,
  findLayout,
  forgetRefs,
  imageStoreRoot,
  indexPlatforms,
  newLayoutDir,
  recordLayout,
} from '../../../src/store/oci-layout.js';

const INDEX = 'application/vnd.oci.image.index.v1+json';
const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

/** Writes a blob into an OCI layout and returns its descriptor fields. */
function blob(layout: string, content: object): { digest: string; size: number } {
  const text = JSON.stringify(content);
  const hex = createHash('sha256').update(text).digest('hex');
  mkdirSync(join(layout, 'blobs', 'sha256'), { recursive: true });
  writeFileSync(join(layout, 'blobs', 'sha256', hex), text);
  return { digest: `sha256:${hex}`, size: text.length };
}

describe('the image store location', () => {
  it.each<[NodeJS.ProcessEnv, string]>([
    [{ GANTRY_IMAGE_STORE: '/s', RUNNER_TEMP: '/r' }, '/s'],
    [{ RUNNER_TEMP: '/r' }, '/r/gantry-images'],
    [{}, join(tmpdir(), 'gantry-images')],
  ])('%o → %s', (env, expected) => {
    expect(imageStoreRoot(env)).toBe(expected);
  });
});

describe('references in the store', () => {
  it('records every ref of a build, finds them, and forgets them', async () => {
    const env = { GANTRY_IMAGE_STORE: mkdtempSync(join(tmpdir(), 'gantry-unit-store-')) };
    const first = await newLayoutDir(env);
    writeFileSync(join(first, 'index.json'), '{"schemaVersion":2,"manifests":[]}');
    await recordLayout(first, ['r/app:1', 'r/app:latest'], env);
    expect(findLayout('r/app:1', env)).toBe(first);
    expect(findLayout('r/app:latest', env)).toBe(first);
    expect(findLayout('r/app:2', env)).toBeUndefined();

    // A later build of one of the names takes it over; the other still points at the first.
    const second = await newLayoutDir(env);
    writeFileSync(join(second, 'index.json'), '{"schemaVersion":2,"manifests":[]}');
    await recordLayout(second, ['r/app:latest'], env);
    expect(findLayout('r/app:latest', env)).toBe(second);
    expect(findLayout('r/app:1', env)).toBe(first);

    await forgetRefs(['r/app:1'], env);
    expect(findLayout('r/app:1', env)).toBeUndefined();
    expect(findLayout('r/app:latest', env)).toBe(second);
  });

  it('a layout without index.json (a build that did not finish) is not found', async () => {
    const env = { GANTRY_IMAGE_STORE: mkdtempSync(join(tmpdir(), 'gantry-unit-store-')) };
    const layout = await newLayoutDir(env);
    await recordLayout(layout, ['r/app:1'], env);
    expect(findLayout('r/app:1', env)).toBeUndefined();
  });
});

describe('describeLayout and indexPlatforms', () => {
  it('a single image: its manifest digest, no platforms', async () => {
    const layout = mkdtempSync(join(tmpdir(), 'gantry-unit-layout-'));
    const manifest = blob(layout, { schemaVersion: 2, mediaType: MANIFEST });
    writeFileSync(
      join(layout, 'index.json'),
      JSON.stringify({ manifests: [{ mediaType: MANIFEST, ...manifest }] }),
    );
    expect(await describeLayout(layout)).toEqual({
      digest: manifest.digest,
      mediaType: MANIFEST,
      platforms: [],
    });
  });

  it('an index: each platform in order, attestations left out', async () => {
    const layout = mkdtempSync(join(tmpdir(), 'gantry-unit-layout-'));
    const manifests = [
      { mediaType: MANIFEST, digest: 'sha256:a', size: 1, platform: { os: 'linux', architecture: 'amd64' } },
      {
        mediaType: MANIFEST,
        digest: 'sha256:b',
        size: 1,
        platform: { os: 'linux', architecture: 'arm', variant: 'v7' },
      },
      {
        mediaType: MANIFEST,
        digest: 'sha256:c',
        size: 1,
        platform: { os: 'unknown', architecture: 'unknown' },
      },
    ];
    const index = blob(layout, { schemaVersion: 2, mediaType: INDEX, manifests });
    writeFileSync(
      join(layout, 'index.json'),
      JSON.stringify({ manifests: [{ mediaType: INDEX, ...index }] }),
    );
    const described = await describeLayout(layout);
    expect(described.digest).toBe(index.digest);
    expect(described.platforms.map((p) => [p.platform, p.digest])).toEqual([
      ['linux/amd64', 'sha256:a'],
      ['linux/arm/v7', 'sha256:b'],
    ]);
    expect(indexPlatforms({ manifests: [] })).toEqual([]);
  });

  it('refuses a layout holding several images', async () => {
    const layout = mkdtempSync(join(tmpdir(), 'gantry-unit-layout-'));
    const one = { mediaType: MANIFEST, digest: 'sha256:a', size: 1 };
    writeFileSync(
      join(layout, 'index.json'),
      JSON.stringify({ manifests: [one, { ...one, digest: 'sha256:b' }] }),
    );
    await expect(describeLayout(layout)).rejects.toThrow(/expected one image in the OCI layout, found 2/);
  });
});
