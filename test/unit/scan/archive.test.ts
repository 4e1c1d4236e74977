import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectArchiveFormat, prepareArchive } from '../../../src/scan/archive.js';
import { InfraError } from '../../../src/util/errors.js';

/** A tarball with the given files (name → content), laid out as `tar -C dir .` would write it. */
function tarball(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'gantry-archive-src-'));
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  const tar = join(mkdtempSync(join(tmpdir(), 'gantry-archive-')), 'image.tar');
  execFileSync('tar', ['-cf', tar, '-C', dir, '.']);
  return tar;
}

const ociLayout = {
  'oci-layout': '{"imageLayoutVersion":"1.0.0"}',
  'index.json': '{"schemaVersion":2,"manifests":[]}',
  'blobs/sha256/abc': 'blob',
};

describe('detectArchiveFormat', () => {
  it('recognises a docker-archive by its manifest.json', async () => {
    expect(await detectArchiveFormat(tarball({ 'manifest.json': '[]', 'abc/layer.tar': '' }))).toBe(
      'docker-archive',
    );
  });

  it('recognises an oci-archive by its index.json', async () => {
    expect(await detectArchiveFormat(tarball(ociLayout))).toBe('oci-archive');
  });

  it('takes a directory for an OCI layout', async () => {
    expect(await detectArchiveFormat(mkdtempSync(join(tmpdir(), 'gantry-oci-dir-')))).toBe('oci-dir');
  });

  it('says what it expected in a tarball that is no image', async () => {
    await expect(detectArchiveFormat(tarball({ 'hello.txt': 'hi' }))).rejects.toThrow(
      /is not an image archive: expected manifest.json \(docker-archive\) or index.json \(oci-archive\)/,
    );
  });

  it('fails with an InfraError for a missing archive', async () => {
    await expect(detectArchiveFormat('/nonexistent/image.tar')).rejects.toBeInstanceOf(InfraError);
  });
});

describe('prepareArchive', () => {
  it('unpacks an oci-archive into an OCI layout directory trivy can read, and removes it afterwards', async () => {
    const prepared = await prepareArchive(tarball(ociLayout));
    expect(prepared.format).toBe('oci-dir');
    expect(existsSync(join(prepared.path, 'index.json'))).toBe(true);
    expect(existsSync(join(prepared.path, 'blobs', 'sha256', 'abc'))).toBe(true);
    await prepared.cleanup();
    expect(existsSync(prepared.path)).toBe(false);
  });

  it('hands a docker-archive over as it is', async () => {
    const tar = tarball({ 'manifest.json': '[]' });
    const prepared = await prepareArchive(tar);
    expect(prepared).toMatchObject({ path: tar, format: 'docker-archive' });
    await prepared.cleanup();
    expect(existsSync(tar)).toBe(true);
  });
});
