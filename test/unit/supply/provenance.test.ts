import { describe, expect, it } from 'vitest';
import {
  readGitHubContext,
  readGitHubEvent,
  readGitLabContext,
  readJenkinsContext,
} from '../../../src/context/index.js';
import type { BuildContext } from '../../../src/context/types.js';
import {
  baseImagesOf,
  builderId,
  buildStatement,
  GANTRY_BUILD_TYPE,
  type ProvenanceInput,
  provenancePredicate,
  provenanceStatement,
  qualify,
  resubject,
} from '../../../src/supply/provenance.js';
import {
  provenanceStatementProblem,
  slsaProvenanceStatementSchema,
} from '../../../src/supply/provenance-schema.js';
import { HEAD_SHA, loadEnvFixture } from '../context/fixtures.js';

const DIGEST = `sha256:${'ab'.repeat(32)}`;
const IMAGE_ID = `sha256:${'cd'.repeat(32)}`;

const local: BuildContext = {
  platform: 'local',
  sha: HEAD_SHA,
  ref: 'refs/heads/main',
  refType: 'branch',
  branch: 'main',
  isDefaultBranch: true,
  repository: 'shop',
  repositoryUrl: 'https://git.example.com/team/shop',
  runId: 'local-20261207T170000Z',
};

function input(context: BuildContext, env: Record<string, string> = {}): ProvenanceInput {
  return {
    context,
    env,
    contextDir: '/repo/app',
    dockerfile: '/repo/app/Dockerfile',
    repositoryRoot: '/repo',
    target: 'runtime',
    platforms: ['linux/amd64'],
    buildArgs: { NODE_VERSION: '22', NPM_TOKEN: 'npm_s3cr3t-value' },
    secretIds: ['npmrc'],
    refs: ['registry.example.com/team/shop:1.2.3', 'registry.example.com/team/shop:latest'],
    builder: 'buildah',
    baseImages: [
      { uri: 'docker://docker.io/library/node:22', name: 'node:22', digest: { sha256: 'ef'.repeat(32) } },
    ],
    startedOn: new Date('2026-12-07T17:00:00.000Z'),
    finishedOn: new Date('2026-12-07T17:01:30.500Z'),
  };
}

const githubEnv = (): Record<string, string> => {
  const env = loadEnvFixture('github', 'push-main');
  return {
    ...env,
    GITHUB_WORKFLOW_REF: `${env.GITHUB_REPOSITORY}/.github/workflows/release.yml@refs/heads/main`,
  };
};

