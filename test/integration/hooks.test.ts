import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import yaml from 'js-yaml';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { cliPath, runCli } from '../helpers/cli.js';
import {
  clients,
  deleteNamespace,
  fakeImage,
  fullyAvailable,
  imageOf,
  namespaceWithStableApp,
  readDeployment,
  writeApp,
} from '../helpers/kube.js';
import { type ReceivedRequest, startReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';

// Hooks on the sandbox: each kind called at its point of a real rollout (a real API server, the pod simulator),
// answering from a receiver on the loopback; what a hook's answer does to the rollout is checked in the cluster.

const namespaces: string[] = [];
afterAll(async () => {
  await Promise.all(namespaces.map(deleteNamespace));
});

let receiver: WebhookReceiver | undefined;
afterEach(async () => {
  await receiver?.close();
  receiver = undefined;
});

const V1 = fakeImage('hooks-v1');

/** A namespace with web on V1 (4 replicas, plain rolling first deploy). */
async function withStable(): Promise<string> {
  const ns = await namespaceWithStableApp('hk', 'hooks-v1');
  namespaces.push(ns);
  return ns;
}

function writeHooks(hooks: Record<string, unknown>[]): string {
  const file = join(mkdtempSync(join(tmpdir(), 'gantry-hooks-')), 'hooks.yaml');
  writeFileSync(file, yaml.dump({ hooks }));
  return file;
}

function canary(ns: string, image: string, hooks: string, extra: string[] = []): string[] {
  return [
    'deploy',
    '--json',
    '--manifests',
    writeApp({ replicas: 4 }),
    '--image',
    `app=${image}`,
    '--namespace',
    ns,
    '--strategy',
    'canary',
    '--steps',
    '20,50',
    '--pause',
    '3s',
    '--hooks',
    hooks,
    '--ready-timeout',
    '60s',
    ...extra,
  ];
}

const at = (path: string) => (r: ReceivedRequest) => r.path === path;
type HookResult = { hook: string; type: string; result: string; attempts: number; message: string };

async function expectStableUntouched(ns: string, before: Awaited<ReturnType<typeof readDeployment>>) {
  const stable = await readDeployment(ns, 'web');
  expect(imageOf(stable)).toBe(V1);
  expect(stable?.metadata?.generation).toBe(before?.metadata?.generation);
  expect(fullyAvailable(stable)).toBe(true);
  expect(await readDeployment(ns, 'web-canary')).toBeUndefined();
}

describe('hooks on a canary', () => {
  it('calls each at its point of a healthy rollout: pre-rollout, rollout checks, confirm-promotion until it says yes, post-rollout signed', async () => {
    const ns = await withStable();
    let confirmAsked = 0;
    receiver = await startReceiver({
      respond: (request) => {
        if (request.path === '/confirm') {
          confirmAsked++;
          return confirmAsked < 3 ? { status: 409, body: 'not yet: change freeze until the 3rd ask' } : 200;
        }
        return 200;
      },
    });
    const dir = mkdtempSync(join(tmpdir(), 'gantry-pre-'));
    const seen = join(dir, 'stdin.json');
    const smoke = `let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{require('fs').writeFileSync(${JSON.stringify(seen)},s);console.log('smoke passed')})`;
    const key = 'hook-signing-key-7f3a';
    const hooks = writeHooks([
      { name: 'smoke', type: 'pre-rollout', command: [process.execPath, '-e', smoke] },
      { name: 'load', type: 'rollout', url: receiver.url('/load'), interval: '1s' },
      { name: 'freeze', type: 'confirm-promotion', url: receiver.url('/confirm'), interval: '500ms' },
      { name: 'audit', type: 'post-rollout', url: receiver.url('/post'), secretEnv: 'AUDIT_KEY' },
    ]);
    const v2 = fakeImage('hooks-ok');
    const run = await runCli(canary(ns, v2, hooks), { env: { AUDIT_KEY: key } });
    expect(run.exitCode, run.stderr).toBe(0);
    const report = run.json!;
    expect(report.verdict).toBe('promoted');
    expect(imageOf(await readDeployment(ns, 'web'))).toBe(v2);

    // pre-rollout: the command got the payload on stdin, before any traffic.
    const pre = JSON.parse(readFileSync(seen, 'utf8'));
    expect(pre).toMatchObject({
      hook: { name: 'smoke', type: 'pre-rollout' },
      service: 'web',
      namespace: ns,
      phase: 'pre-rollout',
      step: null,
      weight: 0,
      image: v2,
      previousImage: V1,
    });
    // rollout: asked during both steps, each answer a check.
    const checks = report.checks as { metric: string; step: number; result: string }[];
    const loads = checks.filter((c) => c.metric === 'hook load');
    expect(loads.length).toBeGreaterThanOrEqual(2);
    expect(new Set(loads.map((c) => c.step))).toEqual(new Set([0, 1]));
    expect(loads.every((c) => c.result === 'pass')).toBe(true);
    const loadBodies = receiver.requests
      .filter(at('/load'))
      .map((r) => r.body as { step: number; weight: number });
    expect(loadBodies.map((b) => [b.step, b.weight])).toContainEqual([1, 50]);
    // confirm-promotion: asked until it said yes, after the last step.
    expect(confirmAsked).toBe(3);
    const order = receiver.requests.map((r) => r.path);
    expect(order.lastIndexOf('/load')).toBeLessThan(order.indexOf('/confirm'));
    expect(order.lastIndexOf('/confirm')).toBeLessThan(order.indexOf('/post'));
    // post-rollout: told the verdict, signed with the key over the exact body.
    const post = receiver.requests.find(at('/post'))!;
    expect(post.body).toMatchObject({ phase: 'done', verdict: 'promoted', service: 'web', namespace: ns });
    const signature = `sha256=${createHmac('sha256', key).update(post.raw).digest('hex')}`;
    expect(post.headers['x-gantry-signature-256']).toBe(signature);

    const results = report.hooks as HookResult[];
    expect(results.map((r) => [r.hook, r.type, r.result])).toEqual([
      ['smoke', 'pre-rollout', 'pass'],
      ['freeze', 'confirm-promotion', 'pass'],
      ['audit', 'post-rollout', 'pass'],
    ]);
    expect(results[1]!.attempts).toBe(3);
    // The key is a secret: never in the output or the report.
    expect(`${run.stdout}${run.stderr}`).not.toContain(key);
  });

  it('a pre-rollout failure takes the canary out before any request reached it; stable untouched, exit 1', async () => {
    const ns = await withStable();
    receiver = await startReceiver({
      respond: () => ({ status: 503, body: 'smoke: GET /healthz answered 503' }),
    });
    const hooks = writeHooks([
      { name: 'smoke', type: 'pre-rollout', url: receiver.url('/smoke') },
      { name: 'audit', type: 'post-rollout', url: receiver.url('/post') },
    ]);
    const before = await readDeployment(ns, 'web');
    const run = await runCli(canary(ns, fakeImage('hooks-smoke-fails'), hooks));
    expect(run.exitCode, run.stderr).toBe(1);
    const report = run.json!;
    expect(report.verdict).toBe('rolled-back');
    expect(report.reason).toBe('pre-rollout hook smoke failed: HTTP 503: smoke: GET /healthz answered 503');
    const timings = report.timings as Record<string, string | null>;
    expect(timings.canaryTrafficStartedAt).toBeNull();
    expect(timings.canaryRemovedAt).not.toBeNull();
    expect(report.steps).toEqual([]);
    await expectStableUntouched(ns, before);
    // A post-rollout hook still hears how it ended (and a failing one would not change it).
    expect(receiver.requests.find(at('/post'))!.body).toMatchObject({
      verdict: 'rolled-back',
      phase: 'done',
    });
  });

  it('a failing rollout hook is a failed check: rolled back, the reason names the hook and its answer', async () => {
    const ns = await withStable();
    receiver = await startReceiver({
      respond: (request) => (request.path === '/load' ? { status: 500, body: 'p99 2.4s > 1s' } : 200),
    });
    const hooks = writeHooks([{ name: 'load', type: 'rollout', url: receiver.url('/load'), interval: '1s' }]);
    const before = await readDeployment(ns, 'web');
    const run = await runCli(canary(ns, fakeImage('hooks-load-fails'), hooks, ['--pause', '30s']));
    expect(run.exitCode, run.stderr).toBe(1);
    const report = run.json!;
    expect(report.verdict).toBe('rolled-back');
    expect(report.reason).toBe('rollout hook load failed: HTTP 500: p99 2.4s > 1s');
    expect((report.checks as { metric: string; result: string }[]).map((c) => [c.metric, c.result])).toEqual([
      ['hook load', 'fail'],
    ]);
    // Decided at the first answer, not at the end of the 30 s step.
    expect((report.steps as { result: string }[]).map((s) => s.result)).toEqual(['failed']);
    await expectStableUntouched(ns, before);
  });

  it('a rollback hook that says yes rolls the canary back', async () => {
    const ns = await withStable();
    let asked = 0;
    receiver = await startReceiver({ respond: () => (++asked >= 3 ? 200 : 404) });
    const hooks = writeHooks([
      { name: 'pager', type: 'rollback', url: receiver.url('/pager'), interval: '500ms' },
    ]);
    const before = await readDeployment(ns, 'web');
    const run = await runCli(canary(ns, fakeImage('hooks-paged'), hooks, ['--pause', '30s']));
    expect(run.exitCode, run.stderr).toBe(1);
    const report = run.json!;
    expect(report.reason).toBe('rollback requested by hook pager (HTTP 200: ok)');
    expect(asked).toBe(3);
    expect((report.hooks as HookResult[]).map((r) => [r.hook, r.type, r.result])).toEqual([
      ['pager', 'rollback', 'pass'],
    ]);
    await expectStableUntouched(ns, before);
  });

  it('confirm-rollout that never confirms: after the gate timeout, rolled back with nothing of the new version created', async () => {
    const ns = await withStable();
    receiver = await startReceiver({ respond: () => ({ status: 423, body: 'locked' }) });
    const hooks = writeHooks([
      { name: 'window', type: 'confirm-rollout', url: receiver.url('/c'), interval: '500ms' },
    ]);
    const before = await readDeployment(ns, 'web');
    const run = await runCli(canary(ns, fakeImage('hooks-never'), hooks, ['--gate-timeout', '3s']));
    expect(run.exitCode, run.stderr).toBe(1);
    const report = run.json!;
    expect(report.verdict).toBe('rolled-back');
    expect(report.reason).toBe(
      'confirm-rollout: window did not confirm within the gate timeout (3s); last answer: HTTP 423: locked; the rollout had not started',
    );
    expect(receiver.requests.length).toBeGreaterThanOrEqual(2);
    await expectStableUntouched(ns, before);
    const events = await clients().core.listNamespacedEvent({ namespace: ns });
    expect(events.items.map((e) => e.reason)).not.toContain('CanaryStarted');
    expect((report.hooks as HookResult[])[0]).toMatchObject({ hook: 'window', result: 'fail' });
  });

  it('`gantry promote` confirms a confirm-promotion gate for its hook (what Jenkins approval sends)', async () => {
    const ns = await withStable();
    receiver = await startReceiver({ respond: () => ({ status: 409, body: 'waiting for QA' }) });
    const hooks = writeHooks([
      { name: 'qa', type: 'confirm-promotion', url: receiver.url('/qa'), interval: '500ms' },
    ]);
    const v2 = fakeImage('hooks-qa');
    const deploy = execa(process.execPath, [cliPath, ...canary(ns, v2, hooks, ['--pause', '1s'])], {
      reject: false,
    });
    const deadline = Date.now() + 90_000;
    let status: Record<string, unknown> | undefined;
    for (;;) {
      status = (await runCli(['status', '--json', '--name', 'web', '--namespace', ns])).json;
      if (status?.phase === 'waiting') break;
      if (Date.now() > deadline) throw new Error(`never waited: ${JSON.stringify(status)}`);
      await new Promise((r) => setTimeout(r, 300));
    }
    expect(status!.gate).toMatchObject({ hook: 'confirm-promotion', id: 9999 });
    const promote = await runCli(['promote', '--json', '--name', 'web', '--namespace', ns]);
    expect(promote.exitCode, promote.stderr).toBe(0);
    const result = await deploy;
    expect(result.exitCode, String(result.stderr)).toBe(0);
    const report = JSON.parse(String(result.stdout));
    expect(report.verdict).toBe('promoted');
    const confirm = (report.hooks as HookResult[]).find((r) => r.type === 'confirm-promotion')!;
    expect(confirm.result).toBe('pass');
    expect(confirm.message).toBe('confirmed by `gantry promote` (last answer: HTTP 409: waiting for QA)');
    expect(imageOf(await readDeployment(ns, 'web'))).toBe(v2);
  });
});

describe('hooks on blue-green and rolling', () => {
  it('blue-green: pre-rollout on the preview, then confirm-promotion before the switch', async () => {
    const ns = await withStable();
    let confirms = 0;
    const times: Record<string, number> = {};
    receiver = await startReceiver({
      respond: (request) => {
        times[request.path] ??= Date.now();
        if (request.path !== '/confirm') return 200;
        return ++confirms < 2 ? 409 : 200;
      },
    });
    const hooks = writeHooks([
      { name: 'smoke', type: 'pre-rollout', url: receiver.url('/smoke') },
      { name: 'qa', type: 'confirm-promotion', url: receiver.url('/confirm'), interval: '500ms' },
    ]);
    const v2 = fakeImage('hooks-bg');
    const run = await runCli([
      'deploy',
      '--json',
      '--manifests',
      writeApp({ replicas: 4 }),
      '--image',
      `app=${v2}`,
      '--namespace',
      ns,
      '--strategy',
      'blue-green',
      '--pause',
      '2s',
      '--blue-green-delay',
      '2s',
      '--hooks',
      hooks,
      '--ready-timeout',
      '60s',
    ]);
    expect(run.exitCode, run.stderr).toBe(0);
    const report = run.json!;
    expect(report.verdict).toBe('promoted');
    expect((report.hooks as HookResult[]).map((r) => [r.hook, r.result])).toEqual([
      ['smoke', 'pass'],
      ['qa', 'pass'],
    ]);
    expect(confirms).toBe(2);
    // Asked before the switch: all traffic moved to the new version only after the confirmation.
    const switched = Date.parse((report.timings as Record<string, string>).canaryTrafficStartedAt!);
    expect(times['/smoke']!).toBeLessThan(times['/confirm']!);
    expect(times['/confirm']!).toBeLessThan(switched);
    expect(receiver.requests.find(at('/confirm'))!.body).toMatchObject({
      phase: 'waiting',
      step: 0,
      weight: 0,
    });
    expect(imageOf(await readDeployment(ns, 'web'))).toBe(v2);
  });

  it('rolling: a failing pre-rollout hook stops it before the update (nothing changed, exit 1); rollout hooks judge the window', async () => {
    const ns = await withStable();
    receiver = await startReceiver({
      respond: (request) => (request.path === '/smoke' ? { status: 500, body: 'db migration pending' } : 200),
    });
    const rolling = (image: string, file: string) => [
      'deploy',
      '--json',
      '--manifests',
      writeApp({ replicas: 4 }),
      '--image',
      `app=${image}`,
      '--namespace',
      ns,
      '--strategy',
      'rolling',
      '--pause',
      '2s',
      '--hooks',
      file,
      '--ready-timeout',
      '60s',
    ];
    const before = await readDeployment(ns, 'web');
    const stopped = await runCli(
      rolling(
        fakeImage('hooks-rolling-no'),
        writeHooks([{ name: 'smoke', type: 'pre-rollout', url: receiver.url('/smoke') }]),
      ),
    );
    expect(stopped.exitCode, stopped.stderr).toBe(1);
    expect(stopped.json!.verdict).toBe('rolled-back');
    expect(stopped.json!.reason).toBe(
      'pre-rollout hook smoke failed: HTTP 500: db migration pending; the rollout had not started',
    );
    const after = await readDeployment(ns, 'web');
    expect(after?.metadata?.generation).toBe(before?.metadata?.generation);
    expect(imageOf(after)).toBe(V1);

    const v2 = fakeImage('hooks-rolling-yes');
    const verified = await runCli(
      rolling(
        v2,
        writeHooks([{ name: 'probe', type: 'rollout', url: receiver.url('/probe'), interval: '500ms' }]),
      ),
    );
    expect(verified.exitCode, verified.stderr).toBe(0);
    const checks = verified.json!.checks as { metric: string; step: number; result: string }[];
    // The verification window (step 2, index 1) was judged by the hook alone: no --analysis.
    expect(checks.filter((c) => c.step === 1 && c.metric === 'hook probe').length).toBeGreaterThanOrEqual(1);
    expect(checks.every((c) => c.result === 'pass')).toBe(true);
    expect(imageOf(await readDeployment(ns, 'web'))).toBe(v2);
  });
});

describe('hooks: bad input', () => {
  it('a rolling update with a confirm-promotion hook: exit 2, one line naming --hooks, nothing changed', async () => {
    const ns = await withStable();
    const hooks = writeHooks([{ name: 'qa', type: 'confirm-promotion', url: 'http://127.0.0.1:9/' }]);
    const before = await readDeployment(ns, 'web');
    const run = await runCli([
      'deploy',
      '--manifests',
      writeApp({ replicas: 4 }),
      '--image',
      `app=${fakeImage('hooks-rolling')}`,
      '--namespace',
      ns,
      '--strategy',
      'rolling',
      '--hooks',
      hooks,
    ]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/--hooks: hook qa: a rolling update has no promotion to confirm/);
    const stable = await readDeployment(ns, 'web');
    expect(stable?.metadata?.generation).toBe(before?.metadata?.generation);
    const lease = await clients()
      .coordination.readNamespacedLease({ namespace: ns, name: 'gantry-web' })
      .catch(() => undefined);
    expect(lease?.spec?.holderIdentity ?? '').toBe('');
  });
});
