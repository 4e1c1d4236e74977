#!/usr/bin/env node
// `npm run demo`: Gantry's main job on the local sandbox, told step by step.
//   1. build the demo service with buildah, tags from the git context;
//   2. scan it with trivy against the sandbox's vulnerability database: it passes the gate;
//   3. push it to the sandbox registry by digest;
//   4. sign the pushed digest, attaching its SBOM, its build provenance and the scan's verdict (cosign's formats);
//   5. build a release that ships a vulnerable lodash: the scan gate stops it, nothing is pushed;
//   6. deploy the service to the sandbox cluster, then roll a good release out through canary steps (10/25/50%)
//      with metric analysis: promoted — every deploy verifies the release's signature and attestations first;
//   7. an unsigned release: the deploy policy refuses it before anything is applied;
//   8. roll out a bad release (5% errors… 30%): the analysis catches it and Gantry rolls it back by itself.
import { execFileSync, spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(repo, 'dist', 'cli.js');
const out = mkdtempSync(join(tmpdir(), 'gantry-demo-'));
const started = Date.now();

const say = (line) => process.stderr.write(`\n\x1b[1m== ${line}\x1b[0m\n`);

say(
  'starting the local sandbox (registry, buildah store, trivy database, Kubernetes, simulator, Prometheus)',
);
const envText = execFileSync(process.execPath, [join(repo, 'scripts', 'testbed.mjs'), 'up'], {
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'inherit'],
});
const sandbox = Object.fromEntries(
  envText
    .trim()
    .split('\n')
    .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
);
const env = { ...process.env, ...sandbox };
const image = `${sandbox.REGISTRY}/demo/app`;

