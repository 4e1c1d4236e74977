import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identityToken } from '../../../src/supply/keyless.js';
import { InfraError, InputError } from '../../../src/util/errors.js';
import { redact } from '../../../src/util/secrets.js';

// Where --keyless finds the job's OIDC token. GitHub's token service is a loopback server here that answers as
// the documented one does (`GET $ACTIONS_ID_TOKEN_REQUEST_URL&audience=…` with the request token as bearer →
// `{"value": "<jwt>"}`).

let url = '';
const seen: { audience: string | null; authorization: string | undefined }[] = [];
const server = createServer((request, response) => {
  const query = new URL(request.url ?? '/', 'http://x').searchParams;
  seen.push({ audience: query.get('audience'), authorization: request.headers.authorization });
  if (request.headers.authorization !== 'Bearer request-token') {
    response.writeHead(401).end();
    return;
  }
  response
    .writeHead(200, { 'content-type': 'application/json' })
    .end(JSON.stringify({ value: 'gh.jwt.token' }));
});

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token?api-version=2.0`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('identityToken', () => {
  it('reads the variable --identity-token-env names, and masks it', async () => {
    expect(await identityToken({ identityTokenEnv: 'MY_TOKEN' }, { MY_TOKEN: 'named.jwt.value' })).toBe(
      'named.jwt.value',
    );
    expect(redact('token named.jwt.value here')).not.toContain('named.jwt.value');
    await expect(identityToken({ identityTokenEnv: 'MY_TOKEN' }, {})).rejects.toThrow(
      new InputError('--identity-token-env', '$MY_TOKEN is not set'),
    );
  });

  it('takes SIGSTORE_ID_TOKEN (GitLab id_tokens, cosign) before asking GitHub', async () => {
    const env = {
      SIGSTORE_ID_TOKEN: 'gl.jwt.token',
      ACTIONS_ID_TOKEN_REQUEST_URL: url,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'request-token',
    };
    const before = seen.length;
    expect(await identityToken({}, env)).toBe('gl.jwt.token');
    expect(seen.length).toBe(before);
  });

  it("asks GitHub's token service for audience sigstore with the request token", async () => {
    const env = { ACTIONS_ID_TOKEN_REQUEST_URL: url, ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'request-token' };
    expect(await identityToken({}, env)).toBe('gh.jwt.token');
    expect(seen.at(-1)).toEqual({ audience: 'sigstore', authorization: 'Bearer request-token' });
    expect(redact('gh.jwt.token request-token')).toBe('*** ***');
    const refused = identityToken({}, { ...env, ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'wrong' });
    await expect(refused).rejects.toBeInstanceOf(InfraError);
    await expect(identityToken({}, { ...env, ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'wrong' })).rejects.toThrow(
      /answered HTTP 401/,
    );
  });

  it('without any token: one line naming --keyless and how to get one', async () => {
    await expect(identityToken({}, {})).rejects.toThrow(
      /^--keyless: no OIDC identity token: on GitHub grant `permissions: id-token: write`/,
    );
  });
});
