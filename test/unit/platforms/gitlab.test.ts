import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { optionFor } from '../../../src/config/options.js';
import {
  artifactFileUrl,
  DOTENV_MAX_VALUE_LENGTH,
  deploymentStatus,
  dotenvFile,
  expandVariables,
  flagsForInput,
  gantryArgs,
  inputVariable,
  jobUrlOf,
  markdownUrl,
  mergeRequestNoteBody,
  mergeRequestTarget,
  outputsFor,
  parseArrayInput,
  postMergeRequestNote,
  renderDotenv,
  reportFiles,
  resultFile,
  runGitLabJob,
} from '../../../src/platforms/gitlab.js';
import { renderRolloutMarkdown } from '../../../src/report/index.js';
import { InfraError, InputError } from '../../../src/util/errors.js';
import { fixture } from '../report/helpers.js';

const DIGEST = `sha256:${'ab'.repeat(32)}`;

/** How GitLab reads a dotenv report back (Ci::ParseDotenvArtifactService): `^(.*?)=(.*)$`, both sides stripped. */
function parseLikeGitLab(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/(?<=\n)/)) {
    const match = /^(.*?)=(.*)$/m.exec(line);
    if (!match) throw new Error(`GitLab would reject the line ${JSON.stringify(line)}: Invalid Format`);
    out[match[1]!.trim()] = match[2]!.trim();
  }
  return out;
}