describe('provenancePredicate', () => {
  it('is a valid SLSA v1 statement with the build definition and run details', () => {
    const statement = provenanceStatement(
      `registry.example.com/team/shop@${DIGEST}`,
      provenancePredicate(input(local)),
    );
    expect(provenanceStatementProblem(statement)).toBeUndefined();
    expect(statement.predicate.buildDefinition).toEqual({
      buildType: GANTRY_BUILD_TYPE,
      externalParameters: {
        context: 'app',
        dockerfile: 'app/Dockerfile',
        target: 'runtime',
        platforms: ['linux/amd64'],
        buildArgs: ['NODE_VERSION', 'NPM_TOKEN'],
        secrets: ['npmrc'],
        tags: ['registry.example.com/team/shop:1.2.3', 'registry.example.com/team/shop:latest'],
      },
      internalParameters: { builder: 'buildah', gantryVersion: expect.any(String) },
      resolvedDependencies: [
        {
          uri: 'git+https://git.example.com/team/shop@refs/heads/main',
          digest: { gitCommit: HEAD_SHA },
        },
        { uri: 'docker://docker.io/library/node:22', name: 'node:22', digest: { sha256: 'ef'.repeat(32) } },
      ],
    });
    expect(statement.predicate.runDetails.metadata).toEqual({
      invocationId: 'local-20261207T170000Z',
      startedOn: '2026-12-07T17:00:00.000Z',
      finishedOn: '2026-12-07T17:01:30.500Z',
    });
    expect(statement.subject).toEqual([
      { name: 'registry.example.com/team/shop', digest: { sha256: 'ab'.repeat(32) } },
    ]);
  });

  it('records build argument names, never their values', () => {
    const text = JSON.stringify(provenancePredicate(input(local)));
    expect(text).toContain('NPM_TOKEN');
    expect(text).not.toContain('npm_s3cr3t-value');
    expect(text).not.toContain('"22"');
  });

  it.each<[string, () => { context: BuildContext; env: Record<string, string> }, RegExp, RegExp]>([
    [
      'GitHub: the workflow file at its ref; the run (with attempt) as invocation',
      () => {
        const env = githubEnv();
        return { context: readGitHubContext(env, readGitHubEvent(env.GITHUB_EVENT_PATH) as never), env };
      },
      /^https:\/\/github\.com\/[^/]+\/[^/]+\/\.github\/workflows\/release\.yml@refs\/heads\/main$/,
      /^https:\/\/github\.com\/.+\/actions\/runs\/\d+/,
    ],
    [
      "GitLab: the job's URL",
      () => {
        const env = loadEnvFixture('gitlab', 'push-main');
        return { context: readGitLabContext(env), env };
      },
      /^https:\/\/.+\/-\/jobs\/\d+$/,
      /^https:\/\/.+\/-\/jobs\/\d+$/,
    ],
    [
      "Jenkins: the build's URL",
      () => {
        const env = loadEnvFixture('jenkins', 'push-main');
        return { context: readJenkinsContext(env), env };
      },
      /^https?:\/\/.+\/job\/.+\/\d+\/$/,
      /^https?:\/\/.+\/job\/.+\/\d+\/$/,
    ],
  ])('%s', (_name, make, builder, invocation) => {
    const { context, env } = make();
    const predicate = provenancePredicate(input(context, env));
    expect(predicate.runDetails.builder.id).toMatch(builder);
    expect(predicate.runDetails.metadata.invocationId).toMatch(invocation);
    const source = predicate.buildDefinition.resolvedDependencies[0]!;
    expect(source.uri).toMatch(/^git\+https?:\/\/.+@refs\/heads\/main$/);
    expect(source.digest).toEqual({ gitCommit: context.sha });
    const statement = provenanceStatement(`registry.example.com/team/shop@${DIGEST}`, predicate);
    expect(provenanceStatementProblem(statement)).toBeUndefined();
  });

  it('local builds name Gantry on this machine as the builder', () => {
    expect(builderId(local, {})).toBe('urn:gantry:builder:local');
  });

  it('has no source dependency outside a repository, and marks a dirty tree', () => {
    const noSha = provenancePredicate(input({ ...local, sha: undefined }));
    expect(noSha.buildDefinition.resolvedDependencies.map((d) => d.name)).toEqual(['node:22']);
    const dirty = provenancePredicate(input({ ...local, dirty: true }));
    expect(dirty.buildDefinition.resolvedDependencies[0]!.annotations).toEqual({ dirty: true });
  });
});

describe('buildStatement', () => {
  const predicate = provenancePredicate(input(local));
  it('is about the manifest digest when the build knows it', () => {
    const statement = buildStatement('r.example/app', { manifest: DIGEST, imageId: IMAGE_ID }, predicate)!;
    expect(statement.subject[0]!.digest.sha256).toBe('ab'.repeat(32));
  });
  it('falls back to the local image id, and is re-issued about the pushed digest', () => {
    const statement = buildStatement('r.example/app', { imageId: IMAGE_ID }, predicate)!;
    expect(statement.subject[0]!.digest.sha256).toBe('cd'.repeat(32));
    const pushed = resubject(statement, `r.example/app@${DIGEST}`);
    expect(pushed.subject[0]!.digest.sha256).toBe('ab'.repeat(32));
    expect(pushed.predicate).toBe(statement.predicate);
  });
  it('is none without any digest', () => {
    expect(buildStatement('r.example/app', {}, predicate)).toBeUndefined();
  });
});

