import { describe, expect, it } from 'vitest';
import { DEFAULT_TAG_RULES, parseFlavor, parseTagRule, parseTagRules } from '../../../src/context/rules.js';
import { InputError } from '../../../src/util/errors.js';

describe('parseTagRule', () => {
  it.each([
    ['type=ref,event=branch', { type: 'ref', event: 'branch', enable: 'true', priority: 600 }],
    ['type=ref,event=pr', { type: 'ref', event: 'pr', prefix: 'pr-', enable: 'true', priority: 600 }],
    ['type=ref,event=pr,prefix=', { type: 'ref', event: 'pr', prefix: '', enable: 'true', priority: 600 }],
    ['type=semver,pattern={{version}}', { type: 'semver', pattern: '{{version}}', value: '', priority: 900 }],
    ['type=semver,pattern=v{{major}},value=2.1.0', { type: 'semver', pattern: 'v{{major}}', value: '2.1.0' }],
    ['type=sha', { type: 'sha', format: 'short', prefix: 'sha-', priority: 100 }],
    ['type=sha,format=long,prefix=', { type: 'sha', format: 'long', prefix: '' }],
    ['type=schedule', { type: 'schedule', pattern: 'nightly', priority: 1000 }],
    ["type=schedule,pattern={{date 'YYYYMMDD'}}", { type: 'schedule', pattern: "{{date 'YYYYMMDD'}}" }],
    ['type=edge', { type: 'edge', branch: '', priority: 700 }],
    ['type=edge,branch=develop', { type: 'edge', branch: 'develop' }],
    [
      'type=raw,value=stable,enable={{is_default_branch}}',
      { type: 'raw', value: 'stable', enable: '{{is_default_branch}}' },
    ],
    ['type=raw,value=x,priority=2000', { type: 'raw', value: 'x', priority: 2000 }],
    ['stable', { type: 'raw', value: 'stable', priority: 200 }],
    [' TYPE = raw , VALUE = spaced ', { type: 'raw', value: 'spaced' }],
    ['type=match,pattern=\\d+.\\d+', { type: 'match', pattern: '\\d+.\\d+', group: 0, value: '' }],
    ['type=match,"pattern=/v(\\d{1,3})/",group=1', { type: 'match', pattern: '/v(\\d{1,3})/', group: 1 }],
    ['type=raw,"value=a,b"', { type: 'raw', value: 'a,b' }],
  ])('parses %s', (source, expected) => {
    expect(parseTagRule(source)).toMatchObject({ ...expected, source });
  });

  it.each([
    [
      'type=foo',
      /"type=foo": unknown type "foo"; expected one of schedule, semver, match, edge, ref, raw, sha/,
    ],
    ['type=pep440,pattern={{version}}', /type=pep440 is not supported; use type=semver or type=match/],
    ['type=ref', /type=ref needs event=branch\|tag\|pr/],
    ['type=ref,event=branches', /event must be one of branch, tag, pr, found "branches"/],
    ['type=ref,evnt=branch,event=tag', /type=ref has no attribute "evnt"/],
    ['type=semver', /type=semver needs pattern=…/],
    ['type=semver,pattern=', /pattern must not be empty/],
    [
      'type=semver,pattern={{majr}}',
      /pattern uses unknown expression \{\{majr\}\}; expected one of raw, version/,
    ],
    ['type=raw', /type=raw needs value=…/],
    ['type=raw,value={{brnch}}', /value uses unknown expression \{\{brnch\}\}/],
    ['type=raw,value=x,enable={{is_default}}', /enable uses unknown expression \{\{is_default\}\}/],
    ['type=sha,format=medium', /format must be one of short, long, found "medium"/],
    ['type=sha,priority=high', /priority must be an integer, found "high"/],
    ['type=match,pattern=(', /pattern is not a valid regular expression/],
    ['type=match,pattern=x,group=one', /group must be a group number, found "one"/],
    ['type=raw,value=a,value=b', /value is given twice/],
    ['type=raw,"value=a', /a double quote is not closed/],
  ])('rejects %s', (source, why) => {
    let error: unknown;
    try {
      parseTagRule(source);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).input).toBe('--tag-rule');
    expect((error as InputError).message).toMatch(why);
  });
});

describe('parseTagRules', () => {
  it('uses the default rules for an empty list, ordered by priority', () => {
    expect(parseTagRules([]).map((rule) => rule.source)).toEqual([
      'type=semver,pattern={{version}}',
      'type=semver,pattern={{major}}.{{minor}}',
      'type=ref,event=branch',
      'type=ref,event=pr',
      'type=sha',
    ]);
    expect(DEFAULT_TAG_RULES).toHaveLength(5);
  });

  it('keeps the written order for equal priorities and skips blank and comment lines', () => {
    const rules = parseTagRules([
      'type=sha',
      '',
      '# a comment',
      'type=raw,value=b',
      'type=raw,value=a',
      'type=ref,event=tag',
    ]);
    expect(rules.map((rule) => rule.source)).toEqual([
      'type=ref,event=tag',
      'type=raw,value=b',
      'type=raw,value=a',
      'type=sha',
    ]);
  });
});

describe('parseFlavor', () => {
  it.each([
    [[], { latest: 'auto', prefix: '', prefixLatest: false, suffix: '', suffixLatest: false }],
    [['latest=false'], { latest: 'false' }],
    [['latest=true', 'prefix=app-'], { latest: 'true', prefix: 'app-', prefixLatest: false }],
    [['prefix=app-,onlatest=true'], { prefix: 'app-', prefixLatest: true }],
    [['suffix=-alpine,onlatest=true', 'prefix=x-'], { suffix: '-alpine', suffixLatest: true, prefix: 'x-' }],
  ])('parses %j', (entries, expected) => {
    expect(parseFlavor(entries)).toMatchObject(expected);
  });

  it.each([
    [['latest=maybe'], /latest must be auto, true or false, found "maybe"/],
    [['latest'], /expected key=value, found "latest"/],
    [['onlatest=true'], /onlatest must follow prefix= or suffix=/],
    [['prefix=a,onlatest=yes'], /onlatest must be true or false/],
    [['labelprefix=x'], /unknown flavor "labelprefix"/],
  ])('rejects %j', (entries, why) => {
    expect(() => parseFlavor(entries)).toThrow(why);
    expect(() => parseFlavor(entries)).toThrow(/^--flavor: /);
  });
});
