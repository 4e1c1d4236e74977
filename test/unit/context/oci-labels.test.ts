import { describe, expect, it } from 'vitest';
import { createdTimestamp, ociLabels, parseLabelEntries } from '../../../src/context/oci-labels.js';
import type { BuildContext } from '../../../src/context/types.js';
import { HEAD_SHA } from './fixtures.js';

const context: BuildContext = {
  platform: 'gitlab',
  sha: HEAD_SHA,
  refType: 'tag',
  ref: 'refs/tags/v1.2.3',
  tag: 'v1.2.3',
  isDefaultBranch: false,
  repository: 'acme/platform/shop',
  repositoryUrl: 'https://gitlab.com/acme/platform/shop',
  runId: '1',
  commitTimestamp: '2024-05-14T09:30:00.000Z',
};
const NOW = new Date('2024-06-01T00:00:00.000Z');

describe('ociLabels', () => {
  it('fills the OCI labels the way metadata-action does, sorted by key', () => {
    const labels = ociLabels(context, {
      version: '1.2.3',
      licenses: 'Apache-2.0',
      description: 'The shop',
      now: NOW,
    });
    expect(labels).toEqual({
      'org.opencontainers.image.created': '2024-05-14T09:30:00.000Z',
      'org.opencontainers.image.description': 'The shop',
      'org.opencontainers.image.licenses': 'Apache-2.0',
      'org.opencontainers.image.revision': HEAD_SHA,
      'org.opencontainers.image.source': 'https://gitlab.com/acme/platform/shop',
      'org.opencontainers.image.title': 'shop',
      'org.opencontainers.image.url': 'https://gitlab.com/acme/platform/shop',
      'org.opencontainers.image.version': '1.2.3',
    });
    expect(Object.keys(labels)).toEqual([...Object.keys(labels)].sort());
  });

  it('leaves out labels without a value', () => {
    const bare: BuildContext = {
      platform: 'local',
      refType: 'unknown',
      isDefaultBranch: false,
      repository: 'shop',
      runId: 'r',
    };
    expect(ociLabels(bare, { now: NOW })).toEqual({
      'org.opencontainers.image.created': '2024-06-01T00:00:00.000Z',
      'org.opencontainers.image.title': 'shop',
    });
  });

  it('lets users add, override and remove labels', () => {
    const labels = ociLabels(context, {
      version: '1.2.3',
      title: 'Shop API',
      extra: {
        'org.opencontainers.image.vendor': 'ACME',
        'org.opencontainers.image.version': '1.2.3-custom',
        'org.opencontainers.image.url': '',
        'com.acme.team': 'payments',
      },
    });
    expect(labels).toMatchObject({
      'com.acme.team': 'payments',
      'org.opencontainers.image.title': 'Shop API',
      'org.opencontainers.image.vendor': 'ACME',
      'org.opencontainers.image.version': '1.2.3-custom',
    });
    expect(labels).not.toHaveProperty('org.opencontainers.image.url');
    expect(Object.keys(labels)[0]).toBe('com.acme.team');
  });
});

describe('createdTimestamp', () => {
  it.each<[string, Partial<BuildContext>, Date | string | undefined, string]>([
    [
      'an explicit value wins',
      { sourceDateEpoch: 0 },
      '2024-01-02T03:04:05+01:00',
      '2024-01-02T02:04:05.000Z',
    ],
    ['then SOURCE_DATE_EPOCH', { sourceDateEpoch: 1715679000 }, undefined, '2024-05-14T09:30:00.000Z'],
    ['then the commit time', {}, undefined, '2024-05-14T09:30:00.000Z'],
    ['then now', { commitTimestamp: undefined }, undefined, '2024-06-01T00:00:00.000Z'],
  ])('%s', (_case, overrides, explicit, expected) => {
    expect(createdTimestamp({ ...context, ...overrides }, explicit, NOW)).toBe(expected);
  });

  it('rejects an explicit value that is not a timestamp', () => {
    expect(() => createdTimestamp(context, 'last tuesday')).toThrow(
      /^--created: expected an ISO 8601 timestamp, found "last tuesday"$/,
    );
  });
});

describe('parseLabelEntries', () => {
  it('splits at the first "="', () => {
    expect(parseLabelEntries(['a=1', 'com.acme.query=x=y', 'empty='])).toEqual({
      a: '1',
      'com.acme.query': 'x=y',
      empty: '',
    });
  });

  it.each(['novalue', '=x', 'a b=c'])('rejects %j', (entry) => {
    expect(() => parseLabelEntries([entry])).toThrow(/^--label: expected key=value with a non-empty key/);
  });
});
