import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { execa } from 'execa';
import yaml from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, runCli } from '../helpers/cli.js';
import {
  deleteNamespace,
  fakeImage,
  imageOf,
  namespaceWithStableApp,
  readDeployment,
  rollingWithAnalysis,
} from '../helpers/kube.js';

// `provider: {type: cloudwatch}` against moto (PyPI) in server mode, the AWS emulator, started here on
// 127.0.0.1 (test/bed/install-moto.sh installs it). Moto checks SigV4 signatures and access keys only once its
// IAM authentication is on: this suite creates an IAM user and key, then turns it on, so every CloudWatch call
// after that (the test's own PutMetricData and Gantry's GetMetricData, both signed by the AWS SDK) must carry a
// valid signature by a known key. Moto evaluates GetMetricData's MetricStat queries with the statistics
// SampleCount, Average, Sum, Minimum and Maximum; real CloudWatch is not reachable here.

const version = /^version=(\S+)$/m.exec(
  readFileSync(join(repoRoot, 'test/bed/install-moto.sh'), 'utf8'),
)![1]!;
const motoServer =
  process.env.GANTRY_MOTO_SERVER ??
  join(
    process.env.GANTRY_TESTBED_CACHE ?? join(homedir(), '.cache', 'gantry-testbed'),
    `moto-${version}`,
    'bin',
    'moto_server',
  );

let moto: ChildProcess | undefined;
let endpoint: string;
let key: { id: string; secret: string };
let ns: string;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

// An IAM user whose key may read and write CloudWatch metrics, made with moto's own boto3 (its venv has it)
// while authentication is still off. Moto names CloudWatch's actions by its endpoint prefix (monitoring:…),
// AWS by the service prefix (cloudwatch:…): the policy allows both.
const CREATE_KEY = `
import boto3, json, sys
iam = boto3.client('iam', endpoint_url=sys.argv[1], region_name='us-east-1', aws_access_key_id='setup', aws_secret_access_key='setup')
iam.create_user(UserName='gantry')
actions = [p + a for p in ('cloudwatch:', 'monitoring:') for a in ('GetMetricData', 'PutMetricData')]
iam.put_user_policy(UserName='gantry', PolicyName='metrics', PolicyDocument=json.dumps(
    {'Version': '2012-10-17', 'Statement': [{'Effect': 'Allow', 'Action': actions, 'Resource': '*'}]}))
k = iam.create_access_key(UserName='gantry')['AccessKey']
print(json.dumps({'id': k['AccessKeyId'], 'secret': k['SecretAccessKey']}))
`;