describe('inputs → gantry arguments', () => {
  it('names the job variable of an input', () => {
    expect(inputVariable('severity-threshold')).toBe('GANTRY_INPUT_SEVERITY_THRESHOLD');
    expect(inputVariable('image')).toBe('GANTRY_INPUT_IMAGE');
  });

  it.each([
    // biome-ignore lint/suspicious/noTemplateCurlyInString: GitLab's ${VAR} syntax, not a JS template
    ['$A and ${B}', 'x and y'],
    ['$$A is literal', '$A is literal'],
    ['$UNSET.', '.'],
    ['no variables', 'no variables'],
    ['$A$B', 'xy'],
  ])('expands %j like GitLab → %j', (text, expected) => {
    expect(expandVariables(text, { A: 'x', B: 'y' })).toBe(expected);
  });

  it('reads an array input from the JSON text GitLab interpolates, expanding each item after parsing', () => {
    // A variable whose value has a quote and a comma cannot split the array: expansion happens per item.
    const env = { CI_COMMIT_REF_NAME: 'feat/"x",y' };
    expect(parseArrayInput('tag', '["v1", "ref-$CI_COMMIT_REF_NAME", "it\'s", ""]\n', env)).toEqual([
      'v1',
      'ref-feat/"x",y',
      "it's",
    ]);
    expect(parseArrayInput('steps', '[10, 25, 50]', {})).toEqual(['10', '25', '50']);
    expect(parseArrayInput('tag', '  ', {})).toEqual([]);
    expect(parseArrayInput('tag', 'one\n$A\n', { A: 'two' })).toEqual(['one', 'two']);
  });

  it.each([
    ['["unterminated"', 'input "tag": expected an array, got "[\\"unterminated\\""'],
    ['[{"a":1}]', 'input "tag": expected an array of strings, got {"a":1} at position 1'],
  ])('rejects %j with one line naming the input', (text, message) => {
    expect(() => parseArrayInput('tag', text, {})).toThrow(InputError);
    expect(() => parseArrayInput('tag', text, {})).toThrow(message);
  });

  const build = (flag: string) => optionFor('build', flag)!;
  it.each([
    ['image', 'reg/app', ['--image', 'reg/app']],
    ['image', '', []],
    ['push', 'true', ['--push']],
    ['push', 'false', []],
    ['push', '', []],
    ['retries', '3', []],
    ['retries', '5', ['--retries', '5']],
    ['tag', '["a","b"]', ['--tag', 'a', '--tag', 'b']],
    ['build-arg', '["A=1","B=x y"]', ['--build-arg', 'A=1', '--build-arg', 'B=x y']],
    ['tag', '[]', []],
  ])('build input %s=%j → %j', (flag, raw, expected) => {
    expect(flagsForInput(build(flag), raw, {})).toEqual(expected);
  });

  it.each([
    ['push', 'yes', 'input "push": expected true or false, got "yes"'],
    ['retries', 'three', 'input "retries": expected a number, got "three"'],
  ])('rejects %s=%j', (flag, raw, message) => {
    expect(() => flagsForInput(build(flag), raw, {})).toThrow(message);
  });

  it('builds the argument array from the job variables, in the options table order', () => {
    const env = {
      GANTRY_INPUT_CONFIG: 'ci/gantry.yml',
      GANTRY_INPUT_IMAGE: 'registry.example.com/team/app',
      GANTRY_INPUT_CONTEXT: '',
      GANTRY_INPUT_TAG: '["sha-$CI_COMMIT_SHORT_SHA"]\n',
      GANTRY_INPUT_PUSH: 'true',
      GANTRY_INPUT_RETRIES: '3',
      GANTRY_INPUT_SEVERITY_THRESHOLD: 'low', // not a build flag: ignored
      GANTRY_INPUT_GITLAB_TOKEN: 'glpat-secret', // read by the wrapper only
      CI_COMMIT_SHORT_SHA: '0a1b2c3d',
    };
    expect(gantryArgs('build', env)).toEqual([
      'build',
      '--json',
      '--config',
      'ci/gantry.yml',
      '--image',
      'registry.example.com/team/app',
      '--tag',
      'sha-0a1b2c3d',
      '--push',
    ]);
  });

  it('passes deploy lists item by item, and a value that looks like a flag stays a value', () => {
    const env = {
      GANTRY_INPUT_MANIFESTS: '["deploy/app.yaml", "deploy/extra"]',
      GANTRY_INPUT_IMAGE: `["app=reg/app@${DIGEST}"]`,
      GANTRY_INPUT_STEPS: '[20, 50]',
      GANTRY_INPUT_PAUSE: '--help',
      GANTRY_INPUT_LEASE_DURATION: '30',
      GANTRY_INPUT_RESUME: 'false',
    };
    expect(gantryArgs('deploy', env)).toEqual([
      'deploy',
      '--json',
      '--manifests',
      'deploy/app.yaml',
      '--manifests',
      'deploy/extra',
      '--image',
      `app=reg/app@${DIGEST}`,
      '--steps',
      '20',
      '--steps',
      '50',
      '--pause',
      '--help',
      '--lease-duration',
      '30',
    ]);
  });

  it('passes a chart with its values files, --set items (commas kept) and release', () => {
    const env = {
      GANTRY_INPUT_CHART: 'charts/web',
      GANTRY_INPUT_VALUES: '["charts/prod.yaml"]',
      GANTRY_INPUT_SET: '["image.tag=1.2.3", "a=1,b=2"]',
      GANTRY_INPUT_RELEASE: 'shop',
      GANTRY_INPUT_MANIFESTS: '[]',
    };
    expect(gantryArgs('deploy', env)).toEqual([
      'deploy',
      '--json',
      '--chart',
      'charts/web',
      '--values',
      'charts/prod.yaml',
      '--set',
      'image.tag=1.2.3',
      '--set',
      'a=1,b=2',
      '--release',
      'shop',
    ]);
  });

  it('passes canary steps with their pauses and gates, and the gate timeout', () => {
    const env = {
      GANTRY_INPUT_STEPS: '["5:2m", "25:until-promoted", 50]',
      GANTRY_INPUT_GATE_TIMEOUT: '1h',
      GANTRY_INPUT_ON_GATE_TIMEOUT: 'promote',
    };
    expect(gantryArgs('deploy', env)).toEqual([
      'deploy',
      '--json',
      '--steps',
      '5:2m',
      '--steps',
      '25:until-promoted',
      '--steps',
      '50',
      '--gate-timeout',
      '1h',
      '--on-gate-timeout',
      'promote',
    ]);
  });
});