describe('the in-toto Statement v1 / SLSA v1 schema', () => {
  // biome-ignore lint/suspicious/noExplicitAny: a JSON document mutated field by field
  type Json = Record<string, any>;
  const valid = (): Json =>
    JSON.parse(
      JSON.stringify(provenanceStatement(`r.example/app@${DIGEST}`, provenancePredicate(input(local)))),
    );

  it.each<[string, (s: Json) => void, RegExp]>([
    ['wrong _type', (s) => (s._type = 'https://in-toto.io/Statement/v0.1'), /^_type:/],
    ['no subject', (s) => (s.subject = []), /^subject: .*at least one subject/],
    ['a subject without digest', (s) => delete s.subject[0].digest, /^subject\.0/],
    [
      'an upper-case digest',
      (s) => (s.subject[0].digest.sha256 = 'AB'.repeat(32)),
      /^subject\.0\.digest\.sha256/,
    ],
    [
      'another predicate type',
      (s) => (s.predicateType = 'https://slsa.dev/provenance/v0.2'),
      /^predicateType:/,
    ],
    [
      'no buildType',
      (s) => delete s.predicate.buildDefinition.buildType,
      /^predicate\.buildDefinition\.buildType/,
    ],
    [
      'a buildType that is no URI',
      (s) => (s.predicate.buildDefinition.buildType = 'gantry'),
      /buildType: expected a URI/,
    ],
    [
      'no externalParameters',
      (s) => delete s.predicate.buildDefinition.externalParameters,
      /^predicate\.buildDefinition\.externalParameters/,
    ],
    ['no runDetails', (s) => delete s.predicate.runDetails, /^predicate\.runDetails/],
    ['no builder id', (s) => delete s.predicate.runDetails.builder.id, /^predicate\.runDetails\.builder\.id/],
    [
      'a non-UTC start',
      (s) => (s.predicate.runDetails.metadata.startedOn = '2026-12-07 17:00'),
      /startedOn: expected an RFC 3339 UTC time/,
    ],
    [
      'a dependency with neither uri, digest nor content',
      (s) => s.predicate.buildDefinition.resolvedDependencies.push({ name: 'x' }),
      /resolvedDependencies\.2: a ResourceDescriptor needs at least one of uri, digest or content/,
    ],
  ])('refuses %s', (_name, mutate, problem) => {
    const statement = valid();
    expect(slsaProvenanceStatementSchema.safeParse(statement).success).toBe(true);
    mutate(statement);
    expect(provenanceStatementProblem(statement)).toMatch(problem);
  });
});

describe('baseImagesOf', () => {
  it.each<[string, string, Record<string, string>, string[]]>([
    ['one image', 'FROM alpine:3.20\nRUN true\n', {}, ['alpine:3.20']],
    ['scratch is no dependency', 'FROM scratch\nCOPY a /\n', {}, []],
    [
      'stages are not images; --platform is skipped',
      'FROM --platform=$BUILDPLATFORM golang:1.23 AS build\nFROM build AS test\nFROM gcr.io/distroless/static\nCOPY --from=build /a /\n',
      {},
      ['golang:1.23', 'gcr.io/distroless/static'],
    ],
    ['global ARG defaults', `ARG BASE=node:22\nFROM \${BASE}\n`, {}, ['node:22']],
    [
      'build args override the defaults',
      'ARG BASE=node:22\nARG TAG\nFROM $BASE\n',
      { BASE: 'node:24' },
      ['node:24'],
    ],
    [
      'continued lines and comments',
      '# syntax=docker/dockerfile:1\nFROM \\\n  debian:12 \\\n  AS base\n',
      {},
      ['debian:12'],
    ],
    ['each image once', 'FROM a:1 AS x\nFROM a:1 AS y\n', {}, ['a:1']],
  ])('%s', (_name, text, args, expected) => {
    expect(baseImagesOf(text, args)).toEqual(expected);
  });
});

describe('qualify', () => {
  it.each([
    ['alpine', 'docker.io/library/alpine:latest'],
    ['alpine:3.20', 'docker.io/library/alpine:3.20'],
    ['team/app:1', 'docker.io/team/app:1'],
    ['127.0.0.1:5000/base:1', '127.0.0.1:5000/base:1'],
    ['localhost/base', 'localhost/base:latest'],
    [`ghcr.io/o/b@${DIGEST}`, `ghcr.io/o/b@${DIGEST}`],
  ])('%s → %s', (ref, expected) => {
    expect(qualify(ref)).toBe(expected);
  });
});
