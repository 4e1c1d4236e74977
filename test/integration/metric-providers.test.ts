import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { execa } from 'execa';
import yaml from 'js-yaml';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import {
  deleteNamespace,
  fakeImage,
  imageOf,
  namespaceWithStableApp,
  readDeployment,
  rollingWithAnalysis,
} from '../helpers/kube.js';

// The analysis file's `provider:` against a real Prometheus (Debian's 2.42) that serves its API only over TLS,
// with a certificate from a private CA, and only to a user with a password (its own web config,
// --web.config.file): the way a team's Prometheus is often reached from CI. It scrapes the sandbox's traffic
// simulator, so the analysis reads real series through it.

const PASSWORD = 'prom-pass-31f9c2';
let dir: string;
let url: string;
let caFile: string;
let prometheus: ChildProcess | undefined;
let ns: string;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function openssl(...args: string[]): Promise<void> {
  await execa('openssl', args, { cwd: dir });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gantry-secure-prom-'));
  // A private CA, and a server certificate for 127.0.0.1 it signs.
  await openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=gantry test CA',
  );
  await openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
    '-subj',
    '/CN=127.0.0.1',
  );
  writeFileSync(join(dir, 'san.cnf'), 'subjectAltName=IP:127.0.0.1\n');
  await openssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.pem',
    '-days',
    '2',
    '-extfile',
    'san.cnf',
  );
  caFile = join(dir, 'ca.pem');
  writeFileSync(
    join(dir, 'web.yml'),
    yaml.dump({
      tls_server_config: { cert_file: join(dir, 'server.pem'), key_file: join(dir, 'server.key') },
      basic_auth_users: { gantry: bcrypt.hashSync(PASSWORD, 10) },
    }),
  );
  const simulator = process.env.SIMULATOR_URL;
  if (!simulator) throw new Error('SIMULATOR_URL is not set: the sandbox did not start');
  writeFileSync(
    join(dir, 'prometheus.yml'),
    yaml.dump({
      global: { scrape_interval: '1s', evaluation_interval: '1s', scrape_timeout: '1s' },
      scrape_configs: [{ job_name: 'simulator', static_configs: [{ targets: [new URL(simulator).host] }] }],
    }),
  );
  const port = await freePort();
  url = `https://127.0.0.1:${port}`;
  prometheus = spawn(
    process.env.GANTRY_TESTBED_PROMETHEUS ?? '/usr/bin/prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--web.config.file=${join(dir, 'web.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: 'ignore' },
  );
  // Ready once it answers over TLS with the password, and has scraped the simulator.
  const dispatcher = new Agent({
    connect: { ca: await import('node:fs').then((fs) => fs.readFileSync(caFile)) },
  });
  const authorization = `Basic ${Buffer.from(`gantry:${PASSWORD}`).toString('base64')}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const answer = await undiciFetch(
      `${url}/api/v1/query?query=${encodeURIComponent('sum(up{job="simulator"})')}`,
      {
        dispatcher,
        headers: { authorization },
      },
    )
      .then((r) => r.json() as Promise<{ data?: { result?: unknown[] } }>)
      .catch(() => undefined);
    if (answer?.data?.result?.length) break;
    if (Date.now() > deadline) throw new Error(`the secured Prometheus at ${url} never answered`);
    await new Promise((r) => setTimeout(r, 250));
  }
  await dispatcher.close();
  ns = await namespaceWithStableApp('mp', 'providers-v1');
});

afterAll(async () => {
  prometheus?.kill('SIGTERM');
  for (const child of victoria) child.kill('SIGTERM');
  if (ns) await deleteNamespace(ns);
});

const victoria: ChildProcess[] = [];

function analysisWith(provider: Record<string, unknown>): string {
  const file = join(mkdtempSync(join(tmpdir(), 'gantry-analysis-')), 'analysis.yaml');
  writeFileSync(
    file,
    yaml.dump({
      interval: '1s',
      provider,
      metrics: [{ name: 'targets', query: 'sum(up{job="simulator"})', min: 1 }],
    }),
  );
  return file;
}

const deploy = (image: string, analysis: string) => rollingWithAnalysis(ns, image, analysis);

describe('a Prometheus behind TLS with a private CA and basic auth', () => {
  it('judges a rollout through it: the CA from provider.caFile, the password from an environment variable', async () => {
    const image = fakeImage('providers-v2');
    const analysis = analysisWith({
      url,
      basicAuth: { username: 'gantry', passwordEnv: 'PROM_PASSWORD' },
      caFile,
    });
    const run = await runCli(deploy(image, analysis), { env: { PROM_PASSWORD: PASSWORD } });
    expect(run.exitCode, run.stderr).toBe(0);
    const checks = run.json!.checks as { metric: string; value: number; result: string }[];
    expect(checks.length).toBeGreaterThanOrEqual(1);
    expect(checks.every((c) => c.metric === 'targets' && c.result === 'pass' && c.value >= 1)).toBe(true);
    expect(imageOf(await readDeployment(ns, 'web'))).toBe(image);
    expect(`${run.stdout}${run.stderr}`).not.toContain(PASSWORD);
  });

  it('a wrong password: exit 3 saying to check the credentials, before anything changed', async () => {
    const before = await readDeployment(ns, 'web');
    const analysis = analysisWith({
      url,
      basicAuth: { username: 'gantry', passwordEnv: 'PROM_PASSWORD' },
      caFile,
    });
    const run = await runCli(deploy(fakeImage('providers-bad-pw'), analysis), {
      env: { PROM_PASSWORD: 'wrong-pw-0000' },
    });
    expect(run.exitCode).toBe(3);
    expect(run.stderr).toMatch(
      /prometheus at https:\/\/127\.0\.0\.1:\d+ refused the request \(401 Unauthorized\): check the credentials/,
    );
    expect(run.stderr).not.toContain('wrong-pw-0000');
    expect((await readDeployment(ns, 'web'))?.metadata?.generation).toBe(before?.metadata?.generation);
  });

  it('without the CA the certificate is refused: exit 3, nothing changed', async () => {
    const before = await readDeployment(ns, 'web');
    const analysis = analysisWith({ url, basicAuth: { username: 'gantry', passwordEnv: 'PROM_PASSWORD' } });
    const run = await runCli(deploy(fakeImage('providers-no-ca'), analysis), {
      env: { PROM_PASSWORD: PASSWORD },
    });
    expect(run.exitCode).toBe(3);
    expect(run.stderr).toMatch(
      /prometheus at https:\/\/127\.0\.0\.1:\d+ is unreachable \((SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)\)/,
    );
    expect((await readDeployment(ns, 'web'))?.metadata?.generation).toBe(before?.metadata?.generation);
  });

  it('an unset password variable is bad input: exit 2, one line naming the field', async () => {
    const analysis = analysisWith({
      url,
      basicAuth: { username: 'gantry', passwordEnv: 'GANTRY_NO_SUCH_PW' },
      caFile,
    });
    const run = await runCli(deploy(fakeImage('providers-unset'), analysis));
    expect(run.exitCode).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(
      /--analysis: provider\.basicAuth\.passwordEnv: GANTRY_NO_SUCH_PW is not set or empty/,
    );
  });
});

describe('VictoriaMetrics behind vmauth (Debian packages), with a bearer token', () => {
  const TOKEN = 'vm-token-5be8a1d0';
  let front: string;

  beforeAll(async () => {
    const simulator = process.env.SIMULATOR_URL!;
    const vmDir = mkdtempSync(join(tmpdir(), 'gantry-vm-'));
    writeFileSync(
      join(vmDir, 'scrape.yml'),
      yaml.dump({
        scrape_configs: [
          {
            job_name: 'simulator',
            scrape_interval: '1s',
            static_configs: [{ targets: [new URL(simulator).host] }],
          },
        ],
      }),
    );
    const [vmPort, authPort] = [await freePort(), await freePort()];
    victoria.push(
      spawn(
        'victoria-metrics',
        [
          `-httpListenAddr=127.0.0.1:${vmPort}`,
          `-storageDataPath=${join(vmDir, 'data')}`,
          `-promscrape.config=${join(vmDir, 'scrape.yml')}`,
          // VictoriaMetrics hides the newest 30 s of samples by default; a rollout judges the last seconds.
          '-search.latencyOffset=1s',
          '-loggerLevel=ERROR',
        ],
        { stdio: 'ignore' },
      ),
    );
    writeFileSync(
      join(vmDir, 'auth.yml'),
      yaml.dump({ users: [{ bearer_token: TOKEN, url_prefix: `http://127.0.0.1:${vmPort}` }] }),
    );
    victoria.push(
      spawn(
        'vmauth',
        [
          `-httpListenAddr=127.0.0.1:${authPort}`,
          `-auth.config=${join(vmDir, 'auth.yml')}`,
          '-loggerLevel=ERROR',
        ],
        {
          stdio: 'ignore',
        },
      ),
    );
    front = `http://127.0.0.1:${authPort}`;
    const deadline = Date.now() + 60_000;
    for (;;) {
      const answer = await fetch(
        `${front}/api/v1/query?query=${encodeURIComponent('sum(up{job="simulator"})')}`,
        {
          headers: { authorization: `Bearer ${TOKEN}` },
        },
      )
        .then((r) => r.json() as Promise<{ data?: { result?: unknown[] } }>)
        .catch(() => undefined);
      if (answer?.data?.result?.length) break;
      if (Date.now() > deadline)
        throw new Error(`VictoriaMetrics behind vmauth at ${front} never answered with data`);
      await new Promise((r) => setTimeout(r, 250));
    }
  });

  it('judges a rollout through it, the token read from a file', async () => {
    const tokenFile = join(mkdtempSync(join(tmpdir(), 'gantry-token-')), 'token');
    writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
    const image = fakeImage('providers-vm');
    const run = await runCli(deploy(image, analysisWith({ url: front, bearerTokenFile: tokenFile })));
    expect(run.exitCode, run.stderr).toBe(0);
    const checks = run.json!.checks as { metric: string; value: number; result: string }[];
    expect(checks.length).toBeGreaterThanOrEqual(1);
    expect(checks.every((c) => c.result === 'pass' && c.value >= 1)).toBe(true);
    expect(imageOf(await readDeployment(ns, 'web'))).toBe(image);
    expect(`${run.stdout}${run.stderr}`).not.toContain(TOKEN);
  });

  it('without the token vmauth refuses: exit 3, nothing changed', async () => {
    const before = await readDeployment(ns, 'web');
    const run = await runCli(deploy(fakeImage('providers-vm-no-token'), analysisWith({ url: front })));
    expect(run.exitCode).toBe(3);
    expect(run.stderr).toMatch(
      /prometheus at http:\/\/127\.0\.0\.1:\d+ refused the request \(401 Unauthorized\): check the credentials; nothing was changed/,
    );
    expect((await readDeployment(ns, 'web'))?.metadata?.generation).toBe(before?.metadata?.generation);
  });
});