beforeAll(async () => {
  const port = await freePort();
  endpoint = `http://127.0.0.1:${port}`;
  moto = spawn(motoServer, ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  const spawned = new Promise<never>((_, reject) =>
    moto!.on('error', (error) =>
      reject(new Error(`cannot start ${motoServer} (run scripts/setup.sh): ${error.message}`)),
    ),
  );
  const deadline = Date.now() + 60_000;
  for (;;) {
    const status = await Promise.race([
      fetch(`${endpoint}/moto-api/`)
        .then((r) => r.status)
        .catch(() => 0),
      spawned,
    ]);
    if (status === 200) break;
    if (Date.now() > deadline) throw new Error(`moto at ${endpoint} never answered`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const created = await execa(join(dirname(motoServer), 'python'), ['-c', CREATE_KEY, endpoint]);
  key = JSON.parse(created.stdout);
  // From now on every request must be signed by a known key.
  const auth = await fetch(`${endpoint}/moto-api/reset-auth`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain' },
    body: '0',
  });
  if (auth.status !== 200) throw new Error(`moto reset-auth: ${auth.status} ${await auth.text()}`);
  ns = await namespaceWithStableApp('mcw', 'cloudwatch-v1');
});

afterAll(async () => {
  moto?.kill('SIGTERM');
  if (ns) await deleteNamespace(ns);
});

/** One datapoint of the error ratio the analysis reads, for the app in `namespace`, a second ago. */
async function putErrorRatio(namespace: string, value: number): Promise<void> {
  const client = new CloudWatchClient({
    region: 'eu-west-1',
    endpoint,
    credentials: { accessKeyId: key.id, secretAccessKey: key.secret },
  });
  await client.send(
    new PutMetricDataCommand({
      Namespace: 'Gantry/Shop',
      MetricData: [
        {
          MetricName: 'ErrorRatio',
          Dimensions: [
            { Name: 'Namespace', Value: namespace },
            { Name: 'App', Value: 'web' },
          ],
          Value: value,
          Timestamp: new Date(Date.now() - 1000),
        },
      ],
    }),
  );
  client.destroy();
}

const RATIO = 'Gantry/Shop ErrorRatio{Namespace="{{namespace}}", App="{{name}}"} Average 1s';

function analysis(query: string, provider: Record<string, unknown> = {}): string {
  const file = join(mkdtempSync(join(tmpdir(), 'gantry-analysis-')), 'analysis.yaml');
  writeFileSync(
    file,
    yaml.dump({
      interval: '1s',
      // A field given as undefined is left out.
      provider: Object.fromEntries(
        Object.entries({
          type: 'cloudwatch',
          region: 'eu-west-1',
          url: endpoint,
          accessKeyIdEnv: 'CW_ACCESS_KEY_ID',
          secretAccessKeyEnv: 'CW_SECRET_ACCESS_KEY',
          window: '1m',
          ...provider,
        }).filter(([, value]) => value !== undefined),
      ),
      metrics: [{ name: 'error-ratio', query, max: 0.05 }],
    }),
  );
  return file;
}

const deploy = (image: string, analysisFile: string) => rollingWithAnalysis(ns, image, analysisFile);

const env = () => ({ CW_ACCESS_KEY_ID: key.id, CW_SECRET_ACCESS_KEY: key.secret });

describe('Amazon CloudWatch (GetMetricData) through moto, with SigV4-signed requests', () => {
  it('judges rollouts on what CloudWatch holds: a healthy ratio promotes, a bad one rolls back', async () => {
    await putErrorRatio(ns, 0.01);
    const good = fakeImage('cloudwatch-good');
    const promoted = await runCli(deploy(good, analysis(RATIO)), { env: env() });
    expect(promoted.exitCode, promoted.stderr).toBe(0);
    const checks = promoted.json!.checks as { metric: string; value: number; result: string }[];
    expect(checks.length).toBeGreaterThanOrEqual(1);
    expect(checks.every((c) => c.metric === 'error-ratio' && c.value === 0.01 && c.result === 'pass')).toBe(
      true,
    );
    expect(imageOf(await readDeployment(ns, 'web'))).toBe(good);

    await putErrorRatio(ns, 0.4);
    const rolledBack = await runCli(deploy(fakeImage('cloudwatch-bad'), analysis(RATIO)), { env: env() });
    expect(rolledBack.exitCode, rolledBack.stderr).toBe(1);
    expect(rolledBack.json!.verdict).toBe('rolled-back');
    expect(String(rolledBack.json!.reason)).toMatch(/error-ratio/);
    const failed = rolledBack.json!.checks as { value: number; result: string }[];
    expect(failed.some((c) => c.value === 0.4 && c.result === 'fail')).toBe(true);
    expect(imageOf(await readDeployment(ns, 'web'))).toBe(good);
    const output = `${promoted.stdout}${promoted.stderr}${rolledBack.stdout}${rolledBack.stderr}`;
    expect(output).not.toContain(key.secret);
    expect(output).not.toContain(key.id);
  });

  it('reads the standard AWS_* variables when the file names none', async () => {
    await putErrorRatio(ns, 0.02);
    const image = fakeImage('cloudwatch-std-env');
    const run = await runCli(
      deploy(image, analysis(RATIO, { accessKeyIdEnv: undefined, secretAccessKeyEnv: undefined })),
      { env: { AWS_ACCESS_KEY_ID: key.id, AWS_SECRET_ACCESS_KEY: key.secret } },
    );
    expect(run.exitCode, run.stderr).toBe(0);
    expect((run.json!.checks as { value: number }[]).every((c) => c.value === 0.02)).toBe(true);
    expect(imageOf(await readDeployment(ns, 'web'))).toBe(image);
  });

  it('a malformed query is bad input naming the metric: exit 2, one line, nothing changed', async () => {
    const before = await readDeployment(ns, 'web');
    const run = await runCli(
      deploy(
        fakeImage('cloudwatch-malformed'),
        analysis('Gantry/Shop ErrorRatio{Namespace="{{namespace}}"}'),
      ),
      { env: env() },
    );
    expect(run.exitCode).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain(
      '--analysis: metric "error-ratio": CloudWatch query does not parse: expected a statistic (Average, Sum, Maximum, p99, …) after the metric',
    );
    expect((await readDeployment(ns, 'web'))?.metadata?.generation).toBe(before?.metadata?.generation);
  });

  it('a wrong secret key fails the signature: exit 3 before anything changed, the key never shown', async () => {
    const before = await readDeployment(ns, 'web');
    const wrong = 'wrong-secret-0c1d2e3f4a5b6c7d8e9f';
    const run = await runCli(deploy(fakeImage('cloudwatch-wrong-key'), analysis(RATIO)), {
      env: { CW_ACCESS_KEY_ID: key.id, CW_SECRET_ACCESS_KEY: wrong },
    });
    expect(run.exitCode).toBe(3);
    expect(run.stderr).toMatch(
      /cloudwatch at http:\/\/127\.0\.0\.1:\d+ refused the request \(403\): check the AWS credentials and that they allow cloudwatch:GetMetricData; nothing was changed/,
    );
    expect(`${run.stdout}${run.stderr}`).not.toContain(wrong);
    expect((await readDeployment(ns, 'web'))?.metadata?.generation).toBe(before?.metadata?.generation);
  });

  it('an unset key variable is bad input naming the field: exit 2', async () => {
    const run = await runCli(
      deploy(fakeImage('cloudwatch-unset'), analysis(RATIO, { secretAccessKeyEnv: 'GANTRY_NO_SUCH_SECRET' })),
      { env: { CW_ACCESS_KEY_ID: key.id } },
    );
    expect(run.exitCode).toBe(2);
    expect(run.stderr.trim()).toMatch(
      /--analysis: provider\.secretAccessKeyEnv: GANTRY_NO_SUCH_SECRET is not set or empty$/,
    );
  });
});