/** Runs one gantry command with live progress on stderr and returns its JSON result and exit code. */
function gantry(args) {
  process.stderr.write(`$ gantry ${args.join(' ')}\n`);
  const result = spawnSync(process.execPath, [cli, ...args, '--json'], {
    cwd: repo,
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return { code: result.status, json: JSON.parse(result.stdout || '{}') };
}

function expect(condition, message) {
  if (!condition) {
    process.stderr.write(`demo: ${message}\n`);
    process.exit(1);
  }
}

const rows = [];
const seconds = (from, to) => `${((Date.parse(to) - Date.parse(from)) / 1000).toFixed(1)}s`;
say('1/8 build the demo service');
const build = gantry(['build', '--image', image, '--context', 'examples/demo-app', '--tag', 'demo']);
expect(build.code === 0, `build failed: ${build.json.error}`);
rows.push([
  'build',
  `${build.json.refs.length} tags: ${build.json.tags.join(', ')}`,
  `${(build.json.durationMs / 1000).toFixed(1)}s`,
]);

say('2/8 scan it (gate: high)');
const scan = gantry([
  'scan',
  '--image',
  `${image}:demo`,
  '--severity-threshold',
  'high',
  '--sarif',
  join(out, 'scan.sarif'),
  '--gitlab-report',
  join(out, 'gl-container-scanning.json'),
  '--junit',
  join(out, 'scan-junit.xml'),
  '--markdown',
  join(out, 'scan.md'),
]);
expect(scan.code === 0, `scan of the good release failed: ${scan.json.error ?? 'findings above threshold'}`);
const c = scan.json.counts;
rows.push([
  'scan',
  `passed — critical ${c.critical}, high ${c.high}, medium ${c.medium}, low ${c.low}`,
  `${(scan.json.durationMs / 1000).toFixed(1)}s`,
]);

say('3/8 push it by digest');
const push = gantry([
  'push',
  '--image',
  `${image}:demo`,
  ...build.json.tags.flatMap((t) => ['--to', `${image}:${t}`]),
]);
expect(push.code === 0, `push failed: ${push.json.error}`);
rows.push([
  'push',
  `${push.json.digest.slice(0, 19)}… → ${push.json.refs.length} refs`,
  `${(push.json.durationMs / 1000).toFixed(1)}s`,
]);

// The signing key: a fresh ECDSA P-256 pair, the private half in a 0600 file (never on argv).
const signingKey = join(out, 'signing.pem');
const publicKey = join(out, 'signing.pub');
const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
writeFileSync(signingKey, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
writeFileSync(publicKey, pair.publicKey.export({ type: 'spki', format: 'pem' }));

const SHORT = {
  'https://slsa.dev/provenance/v1': 'provenance',
  'https://cyclonedx.org/bom': 'SBOM',
  'https://cosign.sigstore.dev/attestation/vuln/v1': 'scan',
};

/** Signs a pushed release, attaching its SBOM, its build provenance and (when given) the scan's verdict. */
function sign(pinned, provenance, scanResult) {
  const name = pinned.slice(pinned.lastIndexOf('@sha256:') + 8, pinned.lastIndexOf('@sha256:') + 20);
  return gantry([
    'sign',
    '--image',
    pinned,
    '--key-file',
    signingKey,
    '--sbom',
    '--sbom-output',
    join(out, `sbom-${name}.cdx.json`),
    '--provenance',
    provenance,
    ...(scanResult ? ['--scan-result', scanResult] : []),
  ]);
}

say('4/8 sign the pushed digest: SBOM, provenance and the scan verdict attached');
const scanFile = join(out, 'scan.json');
writeFileSync(scanFile, JSON.stringify(scan.json));
const signed = sign(`${image}@${push.json.digest}`, build.json.provenance, scanFile);
expect(signed.code === 0, `signing failed: ${signed.json.error}`);
rows.push([
  'sign',
  `${signed.json.attestations.length} attestations (${signed.json.attestations.map((a) => SHORT[a.predicateType] ?? a.predicateType).join(', ')}), cosign-compatible`,
  `${(signed.json.durationMs / 1000).toFixed(1)}s`,
]);

say('5/8 a release with a vulnerable lodash: the gate must stop it');
const badBuild = gantry([
  'build',
  '--image',
  `${sandbox.REGISTRY}/demo/app-vulnerable`,
  '--context',
  'examples/demo-app-vulnerable',
  '--tag',
  'demo',
]);
expect(badBuild.code === 0, `build of the vulnerable release failed: ${badBuild.json.error}`);
const badScan = gantry([
  'scan',
  '--image',
  `${sandbox.REGISTRY}/demo/app-vulnerable:demo`,
  '--severity-threshold',
  'high',
]);
expect(badScan.code === 1, 'the vulnerable release was not stopped by the scan gate');
const ids = badScan.json.findings.map((f) => `${f.id} (${f.severity})`).join(', ');
rows.push(['gate', `vulnerable release blocked: ${ids}`, 'exit 1']);

/** Builds and pushes one release of the demo service; `version` makes each release's digest its own. */
function release(version, { signed } = {}) {
  const context = mkdtempSync(join(tmpdir(), `gantry-demo-${version}-`));
  cpSync(join(repo, 'examples', 'demo-app'), context, { recursive: true });
  writeFileSync(join(context, 'app', 'version.txt'), `${version}\n`);
  const built = gantry(['build', '--image', image, '--context', context, '--tag', version, '--push']);
  expect(built.code === 0, `build of ${version} failed: ${built.json.error}`);
  const pinned = `${image}@${built.json.digest}`;
  if (signed !== false) {
    const result = sign(pinned, built.json.provenance);
    expect(result.code === 0, `signing ${version} failed: ${result.json.error}`);
  }
  return pinned;
}

/** The demo manifests, with the simulator's error-rate annotation set for this release. */
function manifests(errorRate) {
  const dir = mkdtempSync(join(tmpdir(), 'gantry-demo-k8s-'));
  const text = readFileSync(join(repo, 'examples', 'demo-app', 'deploy', 'web.yaml'), 'utf8');
  writeFileSync(
    join(dir, 'web.yaml'),
    text.replace('testbed.gantry.dev/error-rate: "0.01"', `testbed.gantry.dev/error-rate: "${errorRate}"`),
  );
  return dir;
}

const namespace = `demo-${Date.now().toString(36)}`;
execFileSync(sandbox.KUBECTL, ['create', 'namespace', namespace], { env, stdio: 'ignore' });
// Every rollout verifies first: a signature by the demo's key, and the SBOM and provenance attached.
const policy = ['--public-key-file', publicKey, '--require', 'slsaprovenance1,cyclonedx'];
const deployArgs = [
  ...policy,
  '--namespace',
  namespace,
  '--analysis',
  'examples/demo-app/analysis.yaml',
  '--ready-timeout',
  '60s',
];

say('6/8 first deploy, then a good release through canary steps 10/25/50% with analysis');
const v1 = release('v1');
const first = gantry([
  'deploy',
  '--manifests',
  manifests(0.01),
  '--image',
  `web=${v1}`,
  '--strategy',
  'rolling',
  ...policy,
  '--namespace',
  namespace,
]);
expect(first.code === 0, `first deploy failed: ${first.json.error ?? first.json.reason}`);
const v2 = release('v2');
const good = gantry([
  'deploy',
  '--manifests',
  manifests(0.01),
  '--image',
  `web=${v2}`,
  '--strategy',
  'canary',
  '--steps',
  '10,25,50',
  '--pause',
  '8s',
  '--report',
  join(out, 'good'),
  ...deployArgs,
]);
expect(
  good.code === 0 && good.json.verdict === 'promoted',
  `the good release was not promoted: ${good.json.reason ?? good.json.error}`,
);
rows.push([
  'canary',
  `good release promoted after ${good.json.steps.length} steps, ${good.json.checks.length} checks passed`,
  seconds(good.json.timings.startedAt, good.json.timings.finishedAt),
]);

say('7/8 an unsigned release: the deploy policy refuses it, nothing is applied');
const unsigned = release('v2-unsigned', { signed: false });
const refused = gantry([
  'deploy',
  '--manifests',
  manifests(0.01),
  '--image',
  `web=${unsigned}`,
  '--strategy',
  'canary',
  '--steps',
  '10,25,50',
  ...deployArgs,
]);
expect(refused.code === 1, `the unsigned release was not refused: exit ${refused.code}`);
const stillGood = JSON.parse(
  execFileSync(sandbox.KUBECTL, ['-n', namespace, 'get', 'deployment', 'web', '-o', 'json'], {
    env,
    encoding: 'utf8',
  }),
).spec.template.spec.containers[0].image;
expect(stillGood === v2, `the cluster changed although the unsigned release was refused (${stillGood})`);
rows.push([
  'verify',
  `unsigned release refused: ${String(refused.json.error).replace(/^.*?refused \S+: /, '')}`,
  'exit 1',
]);

say('8/8 a bad release (30% errors): caught by the analysis and rolled back');
const v3 = release('v3');
const bad = gantry([
  'deploy',
  '--manifests',
  manifests(0.3),
  '--image',
  `web=${v3}`,
  '--strategy',
  'canary',
  '--steps',
  '10,25,50',
  '--pause',
  '8s',
  '--report',
  join(out, 'bad'),
  ...deployArgs,
]);
expect(
  bad.code === 1 && bad.json.verdict === 'rolled-back',
  `the bad release was not rolled back: ${bad.json.reason ?? bad.json.error}`,
);
const t = bad.json.timings;
rows.push([
  'rollback',
  `bad release rolled back: ${bad.json.reason}; traffic restored ${seconds(t.abortDecidedAt, t.trafficRestoredAt)} after the decision`,
  seconds(t.startedAt, t.finishedAt),
]);
const stableImage = JSON.parse(
  execFileSync(sandbox.KUBECTL, ['-n', namespace, 'get', 'deployment', 'web', '-o', 'json'], {
    env,
    encoding: 'utf8',
  }),
).spec.template.spec.containers[0].image;
expect(stableImage === v2, `stable is not on the good release after the rollback (${stableImage})`);

say('summary');
const width = Math.max(...rows.map((r) => r[1].length));
const stageWidth = Math.max(...rows.map((r) => r[0].length));
process.stdout.write(`${['stage'.padEnd(stageWidth), 'result'.padEnd(width), 'time'].join('  ')}\n`);
for (const [stage, result, time] of rows) {
  process.stdout.write(`${stage.padEnd(stageWidth)}  ${result.padEnd(width)}  ${time}\n`);
}
process.stdout.write(`\nstable runs ${stableImage}\n`);
process.stdout.write(`rollout report of the rollback: ${join(out, 'bad', 'rollout.md')} (and .svg, .json)\n`);
process.stdout.write(
  `\nreports: ${out}\nthe sandbox is still running: \`npm run testbed -- down\` stops it.\n`,
);
process.stdout.write(`demo finished in ${((Date.now() - started) / 1000).toFixed(1)}s\n`);
