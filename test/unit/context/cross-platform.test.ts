import { describe, expect, it } from 'vitest';
import { computeTags, imageRefs, ociLabels, readBuildContext } from '../../../src/context/index.js';
import type { BuildContext } from '../../../src/context/types.js';
import { HEAD_SHA, loadEnvFixture } from './fixtures.js';

/**
 * The promise Gantry makes: the same commit in the same situation gets the same tags and the same labels on
 * GitHub Actions, GitLab CI and Jenkins. Each platform's environment was recorded from its documented
 * predefined variables (test/fixtures/context/<platform>/<situation>.json) for the commit HEAD_SHA of
 * acme/shop, hosted at github.com (GitHub, Jenkins) and mirrored at gitlab.com (GitLab).
 */
const PLATFORMS = ['github', 'gitlab', 'jenkins'] as const;
const NOW = new Date('2024-05-15T03:00:00.000Z');
const SHORT = `sha-${HEAD_SHA.slice(0, 7)}`;
const LONG = `sha-${HEAD_SHA}`;

/** metadata-action rules beyond Gantry's defaults, to exercise schedule, edge, raw + is_default_branch and latest. */
const EXTENDED_RULES = [
  "type=schedule,pattern=nightly-{{date 'YYYYMMDD'}}",
  'type=ref,event=branch',
  'type=ref,event=tag',
  'type=ref,event=pr',
  'type=semver,pattern={{version}}',
  'type=semver,pattern={{major}}',
  'type=edge',
  'type=raw,value=stable,enable={{is_default_branch}}',
  'type=sha,format=long',
];

interface Situation {
  name: string;
  defaultTags: string[];
  extendedTags: string[];
  /** Context fields every platform must report identically. */
  agreed: Partial<BuildContext>;
}

const SITUATIONS: Situation[] = [
  {
    name: 'push-main',
    defaultTags: ['main', SHORT],
    extendedTags: ['edge', 'main', 'stable', LONG],
    agreed: {
      ref: 'refs/heads/main',
      refType: 'branch',
      branch: 'main',
      isDefaultBranch: true,
      eventName: 'push',
    },
  },
  {
    name: 'push-feature',
    defaultTags: ['feature-Login-Page', SHORT],
    extendedTags: ['feature-Login-Page', LONG],
    agreed: {
      ref: 'refs/heads/feature/Login-Page',
      refType: 'branch',
      branch: 'feature/Login-Page',
      isDefaultBranch: false,
      eventName: 'push',
    },
  },
  {
    name: 'pr-42',
    defaultTags: ['pr-42', SHORT],
    extendedTags: ['pr-42', LONG],
    agreed: {
      refType: 'pr',
      prNumber: 42,
      branch: 'feature/Login-Page',
      baseRef: 'main',
      isDefaultBranch: false,
      eventName: 'pull_request',
    },
  },
  {
    name: 'tag-v1.2.3',
    defaultTags: ['1.2.3', '1.2', SHORT, 'latest'],
    extendedTags: ['1.2.3', '1', 'v1.2.3', LONG, 'latest'],
    agreed: {
      ref: 'refs/tags/v1.2.3',
      refType: 'tag',
      tag: 'v1.2.3',
      isDefaultBranch: false,
      eventName: 'push',
    },
  },
  {
    name: 'tag-v2.0.0-rc.1',
    defaultTags: ['2.0.0-rc.1', SHORT],
    extendedTags: ['2.0.0-rc.1', 'v2.0.0-rc.1', LONG],
    agreed: {
      ref: 'refs/tags/v2.0.0-rc.1',
      refType: 'tag',
      tag: 'v2.0.0-rc.1',
      isDefaultBranch: false,
      eventName: 'push',
    },
  },
  {
    name: 'schedule-main',
    defaultTags: ['main', SHORT],
    extendedTags: ['nightly-20240515', 'edge', 'main', 'stable', LONG],
    agreed: {
      ref: 'refs/heads/main',
      refType: 'branch',
      branch: 'main',
      isDefaultBranch: true,
      eventName: 'schedule',
    },
  },
];

