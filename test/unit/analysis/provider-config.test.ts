import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveProvider } from '../../../src/deploy/analysis/provider-config.js';
import { parseAnalysis } from '../../../src/deploy/analysis/spec.js';
import { InputError } from '../../../src/util/errors.js';
import { redact } from '../../../src/util/secrets.js';

const metrics = [{ name: 'errors', query: 'vector(0)', max: 1 }];
const withProvider = (provider: unknown) => parseAnalysis({ metrics, provider });

function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

describe('the analysis file: provider', () => {
  it('reads a Prometheus-compatible server with basic auth, headers, a CA and a timeout', () => {
    const spec = withProvider({
      url: 'https://mimir.example/prometheus',
      basicAuth: { username: 'gantry', passwordEnv: 'MIMIR_PASSWORD' },
      headers: { 'X-Scope-OrgID': 'shop' },
      headersFromEnv: { 'X-Api-Key': 'MIMIR_KEY' },
      caFile: '/etc/ssl/private-ca.pem',
      timeout: '5s',
    });
    expect(spec.provider).toEqual({
      type: 'prometheus',
      url: 'https://mimir.example/prometheus',
      basicAuth: { username: 'gantry', passwordEnv: 'MIMIR_PASSWORD' },
      headers: { 'X-Scope-OrgID': 'shop' },
      headersFromEnv: { 'X-Api-Key': 'MIMIR_KEY' },
      caFile: '/etc/ssl/private-ca.pem',
      timeoutMs: 5000,
    });
  });

  it('reads an InfluxDB 1.x server with its database', () => {
    expect(
      withProvider({ type: 'influxdb', url: 'http://influx:8086', database: 'metrics' }).provider,
    ).toEqual({
      type: 'influxdb',
      url: 'http://influx:8086',
      database: 'metrics',
    });
  });

  it('reads Datadog and New Relic with their keys as secret headers, at their public API by default', () => {
    const dd = withProvider({
      type: 'datadog',
      window: '2m',
      headersFromEnv: { 'DD-API-KEY': 'DD_API_KEY' },
    });
    expect(dd.provider).toEqual({
      type: 'datadog',
      windowMs: 120_000,
      headersFromEnv: { 'DD-API-KEY': 'DD_API_KEY' },
    });
    const resolved = resolveProvider(dd.provider, 'http://prometheus:9090', { DD_API_KEY: 'dd-key-abcdef' });
    expect(resolved).toEqual({
      type: 'datadog',
      options: { windowMs: 120_000, headers: { 'DD-API-KEY': 'dd-key-abcdef' } },
    });
    const nr = withProvider({ type: 'newrelic', accountId: 42, headersFromEnv: { 'API-Key': 'NR_KEY' } });
    expect(resolveProvider(nr.provider, undefined, { NR_KEY: 'NRAK-xyz123' }).options).toEqual({
      accountId: 42,
      headers: { 'API-Key': 'NRAK-xyz123' },
    });
  });

  it('reads Graphite with its window and a JSON endpoint (web), each with basic auth, a token or a CA', () => {
    const graphite = withProvider({
      type: 'graphite',
      url: 'https://graphite.example:8443',
      window: '2m',
      basicAuth: { username: 'gantry', passwordEnv: 'GRAPHITE_PASSWORD' },
      headers: { 'X-Org': 'shop' },
    });
    expect(graphite.provider).toEqual({
      type: 'graphite',
      url: 'https://graphite.example:8443',
      windowMs: 120_000,
      basicAuth: { username: 'gantry', passwordEnv: 'GRAPHITE_PASSWORD' },
      headers: { 'X-Org': 'shop' },
    });
    expect(
      resolveProvider(graphite.provider, 'http://prometheus:9090', { GRAPHITE_PASSWORD: 'gpw-1234' }),
    ).toEqual({
      type: 'graphite',
      options: {
        url: 'https://graphite.example:8443',
        windowMs: 120_000,
        username: 'gantry',
        password: 'gpw-1234',
        headers: { 'X-Org': 'shop' },
      },
    });
    const web = withProvider({
      type: 'web',
      url: 'http://stats.internal/api',
      bearerTokenEnv: 'STATS_TOKEN',
      caFile: '/etc/ssl/ca.pem',
      timeout: '3s',
    });
    expect(web.provider).toEqual({
      type: 'web',
      url: 'http://stats.internal/api',
      bearerTokenEnv: 'STATS_TOKEN',
      caFile: '/etc/ssl/ca.pem',
      timeoutMs: 3000,
    });
  });

  it('has none when the file says none', () => {
    expect(parseAnalysis({ metrics }).provider).toBeUndefined();
  });

  const bad: [string, unknown, RegExp][] = [
    ['an unknown type', { type: 'opentsdb' }, /^--analysis: provider\.type: /],
    ['an unknown field', { url: 'http://p:9090', token: 'x' }, /provider: unknown field "token"/],
    [
      'two ways to authenticate',
      { bearerTokenEnv: 'T', basicAuth: { username: 'u', passwordEnv: 'P' } },
      /use one of basicAuth, bearerTokenEnv or bearerTokenFile/,
    ],
    [
      'a password written in the file',
      { basicAuth: { username: 'u', password: 'hunter2' } },
      /provider\.basicAuth: unknown field "password"/,
    ],
    [
      'basic auth without a password source',
      { basicAuth: { username: 'u' } },
      /provider\.basicAuth: needs exactly one of passwordEnv or passwordFile/,
    ],
    [
      'Authorization as a header',
      { headers: { Authorization: 'Bearer x' } },
      /set Authorization with basicAuth or bearerTokenEnv\/File/,
    ],
    ['a header name with a space', { headers: { 'X Tenant': 'a' } }, /expected an HTTP header name/],
    ['a non-http URL', { url: 'ftp://p/' }, /provider\.url: expected an http\(s\) URL/],
    [
      'influxdb without a database',
      { type: 'influxdb', url: 'http://i:8086' },
      /provider\.database: required with type influxdb/,
    ],
    [
      'influxdb without an address',
      { type: 'influxdb', database: 'd' },
      /provider\.url: required with type influxdb/,
    ],
    [
      'graphite without an address',
      { type: 'graphite' },
      /^--analysis: provider\.url: required with type graphite$/,
    ],
    ['web without an address', { type: 'web' }, /^--analysis: provider\.url: required with type web$/],
    [
      'a window for web',
      { type: 'web', url: 'http://s', window: '1m' },
      /^--analysis: provider\.window: only with type datadog, graphite or cloudwatch$/,
    ],
    [
      'a database for prometheus',
      { url: 'http://p:9090', database: 'd' },
      /provider\.database: only with type influxdb/,
    ],
  ];
  it.each(bad)('refuses %s, naming the field', (_, provider, message) => {
    const error = errorOf(() => withProvider(provider));
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toMatch(message);
  });
});

