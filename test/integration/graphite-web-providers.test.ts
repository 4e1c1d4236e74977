import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import yaml from 'js-yaml';
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

// The analysis file's `provider:` of type graphite against Debian's graphite-carbon and graphite-web (carbon-cache
// and graphite-web's Django app, both on loopback ports of their own, configured in a temporary directory, fed
// with carbon's plaintext protocol), and of type web against a JSON endpoint this file serves on loopback.

const children: ChildProcess[] = [];
const namespaces: string[] = [];

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

afterAll(async () => {
  for (const child of children) child.kill('SIGTERM');
  for (const ns of namespaces) await deleteNamespace(ns);
});

function analysisFile(provider: Record<string, unknown>, query: string, max = 0.05): string {
  const file = join(mkdtempSync(join(tmpdir(), 'gantry-analysis-')), 'analysis.yaml');
  writeFileSync(
    file,
    yaml.dump({ interval: '1s', provider, metrics: [{ name: 'error-ratio', query, max }] }),
  );
  return file;
}

const deploy = (ns: string, image: string, analysis: string) => rollingWithAnalysis(ns, image, analysis);

describe('Graphite (Debian graphite-carbon and graphite-web), render API', () => {
  let graphite: string;
  let linePort: number;
  let ns: string;

  /** Sends `metric value timestamp` lines to carbon's line receiver. */
  async function send(lines: string[]): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const socket = createConnection({ host: '127.0.0.1', port: linePort }, () => {
        socket.end(`${lines.join('\n')}\n`, () => resolve());
      });
      socket.on('error', reject);
    });
  }

  /** Writes one point of errors and requests for the app in `namespace`, and waits until graphite-web serves it. */
  async function writeRatio(namespace: string, errors: number, at: number): Promise<void> {
    await send([`web.${namespace}.errors ${errors} ${at}`, `web.${namespace}.requests 100 ${at}`]);
    const target = `divideSeries(web.${namespace}.errors,web.${namespace}.requests)`;
    const deadline = Date.now() + 60_000;
    for (;;) {
      const series = await fetch(
        `${graphite}/render?format=json&from=-10min&noCache=true&target=${encodeURIComponent(target)}`,
      )
        .then((r) => r.json() as Promise<{ datapoints: [number | null, number][] }[]>)
        .catch(() => []);
      const point = series[0]?.datapoints.find(([, ts]) => ts === at);
      if (point && point[0] === errors / 100) return;
      if (Date.now() > deadline) throw new Error(`graphite-web never served ${target} at ${at}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gantry-graphite-'));
    for (const sub of ['conf', 'storage/whisper', 'storage/lists', 'log', 'pid'])
      mkdirSync(join(dir, sub), { recursive: true });
    const [line, pickle, cacheQuery, web] = [
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    linePort = line;
    writeFileSync(
      join(dir, 'conf', 'carbon.conf'),
      [
        '[cache]',
        `STORAGE_DIR = ${dir}/storage/`,
        `LOCAL_DATA_DIR = ${dir}/storage/whisper/`,
        `WHITELISTS_DIR = ${dir}/storage/lists/`,
        `CONF_DIR = ${dir}/conf/`,
        `LOG_DIR = ${dir}/log/`,
        `PID_DIR = ${dir}/pid/`,
        'DATABASE = whisper',
        'MAX_CACHE_SIZE = inf',
        'MAX_UPDATES_PER_SECOND = 1000',
        'MAX_CREATES_PER_MINUTE = inf',
        'LINE_RECEIVER_INTERFACE = 127.0.0.1',
        `LINE_RECEIVER_PORT = ${line}`,
        'ENABLE_UDP_LISTENER = False',
        'PICKLE_RECEIVER_INTERFACE = 127.0.0.1',
        `PICKLE_RECEIVER_PORT = ${pickle}`,
        'CACHE_QUERY_INTERFACE = 127.0.0.1',
        `CACHE_QUERY_PORT = ${cacheQuery}`,
        '',
      ].join('\n'),
    );
    // One point per second, kept an hour: a rollout reads the last seconds.
    writeFileSync(join(dir, 'conf', 'storage-schemas.conf'), '[all]\npattern = .*\nretentions = 1s:1h\n');
    // graphite-web's settings module (GRAPHITE_SETTINGS_MODULE), pointing everything at this directory; the
    // carbon-cache is asked for points not yet written to whisper files.
    writeFileSync(
      join(dir, 'gantry_graphite_settings.py'),
      [
        "SECRET_KEY = 'gantry-test-only'",
        `STORAGE_DIR = '${dir}/storage/'`,
        `WHISPER_DIR = '${dir}/storage/whisper/'`,
        `LOG_DIR = '${dir}/log/'`,
        `INDEX_FILE = '${dir}/storage/index'`,
        `CARBONLINK_HOSTS = ['127.0.0.1:${cacheQuery}']`,
        `DATABASES = {'default': {'NAME': '${dir}/storage/graphite.db', 'ENGINE': 'django.db.backends.sqlite3'}}`,
        '',
      ].join('\n'),
    );
    const env = {
      ...process.env,
      PYTHONPATH: dir,
      GRAPHITE_SETTINGS_MODULE: 'gantry_graphite_settings',
      DJANGO_SETTINGS_MODULE: 'graphite.settings',
    };
    // Debian's Python (the packages' modules live in its dist-packages), not whatever python3 is first on PATH.
    await execa('/usr/bin/python3', ['/usr/bin/django-admin', 'migrate', '--run-syncdb', '-v0'], { env });
    children.push(
      spawn(
        '/usr/bin/python3',
        [
          '/usr/bin/carbon-cache',
          `--config=${dir}/conf/carbon.conf`,
          `--pidfile=${dir}/pid/carbon.pid`,
          `--logdir=${dir}/log`,
          '--nodaemon',
          'start',
        ],
        { stdio: 'ignore' },
      ),
      spawn('/usr/bin/python3', ['/usr/bin/django-admin', 'runserver', `127.0.0.1:${web}`, '--noreload'], {
        env,
        stdio: 'ignore',
      }),
    );
    graphite = `http://127.0.0.1:${web}`;
    const deadline = Date.now() + 60_000;
    while (
      (await fetch(`${graphite}/render?target=constantLine(1)&format=json`)
        .then((r) => r.status)
        .catch(() => 0)) !== 200
    ) {
      if (Date.now() > deadline) throw new Error(`graphite-web at ${graphite} never answered`);
      await new Promise((r) => setTimeout(r, 250));
    }
    // carbon's line receiver too.
    while (
      !(await new Promise<boolean>((resolve) => {
        const socket = createConnection({ host: '127.0.0.1', port: line }, () => {
          socket.end();
          resolve(true);
        });
        socket.on('error', () => resolve(false));
      }))
    ) {
      if (Date.now() > deadline) throw new Error(`carbon-cache never listened on 127.0.0.1:${line}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    ns = await namespaceWithStableApp('gr', 'graphite-v1');
    namespaces.push(ns);
  });

  const RATIO = 'divideSeries(sumSeries(web.{{namespace}}.errors), sumSeries(web.{{namespace}}.requests))';

  it('judges rollouts on what carbon received: a healthy ratio promotes, a bad one rolls back', async () => {
    const now = Math.floor(Date.now() / 1000);
    await writeRatio(ns, 1, now - 1);
    const good = fakeImage('graphite-good');
    const promoted = await runCli(
      deploy(ns, good, analysisFile({ type: 'graphite', url: graphite, window: '10m' }, RATIO)),
    );
    expect(promoted.exitCode, promoted.stderr).toBe(0);
    const checks = promoted.json!.checks as { value: number; result: string }[];
    expect(checks.length).toBeGreaterThanOrEqual(1);
    expect(checks.every((c) => c.value === 0.01 && c.result === 'pass')).toBe(true);
    expect(imageOf(await readDeployment(ns, 'web'))).toBe(good);

    // A newer point: 40 errors in 100 requests.
    await writeRatio(ns, 40, Math.max(now, Math.floor(Date.now() / 1000)));
    const rolledBack = await runCli(
      deploy(
        ns,
        fakeImage('graphite-bad'),
        analysisFile({ type: 'graphite', url: graphite, window: '10m' }, RATIO),
      ),
    );
    expect(rolledBack.exitCode, rolledBack.stderr).toBe(1);
    expect(rolledBack.json!.verdict).toBe('rolled-back');
    expect(String(rolledBack.json!.reason)).toMatch(/error-ratio/);
    const bad = rolledBack.json!.checks as { value: number | null; result: string }[];
    expect(bad.some((c) => c.value === 0.4 && c.result === 'fail')).toBe(true);
    expect(imageOf(await readDeployment(ns, 'web'))).toBe(good);
  });

  it('a target graphite-web refuses or cannot evaluate is bad input naming the metric: exit 2, nothing changed', async () => {
    const before = await readDeployment(ns, 'web');
    const unknown = await runCli(
      deploy(
        ns,
        fakeImage('graphite-x'),
        analysisFile({ type: 'graphite', url: graphite }, 'noSuchFunction(web.{{namespace}}.errors)'),
      ),
    );
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr.trim().split('\n')).toHaveLength(1);
    expect(unknown.stderr).toMatch(
      /--analysis: metric "error-ratio": graphite refuses the target: Received request for unknown function: noSuchFunction/,
    );
    const missing = await runCli(
      deploy(
        ns,
        fakeImage('graphite-y'),
        analysisFile({ type: 'graphite', url: graphite }, 'divideSeries(web.{{namespace}}.errors)'),
      ),
    );
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toMatch(
      /--analysis: metric "error-ratio": graphite cannot evaluate the target: TypeError: divideSeries\(\) missing 1 required positional argument: 'divisorSeries'/,
    );
    expect((await readDeployment(ns, 'web'))?.metadata?.generation).toBe(before?.metadata?.generation);
  });

  it('a Graphite that does not answer is exit 3, nothing changed', async () => {
    const before = await readDeployment(ns, 'web');
    const closed = `http://127.0.0.1:${await freePort()}`;
    const run = await runCli(
      deploy(ns, fakeImage('graphite-z'), analysisFile({ type: 'graphite', url: closed }, RATIO)),
    );
    expect(run.exitCode).toBe(3);
    expect(run.stderr).toMatch(
      /graphite at http:\/\/127\.0\.0\.1:\d+ is unreachable \(ECONNREFUSED\); nothing was changed/,
    );
    expect((await readDeployment(ns, 'web'))?.metadata?.generation).toBe(before?.metadata?.generation);
  });
});

describe('web: a JSON endpoint and a JSONPath, with a bearer token', () => {
  const TOKEN = 'web-token-c41d9e';
  let server: Server;
  let endpoint: string;
  let ns: string;
  const ratios = new Map<string, number>();
  const asked: string[] = [];

  beforeAll(async () => {
    // A status service: /apps/<namespace>/<name>/health answers the app's error ratio, to a caller with the token.
    server = createHttpServer((request, response) => {
      const url = new URL(request.url ?? '/', 'http://localhost');
      asked.push(url.pathname + url.search);
      const match = /^\/status\/apps\/([^/]+)\/([^/]+)\/health$/.exec(url.pathname);
      if (request.headers.authorization !== `Bearer ${TOKEN}`) {
        response.writeHead(401, { 'content-type': 'application/json' });
        response.end('{"error":"unauthorized"}');
      } else if (!match || !ratios.has(match[1]!)) {
        response.writeHead(404, { 'content-type': 'application/json' });
        response.end('{"error":"no such app"}');
      } else {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(
          JSON.stringify({
            app: match[2],
            window: url.searchParams.get('window'),
            checks: [
              { name: 'latency', value: 0.02 },
              { name: 'errors', value: String(ratios.get(match[1]!)) },
            ],
          }),
        );
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}/status`;
    ns = await namespaceWithStableApp('wb', 'web-provider-v1');
    namespaces.push(ns);
    ratios.set(ns, 0.01);
  });

  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
  });

  const QUERY = '/apps/{{namespace}}/{{name}}/health?window=1m $.checks[?(@.name == "errors")].value';
  const provider = () => ({ type: 'web', url: endpoint, bearerTokenEnv: 'STATUS_TOKEN' });

  it('judges rollouts on what the endpoint answers: a healthy ratio promotes, a bad one rolls back', async () => {
    const env = { STATUS_TOKEN: TOKEN };
    asked.length = 0;
    const good = fakeImage('web-good');
    const promoted = await runCli(deploy(ns, good, analysisFile(provider(), QUERY)), { env });
    expect(promoted.exitCode, promoted.stderr).toBe(0);
    const checks = promoted.json!.checks as { value: number; result: string }[];
    expect(checks.length).toBeGreaterThanOrEqual(1);
    expect(checks.every((c) => c.value === 0.01 && c.result === 'pass')).toBe(true);
    expect(imageOf(await readDeployment(ns, 'web'))).toBe(good);
    expect(asked).toContain(`/status/apps/${ns}/web/health?window=1m`);

    ratios.set(ns, 0.3);
    const rolledBack = await runCli(deploy(ns, fakeImage('web-bad'), analysisFile(provider(), QUERY)), {
      env,
    });
    expect(rolledBack.exitCode, rolledBack.stderr).toBe(1);
    expect(rolledBack.json!.verdict).toBe('rolled-back');
    const bad = rolledBack.json!.checks as { value: number | null; result: string }[];
    expect(bad.some((c) => c.value === 0.3 && c.result === 'fail')).toBe(true);
    expect(imageOf(await readDeployment(ns, 'web'))).toBe(good);
    expect(`${promoted.stdout}${promoted.stderr}${rolledBack.stdout}${rolledBack.stderr}`).not.toContain(
      TOKEN,
    );
    ratios.set(ns, 0.01);
  });

  it('a wrong path is exit 2 naming the metric; a wrong token exit 3; nothing changed', async () => {
    const before = await readDeployment(ns, 'web');
    const wrongPath = await runCli(
      deploy(ns, fakeImage('web-x'), analysisFile(provider(), '/apps/{{namespace}}/nope $.checks[0].value')),
      { env: { STATUS_TOKEN: TOKEN } },
    );
    expect(wrongPath.exitCode).toBe(2);
    expect(wrongPath.stderr.trim().split('\n')).toHaveLength(1);
    expect(wrongPath.stderr).toMatch(
      /--analysis: metric "error-ratio": http:\/\/127\.0\.0\.1:\d+\/status\/apps\/[a-z0-9-]+\/nope answered 404 Not Found: check the path/,
    );
    const denied = await runCli(deploy(ns, fakeImage('web-y'), analysisFile(provider(), QUERY)), {
      env: { STATUS_TOKEN: 'not-the-token' },
    });
    expect(denied.exitCode).toBe(3);
    expect(denied.stderr).toMatch(
      /web endpoint http:\/\/127\.0\.0\.1:\d+\/status\/apps\/[a-z0-9-]+\/web\/health refused the request \(401 Unauthorized\): check the credentials; nothing was changed/,
    );
    expect(denied.stderr).not.toContain('not-the-token');
    expect((await readDeployment(ns, 'web'))?.metadata?.generation).toBe(before?.metadata?.generation);
  });
});