describe('outputs → dotenv', () => {
  it('build: repository, tags, refs and the digest-pinned reference', () => {
    const outputs = outputsFor('build', {
      image: '127.0.0.1:5000/team/app',
      tags: ['main', 'sha-0a1b2c3'],
      refs: ['127.0.0.1:5000/team/app:main', '127.0.0.1:5000/team/app:sha-0a1b2c3'],
      digest: DIGEST,
      builder: 'buildah',
      pushed: true,
    });
    expect(outputs).toEqual({
      GANTRY_IMAGE: '127.0.0.1:5000/team/app',
      GANTRY_TAGS: 'main,sha-0a1b2c3',
      GANTRY_REFS: '127.0.0.1:5000/team/app:main,127.0.0.1:5000/team/app:sha-0a1b2c3',
      GANTRY_BUILDER: 'buildah',
      GANTRY_DIGEST: DIGEST,
      GANTRY_IMAGE_REF: `127.0.0.1:5000/team/app@${DIGEST}`,
    });
  });

  it('build without push: the local name, no digest', () => {
    const outputs = outputsFor('build', { image: 'app', tags: ['x'], refs: ['app:x'], builder: 'buildah' });
    expect(outputs.GANTRY_IMAGE_REF).toBe('app:x');
    expect(outputs).not.toHaveProperty('GANTRY_DIGEST');
  });

  it('scan, push and deploy', () => {
    expect(
      outputsFor('scan', {
        image: 'x',
        passed: false,
        threshold: 'high',
        counts: { critical: 0, high: 1, medium: 1, low: 0, unknown: 0 },
        findings: [{}, {}],
      }),
    ).toEqual({
      GANTRY_SCAN_PASSED: 'false',
      GANTRY_SCAN_THRESHOLD: 'high',
      GANTRY_SCAN_CRITICAL: '0',
      GANTRY_SCAN_HIGH: '1',
      GANTRY_SCAN_MEDIUM: '1',
      GANTRY_SCAN_LOW: '0',
      GANTRY_SCAN_UNKNOWN: '0',
    });
    expect(
      outputsFor('push', { digest: DIGEST, refs: ['reg:5000/team/release:1.2.3', 'other/app:1'] }),
    ).toEqual({
      GANTRY_DIGEST: DIGEST,
      GANTRY_PUSH_REFS: 'reg:5000/team/release:1.2.3,other/app:1',
      GANTRY_PUSH_REPOSITORY: 'reg:5000/team/release',
      GANTRY_PUSH_IMAGE_REF: `reg:5000/team/release@${DIGEST}`,
    });
    expect(
      outputsFor('sign', {
        image: `reg:5000/team/app@${DIGEST}`,
        digest: DIGEST,
        signature: `reg:5000/team/app@${DIGEST}`,
        attestations: [
          { predicateType: 'https://cyclonedx.org/bom', ref: 'x' },
          { predicateType: 'https://slsa.dev/provenance/v1', ref: 'y' },
        ],
      }),
    ).toEqual({
      GANTRY_SIGNED_IMAGE: `reg:5000/team/app@${DIGEST}`,
      GANTRY_DIGEST: DIGEST,
      GANTRY_SIGNATURE: `reg:5000/team/app@${DIGEST}`,
      GANTRY_ATTESTATIONS: 'https://cyclonedx.org/bom,https://slsa.dev/provenance/v1',
    });
    expect(
      outputsFor('verify', { image: 'a@b', digest: DIGEST, verified: false, reason: 'no signature' }),
    ).toEqual({
      GANTRY_VERIFIED: 'false',
      GANTRY_VERIFIED_IMAGE: 'a@b',
      GANTRY_DIGEST: DIGEST,
      GANTRY_VERIFY_REASON: 'no signature',
    });
    expect(outputsFor('verify', { image: 'a@b', digest: DIGEST, verified: true })).toEqual({
      GANTRY_VERIFIED: 'true',
      GANTRY_VERIFIED_IMAGE: 'a@b',
      GANTRY_DIGEST: DIGEST,
    });
    const report = fixture('rolled-back');
    expect(outputsFor('deploy', { ...report, apiRequests: 12 })).toEqual({
      GANTRY_VERDICT: 'rolled-back',
      GANTRY_ROLLOUT: 'shop/web',
      GANTRY_DEPLOYED_IMAGE: report.image,
      GANTRY_ROLLOUT_REASON: report.reason,
      GANTRY_REVISION: '12',
      GANTRY_PREVIOUS_IMAGE: report.previousImage,
    });
  });

  it('an error result gives the error line and the exit code', () => {
    expect(outputsFor('scan', { error: '--image: required', exitCode: 2 })).toEqual({
      GANTRY_ERROR: '--image: required',
      GANTRY_EXIT_CODE: '2',
    });
  });

  it('renders lines GitLab reads back exactly: one line each, $ escaped, long values shortened', () => {
    const text = renderDotenv({
      A: 'plain',
      B: 'two\nlines  ',
      C: 'costs $5 = "quoted"',
      D: 'x'.repeat(1000),
    });
    const parsed = parseLikeGitLab(text);
    expect(parsed).toEqual({
      A: 'plain',
      B: 'two lines',
      C: 'costs $$5 = "quoted"', // GitLab expands dotenv values: $$ reads back as $
      D: `${'x'.repeat(DOTENV_MAX_VALUE_LENGTH - 1)}…`,
    });
    expect(renderDotenv({})).toBe('');
  });

  it('refuses a key GitLab would reject', () => {
    expect(() => renderDotenv({ 'NOT-A-KEY': 'x' })).toThrow('invalid dotenv key');
  });
});