describe('resolving the provider when the rollout starts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gantry-provider-'));

  it('takes the address from provider.url, else --prometheus-url, else $PROMETHEUS_URL', () => {
    const env = { PROMETHEUS_URL: 'http://env:9090' };
    expect(
      resolveProvider({ type: 'prometheus', url: 'http://file:9090' }, 'http://flag:9090', env).options.url,
    ).toBe('http://file:9090');
    expect(resolveProvider({ type: 'prometheus' }, 'http://flag:9090', env).options.url).toBe(
      'http://flag:9090',
    );
    expect(resolveProvider(undefined, undefined, env).options.url).toBe('http://env:9090');
    expect(errorOf(() => resolveProvider(undefined, undefined, {})).message).toMatch(
      /^--prometheus-url: required/,
    );
  });

  it('reads the credentials and secret headers from the environment and files, and masks them', () => {
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, 'file-token-9a8b7c\n', { mode: 0o600 });
    const caFile = join(dir, 'ca.pem');
    writeFileSync(caFile, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    const bearer = resolveProvider(
      {
        type: 'prometheus',
        url: 'https://p',
        bearerTokenFile: tokenFile,
        caFile,
        headersFromEnv: { 'X-Api-Key': 'K' },
      },
      undefined,
      { K: 'header-secret-1234' },
    ).options;
    expect(bearer.bearerToken).toBe('file-token-9a8b7c');
    expect(bearer.headers).toEqual({ 'X-Api-Key': 'header-secret-1234' });
    expect(bearer.ca).toContain('BEGIN CERTIFICATE');
    expect(redact('file-token-9a8b7c header-secret-1234')).toBe('*** ***');
    const basic = resolveProvider(
      { type: 'prometheus', url: 'https://p', basicAuth: { username: 'gantry', passwordEnv: 'PW' } },
      undefined,
      { PW: 'pw-from-env-5678' },
    ).options;
    expect([basic.username, basic.password]).toEqual(['gantry', 'pw-from-env-5678']);
  });

  const missing: [string, Parameters<typeof resolveProvider>[0], RegExp][] = [
    [
      'an unset password variable',
      { type: 'prometheus', url: 'http://p', basicAuth: { username: 'u', passwordEnv: 'NOPE' } },
      /^--analysis: provider\.basicAuth\.passwordEnv: NOPE is not set or empty$/,
    ],
    [
      'a token file that is not there',
      { type: 'prometheus', url: 'http://p', bearerTokenFile: '/nonexistent/token' },
      /^--analysis: provider\.bearerTokenFile: cannot read "\/nonexistent\/token": no such file$/,
    ],
    [
      'an unset header variable',
      { type: 'prometheus', url: 'http://p', headersFromEnv: { 'X-Key': 'NOPE' } },
      /^--analysis: provider\.headersFromEnv\.X-Key: NOPE is not set or empty$/,
    ],
    [
      'a CA file that is not there',
      { type: 'prometheus', url: 'http://p', caFile: '/nonexistent/ca.pem' },
      /^--analysis: provider\.caFile: cannot read/,
    ],
  ];
  it.each(missing)('refuses %s, naming the field (exit 2, before anything changes)', (_, spec, message) => {
    const error = errorOf(() => resolveProvider(spec, undefined, {}));
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toMatch(message);
  });
});
