import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareAuthFile, registryCredentials } from '../../../src/registry/auth.js';
import { redact } from '../../../src/util/secrets.js';

// Docker credential helpers, as ECR/GCR/ACR logins install them: `docker-credential-<name> get` reads the
// server on stdin and prints {ServerURL, Username, Secret}; `list` prints {server: username}.
const bin = mkdtempSync(join(tmpdir(), 'gantry-unit-helpers-'));
function helper(name: string, body: string): void {
  const file = join(bin, `docker-credential-${name}`);
  writeFileSync(file, `#!/bin/sh\nread server\n${body}\n`);
  chmodSync(file, 0o700);
}
helper(
  'ecr',
  `case "$1" in
  get) [ "$server" = "123.dkr.ecr.example.com" ] && echo '{"ServerURL":"'$server'","Username":"AWS","Secret":"ecr-secret-1"}' && exit 0
       echo "credentials not found in native keychain"; exit 1 ;;
esac`,
);
helper(
  'store',
  `case "$1" in
  list) echo '{"https://index.docker.io/v1/":"hub-user","ghcr.io":"gh-user"}' ;;
  get) [ "$server" = "ghcr.io" ] && echo '{"Username":"gh-user","Secret":"gh-secret-2"}' && exit 0
       [ "$server" = "https://index.docker.io/v1/" ] && echo '{"Username":"hub-user","Secret":"hub-secret-3"}' && exit 0
       exit 1 ;;
esac`,
);
helper('token', `echo '{"Username":"<token>","Secret":"identity-token-4"}'`);
helper('broken', 'echo not json');

function dockerConfig(config: object): NodeJS.ProcessEnv {
  const dir = mkdtempSync(join(tmpdir(), 'gantry-unit-dockercfg-'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  return { DOCKER_CONFIG: dir };
}

describe('registry credentials from docker credential helpers', () => {
  const path = process.env.PATH;
  beforeAll(() => {
    process.env.PATH = `${bin}:${path}`;
  });
  afterAll(() => {
    process.env.PATH = path;
  });

  it('credHelpers: asks the helper named for that registry', async () => {
    const env = dockerConfig({ credHelpers: { '123.dkr.ecr.example.com': 'ecr' } });
    expect(await registryCredentials('123.dkr.ecr.example.com', env)).toEqual({
      username: 'AWS',
      password: 'ecr-secret-1',
    });
    expect(redact('ecr-secret-1')).not.toContain('ecr-secret-1');
  });

  it('credsStore: every registry the store lists, keyed like auths (https://…/v1/ → host)', async () => {
    const env = dockerConfig({ credsStore: 'store', credHelpers: { '123.dkr.ecr.example.com': 'ecr' } });
    expect(await registryCredentials('ghcr.io', env)).toEqual({
      username: 'gh-user',
      password: 'gh-secret-2',
    });
    expect(await registryCredentials('index.docker.io', env)).toEqual({
      username: 'hub-user',
      password: 'hub-secret-3',
    });
    const auth = await prepareAuthFile(env);
    try {
      expect(auth.registries.sort()).toEqual(['123.dkr.ecr.example.com', 'ghcr.io', 'index.docker.io']);
    } finally {
      await auth.dispose();
    }
  });

  it('an auths entry with a value wins over nothing, and a helper adds to it', async () => {
    const env = dockerConfig({
      auths: { 'registry.example.com': { auth: Buffer.from('u:p-5').toString('base64') } },
      credHelpers: { '123.dkr.ecr.example.com': 'ecr' },
    });
    expect(await registryCredentials('registry.example.com', env)).toEqual({
      username: 'u',
      password: 'p-5',
    });
    expect(await registryCredentials('123.dkr.ecr.example.com', env)).toMatchObject({ username: 'AWS' });
  });

  it.each([
    ['an identity token', 'token'],
    ['a helper that is not installed', 'absent'],
    ['a helper that does not answer JSON', 'broken'],
  ])('%s gives no credentials, and does not fail the run', async (_name, name) => {
    const env = dockerConfig({ credHelpers: { 'r.example.com': name } });
    expect(await registryCredentials('r.example.com', env)).toBeUndefined();
  });

  it('a server the helper does not know gives no credentials', async () => {
    const env = dockerConfig({ credHelpers: { 'other.example.com': 'ecr' } });
    expect(await registryCredentials('other.example.com', env)).toBeUndefined();
  });
});