describe('merge-request note', () => {
  it('is the run report with a Mermaid timeline under a heading that names the rollout', () => {
    const report = fixture('rolled-back');
    const body = mergeRequestNoteBody(report, {
      jobUrl: 'https://gitlab.example.com/shop/web/-/jobs/42',
      environment: 'production',
    });
    const lines = body.split('\n');
    expect(lines[0]).toBe('<!-- gantry-rollout shop/web -->');
    expect(lines[1]).toBe(
      '### Gantry rollout of `shop/web` to `production` · [job log](https://gitlab.example.com/shop/web/-/jobs/42)',
    );
    expect(body).toContain(renderRolloutMarkdown(report, { chart: 'mermaid' }).trimEnd());
    expect(body).toMatch(/```mermaid\n(%%.*\n)?xychart/);
    expect(body).not.toContain('<svg');
    expect(body).toContain('run github-8823145-1');
  });

  it('leaves out what it does not know', () => {
    const body = mergeRequestNoteBody(fixture('promoted'));
    expect(body.split('\n')[1]).toBe('### Gantry rollout of `shop/web`');
  });

  it('says the deployment status GitLab gives the job, and links the report files as job artifacts', () => {
    const jobUrl = 'https://gitlab.example.com/shop/web/-/jobs/42';
    const files = ['gantry-rollout/rollout.md', 'gantry-rollout/rollout.svg', 'gantry-rollout/rollout.json'];
    const rolledBack = mergeRequestNoteBody(fixture('rolled-back'), {
      jobUrl,
      environment: 'production',
      environmentUrl: 'https://shop.example.com',
      reportFiles: files,
    });
    const lines = rolledBack.split('\n');
    expect(lines.slice(2, 7)).toEqual([
      '',
      'Environment `production` · [open](https://shop.example.com) · deployment **failed**',
      '',
      'Report (job artifacts): ' +
        '[rollout.md](https://gitlab.example.com/shop/web/-/jobs/42/artifacts/file/gantry-rollout/rollout.md) · ' +
        '[rollout.svg](https://gitlab.example.com/shop/web/-/jobs/42/artifacts/file/gantry-rollout/rollout.svg) · ' +
        '[rollout.json](https://gitlab.example.com/shop/web/-/jobs/42/artifacts/file/gantry-rollout/rollout.json)',
      '',
    ]);
    const promoted = mergeRequestNoteBody(fixture('promoted'), { environment: 'staging' });
    expect(promoted).toContain('Environment `staging` · deployment **success**\n');
    expect(deploymentStatus({ verdict: 'promoted' })).toBe('success');
    expect(deploymentStatus({ verdict: 'rolled-back' })).toBe('failed');
    expect(deploymentStatus({ verdict: 'failed' })).toBe('failed');
    // The job's exit code decides, as it does for GitLab: a promoted rollout whose job failed after all is failed.
    expect(deploymentStatus({ verdict: 'promoted' }, 3)).toBe('failed');
    expect(deploymentStatus({ verdict: 'promoted' }, 0)).toBe('success');
    expect(mergeRequestNoteBody(fixture('promoted'), { environment: 'staging', exitCode: 3 })).toContain(
      'Environment `staging` · deployment **failed**\n',
    );
  });

  it('has no artifact link without the job URL (CI_JOB_URL), and no status line without an environment', () => {
    const body = mergeRequestNoteBody(fixture('promoted'), { reportFiles: ['gantry-rollout/rollout.md'] });
    expect(body).not.toContain('artifacts');
    expect(body).not.toContain('Report (job artifacts)');
    expect(body).not.toContain('deployment **');
  });

  it('escapes the links, so an odd path or URL stays one link', () => {
    const jobUrl = 'https://gitlab.example.com/g/(p)/-/jobs/7/';
    expect(artifactFileUrl(jobUrl, 'out dir/a (1)#?.md')).toBe(
      'https://gitlab.example.com/g/%28p%29/-/jobs/7/artifacts/file/out%20dir/a%20%281%29%23%3F.md',
    );
    expect(artifactFileUrl(jobUrl, './r/x*y!.svg')).toBe(
      'https://gitlab.example.com/g/%28p%29/-/jobs/7/artifacts/file/r/x%2Ay%21.svg',
    );
    expect(markdownUrl('https://x.example/a b)[c]<d>')).toBe('https://x.example/a%20b%29%5Bc%5D%3Cd%3E');
    const body = mergeRequestNoteBody(fixture('promoted'), {
      jobUrl,
      environment: 'review/x',
      environmentUrl: 'https://x.example/(a)',
      reportFiles: ['gantry-rollout/rollout_[1].md'],
    });
    expect(body).toContain('[open](https://x.example/%28a%29)');
    expect(body).toContain(
      '[rollout\\_\\[1\\].md](https://gitlab.example.com/g/%28p%29/-/jobs/7/artifacts/file/gantry-rollout/rollout_%5B1%5D.md)',
    );
    expect(body).toContain('[job log](https://gitlab.example.com/g/%28p%29/-/jobs/7/)');
  });

  it('finds the job URL and the report files the way the job keeps them', async () => {
    expect(jobUrlOf({ CI_JOB_URL: 'https://g.example/p/-/jobs/9' })).toBe('https://g.example/p/-/jobs/9');
    expect(jobUrlOf({ CI_PROJECT_URL: 'https://g.example/p/', CI_JOB_ID: '9' })).toBe(
      'https://g.example/p/-/jobs/9',
    );
    expect(jobUrlOf({ CI_PROJECT_URL: 'https://g.example/p' })).toBeUndefined();
    const cwd = mkdtempSync(join(tmpdir(), 'gantry-gl-report-'));
    mkdirSync(join(cwd, 'gantry-rollout', 'sub'), { recursive: true });
    for (const name of ['rollout.json', 'rollout.svg', 'rollout.md', 'extra.txt'])
      writeFileSync(join(cwd, 'gantry-rollout', name), 'x');
    expect(await reportFiles({ GANTRY_INPUT_REPORT: 'gantry-rollout' }, cwd)).toEqual([
      'gantry-rollout/rollout.md',
      'gantry-rollout/rollout.svg',
      'gantry-rollout/rollout.json',
      'gantry-rollout/extra.txt',
    ]);
    expect(await reportFiles({ GANTRY_INPUT_REPORT: './gantry-rollout/' }, cwd)).toHaveLength(4);
    // Outside the project directory, the job's artifacts cannot hold it: no links.
    expect(await reportFiles({ GANTRY_INPUT_REPORT: tmpdir() }, cwd)).toEqual([]);
    expect(await reportFiles({ GANTRY_INPUT_REPORT: '../x' }, cwd)).toEqual([]);
    expect(await reportFiles({ GANTRY_INPUT_REPORT: 'missing' }, cwd)).toEqual([]);
    expect(await reportFiles({}, cwd)).toEqual([]);
  });

  it('knows a merge-request pipeline from its predefined variables', () => {
    const env = {
      CI_MERGE_REQUEST_IID: '7',
      CI_PROJECT_ID: '42',
      CI_SERVER_URL: 'https://gitlab.example.com',
    };
    expect(mergeRequestTarget(env)).toEqual({
      host: 'https://gitlab.example.com',
      projectId: '42',
      mrIid: 7,
    });
    expect(mergeRequestTarget({ ...env, CI_MERGE_REQUEST_IID: undefined })).toBeUndefined();
    expect(mergeRequestTarget({ ...env, CI_MERGE_REQUEST_IID: 'x' })).toBeUndefined();
  });
});

// A stand-in for the GitLab API on 127.0.0.1: records what @gitbeaker/rest sends.
interface Recorded {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}
let server: Server;
let apiUrl: string;
const requests: Recorded[] = [];
let respondWith = 201;

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      requests.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      res.writeHead(respondWith, { 'content-type': 'application/json' });
      res.end(JSON.stringify(respondWith < 300 ? { id: 991, body: 'x' } : { message: '403 Forbidden' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('postMergeRequestNote against a local stand-in for the GitLab API', () => {
  const token = 'glpat-unit-test-token-0123456789';

  it('POSTs the body to the notes of the merge request, with the token in PRIVATE-TOKEN only', async () => {
    requests.length = 0;
    respondWith = 201;
    const note = await postMergeRequestNote({
      host: apiUrl,
      projectId: 42,
      mrIid: 7,
      token,
      body: 'hello **MR**',
    });
    expect(note).toEqual({ id: 991 });
    expect(requests).toHaveLength(1);
    const [request] = requests;
    expect(request!.method).toBe('POST');
    expect(request!.url).toBe('/api/v4/projects/42/merge_requests/7/notes');
    expect(request!.headers['private-token']).toBe(token);
    expect(JSON.parse(request!.body)).toEqual({ body: 'hello **MR**' });
    expect(request!.url).not.toContain(token);
  });

  it('encodes a project path', async () => {
    requests.length = 0;
    await postMergeRequestNote({ host: apiUrl, projectId: 'group/sub/app', mrIid: 3, token, body: 'x' });
    expect(requests[0]!.url).toBe('/api/v4/projects/group%2Fsub%2Fapp/merge_requests/3/notes');
  });

  it('a refusal is one line with the status, and never shows the token', async () => {
    respondWith = 403;
    const error = await postMergeRequestNote({
      host: apiUrl,
      projectId: 42,
      mrIid: 7,
      token,
      body: 'x',
    }).catch((e: unknown) => e);
    respondWith = 201;
    expect(error).toBeInstanceOf(InfraError);
    expect((error as Error).message).toMatch(/^merge request note on !7 failed \(HTTP 403\): /);
    expect((error as Error).message).not.toContain(token);
    expect((error as Error).message).not.toContain('\n');
  });
});

describe('runGitLabJob with a stand-in gantry', () => {
  /** A `gantry` that records its argv and prints `result` (exit `code`), like the real CLI with --json. */
  function fakeGantry(result: object, code = 0): { file: string; argvFile: string } {
    const dir = mkdtempSync(join(tmpdir(), 'gantry-gl-fake-'));
    const argvFile = join(dir, 'argv.json');
    const script = join(dir, 'gantry.mjs');
    writeFileSync(
      script,
      [
        "import { writeFileSync } from 'node:fs';",
        `writeFileSync(${JSON.stringify(argvFile)}, JSON.stringify(process.argv.slice(2)));`,
        "process.stderr.write('progress line\\n');",
        `process.stdout.write(${JSON.stringify(`${JSON.stringify(result)}\n`)});`,
        `process.exitCode = ${code};`,
      ].join('\n'),
    );
    const file = join(dir, 'gantry');
    writeFileSync(file, `#!/bin/sh\nexec "${process.execPath}" "${script}" "$@"\n`);
    chmodSync(file, 0o755);
    return { file, argvFile };
  }

  it('writes the result and the dotenv report, and exits with gantry exit code', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'gantry-gl-job-'));
    const scan = {
      image: 'x',
      passed: false,
      threshold: 'high',
      counts: { critical: 0, high: 1, medium: 0, low: 0, unknown: 0 },
      findings: [],
    };
    const gantry = fakeGantry(scan, 1);
    const lines: string[] = [];
    const code = await runGitLabJob('scan', {
      env: { ...process.env, GANTRY_INPUT_IMAGE: 'reg/app@sha256:x', GANTRY_INPUT_SEVERITY_THRESHOLD: '' },
      cwd,
      gantry: gantry.file,
      write: (line) => lines.push(line),
    });
    expect(code).toBe(1);
    expect(JSON.parse(readFileSync(gantry.argvFile, 'utf8'))).toEqual([
      'scan',
      '--json',
      '--image',
      'reg/app@sha256:x',
    ]);
    expect(JSON.parse(readFileSync(join(cwd, resultFile('scan')), 'utf8'))).toEqual(scan);
    expect(parseLikeGitLab(readFileSync(join(cwd, dotenvFile('scan')), 'utf8'))).toMatchObject({
      GANTRY_SCAN_PASSED: 'false',
      GANTRY_SCAN_HIGH: '1',
    });
    expect(lines[0]).toBe(`$ ${gantry.file} scan --json --image reg/app@sha256:x`);
  });

  it('a bad input fails before gantry runs: exit 2, one line, and the error in the result', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'gantry-gl-job-'));
    const gantry = fakeGantry({});
    const lines: string[] = [];
    const code = await runGitLabJob('build', {
      env: { GANTRY_INPUT_RETRIES: 'many' },
      cwd,
      gantry: gantry.file,
      write: (line) => lines.push(line),
    });
    expect(code).toBe(2);
    expect(lines).toEqual(['gantry-gitlab: input "retries": expected a number, got "many"']);
    expect(JSON.parse(readFileSync(join(cwd, resultFile('build')), 'utf8'))).toEqual({
      error: 'input "retries": expected a number, got "many"',
      exitCode: 2,
    });
  });

  it('says clearly when gantry is not installed (exit 3)', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'gantry-gl-job-'));
    const lines: string[] = [];
    const code = await runGitLabJob('push', {
      env: { PATH: '/nonexistent' },
      cwd,
      gantry: 'gantry-not-installed-here',
      write: (line) => lines.push(line),
    });
    expect(code).toBe(3);
    expect(lines.at(-1)).toBe(
      'gantry-gitlab: "gantry-not-installed-here" is not on PATH: run the job in the tool image (input gantry-image) or install gantry on the runner',
    );
  });

  it('deploy in a merge-request pipeline posts the note; the token reaches neither gantry, the log nor a file', async () => {
    requests.length = 0;
    const cwd = mkdtempSync(join(tmpdir(), 'gantry-gl-job-'));
    const report = fixture('promoted');
    const gantry = fakeGantry({ ...report, reports: null, apiRequests: 3 });
    const token = 'glpat-job-test-token-abcdef';
    const lines: string[] = [];
    // What gantry deploy --report gantry-rollout leaves in the project directory.
    mkdirSync(join(cwd, 'gantry-rollout'));
    for (const name of ['rollout.json', 'rollout.md', 'rollout.svg'])
      writeFileSync(join(cwd, 'gantry-rollout', name), 'x');
    const code = await runGitLabJob('deploy', {
      env: {
        PATH: process.env.PATH,
        GANTRY_INPUT_GITLAB_TOKEN: token,
        GANTRY_INPUT_MANIFESTS: '["k8s"]',
        GANTRY_INPUT_REPORT: 'gantry-rollout',
        CI_MERGE_REQUEST_IID: '12',
        CI_PROJECT_ID: '42',
        CI_SERVER_URL: apiUrl,
        CI_JOB_URL: 'https://gitlab.example.com/shop/web/-/jobs/1',
        CI_ENVIRONMENT_NAME: 'staging',
        CI_ENVIRONMENT_URL: 'https://staging.shop.example.com',
      },
      cwd,
      gantry: gantry.file,
      write: (line) => lines.push(line),
    });
    expect(code).toBe(0);
    expect(requests).toHaveLength(1);
    expect(requests[0]!.url).toBe('/api/v4/projects/42/merge_requests/12/notes');
    expect(requests[0]!.headers['private-token']).toBe(token);
    expect(JSON.parse(requests[0]!.body).body).toBe(
      mergeRequestNoteBody(report, {
        jobUrl: 'https://gitlab.example.com/shop/web/-/jobs/1',
        environment: 'staging',
        environmentUrl: 'https://staging.shop.example.com',
        reportFiles: [
          'gantry-rollout/rollout.md',
          'gantry-rollout/rollout.svg',
          'gantry-rollout/rollout.json',
        ],
        exitCode: 0,
      }),
    );
    expect(JSON.parse(requests[0]!.body).body).toContain(
      '[rollout.md](https://gitlab.example.com/shop/web/-/jobs/1/artifacts/file/gantry-rollout/rollout.md)',
    );
    expect(lines.at(-1)).toBe('gantry-gitlab: rollout summary posted on !12 (note 991)');
    const argv = readFileSync(gantry.argvFile, 'utf8');
    const written = [argv, lines.join('\n'), readFileSync(join(cwd, resultFile('deploy')), 'utf8')];
    written.push(readFileSync(join(cwd, dotenvFile('deploy')), 'utf8'));
    for (const text of written) expect(text).not.toContain(token);
  });

  it('the note gives the deployment the status of the job, from the exit code the job ends with', async () => {
    requests.length = 0;
    const cwd = mkdtempSync(join(tmpdir(), 'gantry-gl-job-'));
    // A promoted rollout whose gantry still failed (exit 4): GitLab marks the job's deployment failed.
    const gantry = fakeGantry({ ...fixture('promoted') }, 4);
    const code = await runGitLabJob('deploy', {
      env: {
        GANTRY_INPUT_GITLAB_TOKEN: 'glpat-xyz-123456',
        CI_MERGE_REQUEST_IID: '12',
        CI_PROJECT_ID: '42',
        CI_SERVER_URL: apiUrl,
        CI_ENVIRONMENT_NAME: 'production',
      },
      cwd,
      gantry: gantry.file,
      write: () => {},
    });
    expect(code).toBe(4);
    expect(requests).toHaveLength(1);
    expect(JSON.parse(requests[0]!.body).body).toContain(
      'Environment `production` · deployment **failed**\n',
    );
  });

  it('deploy outside a merge request says why no note is posted, and still succeeds', async () => {
    requests.length = 0;
    const cwd = mkdtempSync(join(tmpdir(), 'gantry-gl-job-'));
    const gantry = fakeGantry({ ...fixture('promoted') });
    const lines: string[] = [];
    const code = await runGitLabJob('deploy', {
      env: { GANTRY_INPUT_GITLAB_TOKEN: 'glpat-xyz-123456' },
      cwd,
      gantry: gantry.file,
      write: (line) => lines.push(line),
    });
    expect(code).toBe(0);
    expect(requests).toHaveLength(0);
    expect(lines.at(-1)).toBe(
      'gantry-gitlab: not a merge-request pipeline, so no note is posted (input gitlab-token is set)',
    );
  });
});