describe('InfluxDB 1.x (Debian package), with a user and password', () => {
  const USER_PASSWORD = 'influx-pw-7d21';
  let influx: string;
  let influxNs: string;
  const admin = () => `Basic ${Buffer.from(`gantry:${USER_PASSWORD}`).toString('base64')}`;

  async function influxQuery(q: string, method = 'POST'): Promise<void> {
    const response = await fetch(`${influx}/query?q=${encodeURIComponent(q)}`, {
      method,
      headers: { authorization: admin() },
    });
    if (response.status !== 200) throw new Error(`influx ${q}: ${response.status} ${await response.text()}`);
  }

  /** One point of the error ratio the analysis reads, for the app in `namespace`. */
  async function writeErrorRatio(namespace: string, value: number): Promise<void> {
    const response = await fetch(`${influx}/write?db=gantry`, {
      method: 'POST',
      headers: { authorization: admin() },
      body: `requests,namespace=${namespace},app=web error_ratio=${value}`,
    });
    if (response.status !== 204) throw new Error(`influx write: ${response.status} ${await response.text()}`);
  }

  beforeAll(async () => {
    const influxDir = mkdtempSync(join(tmpdir(), 'gantry-influx-'));
    const [rpcPort, httpPort] = [await freePort(), await freePort()];
    const config = join(influxDir, 'influxdb.conf');
    writeFileSync(
      config,
      [
        'reporting-disabled = true',
        `bind-address = "127.0.0.1:${rpcPort}"`,
        '[meta]',
        `  dir = "${join(influxDir, 'meta')}"`,
        '[data]',
        `  dir = "${join(influxDir, 'data')}"`,
        `  wal-dir = "${join(influxDir, 'wal')}"`,
        '  query-log-enabled = false',
        '[monitor]',
        '  store-enabled = false',
        '[http]',
        '  enabled = true',
        `  bind-address = "127.0.0.1:${httpPort}"`,
        '  auth-enabled = true',
        '  log-enabled = false',
        '',
      ].join('\n'),
    );
    victoria.push(spawn('influxd', ['-config', config], { stdio: 'ignore' }));
    influx = `http://127.0.0.1:${httpPort}`;
    const deadline = Date.now() + 60_000;
    while (
      (await fetch(`${influx}/ping`)
        .then((r) => r.status)
        .catch(() => 0)) !== 204
    ) {
      if (Date.now() > deadline) throw new Error(`influxd at ${influx} never answered /ping`);
      await new Promise((r) => setTimeout(r, 200));
    }
    // The first user may be created without credentials; everything after needs them.
    const created = await fetch(
      `${influx}/query?q=${encodeURIComponent(`CREATE USER gantry WITH PASSWORD '${USER_PASSWORD}' WITH ALL PRIVILEGES`)}`,
      { method: 'POST' },
    );
    if (created.status !== 200)
      throw new Error(`influx create user: ${created.status} ${await created.text()}`);
    await influxQuery('CREATE DATABASE gantry');
    influxNs = await namespaceWithStableApp('mi', 'providers-influx-v1');
  });

  afterAll(async () => {
    if (influxNs) await deleteNamespace(influxNs);
  });

  function influxAnalysis(query: string, provider: Record<string, unknown> = {}): string {
    const file = join(mkdtempSync(join(tmpdir(), 'gantry-analysis-')), 'analysis.yaml');
    writeFileSync(
      file,
      yaml.dump({
        interval: '1s',
        provider: {
          type: 'influxdb',
          url: influx,
          database: 'gantry',
          basicAuth: { username: 'gantry', passwordEnv: 'INFLUX_PASSWORD' },
          ...provider,
        },
        metrics: [{ name: 'error-ratio', query, max: 0.05 }],
      }),
    );
    return file;
  }

  const RATIO = `SELECT last("error_ratio") FROM "requests" WHERE "namespace" = '{{namespace}}' AND "app" = '{{name}}' AND time > now() - 1h`;
  const rollingInto = (image: string, analysis: string) => rollingWithAnalysis(influxNs, image, analysis);

  it('judges rollouts on what InfluxDB holds: a healthy ratio promotes, a bad one rolls back', async () => {
    const env = { INFLUX_PASSWORD: USER_PASSWORD };
    await writeErrorRatio(influxNs, 0.01);
    const good = fakeImage('providers-influx-good');
    const promoted = await runCli(rollingInto(good, influxAnalysis(RATIO)), { env });
    expect(promoted.exitCode, promoted.stderr).toBe(0);
    const checks = promoted.json!.checks as { value: number; result: string }[];
    expect(checks.length).toBeGreaterThanOrEqual(1);
    expect(checks.every((c) => c.value === 0.01 && c.result === 'pass')).toBe(true);
    expect(imageOf(await readDeployment(influxNs, 'web'))).toBe(good);

    await writeErrorRatio(influxNs, 0.4);
    const rolledBack = await runCli(rollingInto(fakeImage('providers-influx-bad'), influxAnalysis(RATIO)), {
      env,
    });
    expect(rolledBack.exitCode, rolledBack.stderr).toBe(1);
    expect(rolledBack.json!.verdict).toBe('rolled-back');
    expect(String(rolledBack.json!.reason)).toMatch(/error-ratio/);
    expect(imageOf(await readDeployment(influxNs, 'web'))).toBe(good);
    expect(`${promoted.stdout}${promoted.stderr}${rolledBack.stdout}${rolledBack.stderr}`).not.toContain(
      USER_PASSWORD,
    );
  });

  it('a query that does not parse is bad input naming the metric (exit 2); a wrong password is exit 3', async () => {
    const env = { INFLUX_PASSWORD: USER_PASSWORD };
    const broken = await runCli(
      rollingInto(fakeImage('providers-influx-x'), influxAnalysis('SELECT last( FROM requests')),
      { env },
    );
    expect(broken.exitCode).toBe(2);
    expect(broken.stderr).toMatch(
      /--analysis: metric "error-ratio": query does not parse: error parsing query/,
    );
    const denied = await runCli(rollingInto(fakeImage('providers-influx-y'), influxAnalysis(RATIO)), {
      env: { INFLUX_PASSWORD: 'not-the-password' },
    });
    expect(denied.exitCode).toBe(3);
    expect(denied.stderr).toMatch(
      /influxdb at http:\/\/127\.0\.0\.1:\d+ refused the request \(401 Unauthorized\): check the credentials/,
    );
  });
});