/** Where each platform says the repository lives: the only labels allowed to differ besides `created`. */
const REPOSITORY_URL = {
  github: 'https://github.com/acme/shop',
  gitlab: 'https://gitlab.com/acme/shop',
  jenkins: 'https://github.com/acme/shop',
} as const;

async function contexts(situation: string): Promise<Array<[(typeof PLATFORMS)[number], BuildContext]>> {
  return Promise.all(
    PLATFORMS.map(async (platform) => {
      // No git enrichment: the recorded commit exists in no checkout here, and the test must not depend on one.
      const context = await readBuildContext(loadEnvFixture(platform, situation), {
        readCommitTimestampFromGit: false,
      });
      return [platform, context] as [(typeof PLATFORMS)[number], BuildContext];
    }),
  );
}

describe.each(SITUATIONS)('$name', ({ name, defaultTags, extendedTags, agreed }) => {
  it('is read as the same commit and situation on every platform', async () => {
    for (const [platform, context] of await contexts(name)) {
      expect(context.platform).toBe(platform);
      expect(context, platform).toMatchObject({
        sha: HEAD_SHA,
        repository: 'acme/shop',
        defaultBranch: 'main',
        ...agreed,
      });
    }
  });

  it('gets identical tags from the default rules', async () => {
    for (const [platform, context] of await contexts(name)) {
      expect(computeTags(context, { now: NOW }).tags, platform).toEqual(defaultTags);
      expect(
        imageRefs('registry.acme.example/acme/shop', computeTags(context, { now: NOW }).tags),
        platform,
      ).toEqual(defaultTags.map((tag) => `registry.acme.example/acme/shop:${tag}`));
    }
  });

  it('gets identical tags from schedule, edge, raw and long-sha rules', async () => {
    for (const [platform, context] of await contexts(name)) {
      expect(computeTags(context, { rules: EXTENDED_RULES, now: NOW }).tags, platform).toEqual(extendedTags);
    }
  });

  it('gets identical labels apart from the repository URL', async () => {
    const labelSets = (await contexts(name)).map(([platform, context]) => {
      const { version } = computeTags(context, { now: NOW });
      const labels = ociLabels(context, { version, licenses: 'Apache-2.0', created: '2024-05-15T03:00:00Z' });
      // Repository URLs legitimately name the host each platform reads the repository from.
      expect(labels['org.opencontainers.image.source'], platform).toBe(REPOSITORY_URL[platform]);
      expect(labels['org.opencontainers.image.url'], platform).toBe(REPOSITORY_URL[platform]);
      const {
        'org.opencontainers.image.source': _source,
        'org.opencontainers.image.url': _url,
        ...rest
      } = labels;
      return rest;
    });
    expect(labelSets[0]).toEqual({
      'org.opencontainers.image.created': '2024-05-15T03:00:00.000Z',
      'org.opencontainers.image.licenses': 'Apache-2.0',
      'org.opencontainers.image.revision': HEAD_SHA,
      'org.opencontainers.image.title': 'shop',
      'org.opencontainers.image.version': defaultTags[0],
    });
    for (const labels of labelSets.slice(1)) expect(labels).toEqual(labelSets[0]);
  });

  it('dates the image from the commit where the platform knows when it was made', async () => {
    for (const [platform, context] of await contexts(name)) {
      const created = ociLabels(context, { now: NOW })['org.opencontainers.image.created'];
      // GitHub reports the commit time for pushes only, GitLab always, Jenkins never (the checkout fills it in).
      const known = context.commitTimestamp !== undefined;
      expect(created, platform).toBe(known ? '2024-05-14T09:30:00.000Z' : NOW.toISOString());
    }
  });
});
