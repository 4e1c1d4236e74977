import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type RawInputs, resolveConfig } from '../../../src/config/load.js';
import { canarySteps } from '../../../src/deploy/index.js';
import { InputError } from '../../../src/util/errors.js';

// Canary steps with their own pauses and gates, as every front end gives them: the short form on the command
// line (`--steps 5:2m,25:until-promoted,50`, which the GitHub, GitLab and Jenkins inputs become too) and the
// long form in gantry.yml; and the gate timeout settings.

const emptyDir = () => mkdtempSync(join(tmpdir(), 'gantry-steps-'));

function deployConfig(raw: RawInputs, yml?: string) {
  const cwd = emptyDir();
  if (yml !== undefined) writeFileSync(join(cwd, 'gantry.yml'), yml);
  return resolveConfig({ command: 'deploy', raw, cwd }).deploy;
}

describe('canary steps', () => {
  it.each<[string, RawInputs, string | undefined, unknown]>([
    [
      'the default: 10/25/50, each the pause long',
      {},
      undefined,
      [{ weight: 10 }, { weight: 25 }, { weight: 50 }],
    ],
    [
      'weights alone, as ever',
      { steps: ['10,25,50'] },
      undefined,
      [{ weight: 10 }, { weight: 25 }, { weight: 50 }],
    ],
    [
      'weight:pause items on the flag, a gate among them',
      { steps: ['5:2m,25:until-promoted,50'] },
      undefined,
      [{ weight: 5, pause: 120_000 }, { weight: 25, pause: 'until-promoted' }, { weight: 50 }],
    ],
    [
      'one item per flag (a GitLab array, a Jenkins list)',
      { steps: ['5:90', '25:1m30s', '50'] },
      undefined,
      [{ weight: 5, pause: 90_000 }, { weight: 25, pause: 90_000 }, { weight: 50 }],
    ],
    [
      'gantry.yml: steps as objects',
      {},
      'deploy:\n  steps:\n    - {weight: 5, pause: 2m}\n    - {weight: 25, pause: until-promoted}\n    - {weight: 50}\n',
      [{ weight: 5, pause: 120_000 }, { weight: 25, pause: 'until-promoted' }, { weight: 50 }],
    ],
    [
      'gantry.yml: numbers, short-form strings and objects mixed',
      {},
      'deploy:\n  steps: [5, "25:10m", {weight: 50, pause: until-promoted}]\n',
      [{ weight: 5 }, { weight: 25, pause: 600_000 }, { weight: 50, pause: 'until-promoted' }],
    ],
    [
      'the flag wins over gantry.yml',
      { steps: ['20:1m'] },
      'deploy:\n  steps: [{weight: 5, pause: until-promoted}]\n',
      [{ weight: 20, pause: 60_000 }],
    ],
    [
      'match steps on the flag: header=NAME:VALUE[:pause] and cookie=NAME[:pause], before weights',
      { steps: ['header=X-Canary:always:5m,cookie=canary,10,25:1m'], router: 'istio' },
      undefined,
      [
        { weight: 0, match: { kind: 'header', name: 'x-canary', value: 'always' }, pause: 300_000 },
        { weight: 0, match: { kind: 'cookie', name: 'canary' } },
        { weight: 10 },
        { weight: 25, pause: 60_000 },
      ],
    ],
    [
      'gantry.yml: match steps as objects, a gate among them',
      {},
      'deploy:\n  router: nginx\n  steps:\n    - {match: {header: {x-canary: always}}, pause: 5m}\n    - {match: {cookie: beta}, pause: until-promoted}\n    - {weight: 25}\n',
      [
        { weight: 0, match: { kind: 'header', name: 'x-canary', value: 'always' }, pause: 300_000 },
        { weight: 0, match: { kind: 'cookie', name: 'beta' }, pause: 'until-promoted' },
        { weight: 25 },
      ],
    ],
    [
      'with the replicas router a match step is fine when the strategy does not run steps',
      { steps: ['header=x-canary:always'], strategy: 'blue-green' },
      undefined,
      [{ weight: 0, match: { kind: 'header', name: 'x-canary', value: 'always' } }],
    ],
  ])('%s', (_title, raw, yml, expected) => {
    expect(deployConfig(raw, yml).steps).toEqual(expected);
  });

  it('a step without a pause of its own lasts --pause; a gate becomes the strategy’s gate', () => {
    const settings = deployConfig({ steps: ['5:2m,25:until-promoted,50'], pause: '45s' });
    expect(canarySteps(settings)).toEqual([
      { weight: 5, pause: 120_000 },
      { weight: 25, pause: 'gate' },
      { weight: 50, pause: 45_000 },
    ]);
  });

  it.each<[RawInputs, string | undefined, string]>([
    [
      { steps: ['10,half'] },
      undefined,
      '--steps: expected a weight (25), weight:pause (25:10m, 50:until-promoted) or {weight, pause}, or a match: header=NAME:VALUE[:pause], cookie=NAME[:pause] or {match, pause}, got "half"',
    ],
    [
      { steps: ['10,25:soon'] },
      undefined,
      '--steps: expected a duration like 30s or 2m, or until-promoted, got "soon"',
    ],
    [{ steps: ['10:'] }, undefined, '--steps: expected a weight (25), weight:pause'],
    [
      { steps: ['10:2m:3m'] },
      undefined,
      '--steps: expected a duration like 30s or 2m, or until-promoted, got "2m:3m"',
    ],
    [{ steps: ['0:2m,50'] }, undefined, '--steps: expected weights from 1 to 99, got 0'],
    [{ steps: ['12.5:1m'] }, undefined, '--steps: expected whole percentages, got 12.5'],
    [{ steps: ['50:1m,25'] }, undefined, '--steps: expected strictly increasing weights, got [50,25]'],
    [
      { steps: ['10,100:until-promoted'] },
      undefined,
      '--steps: expected weights from 1 to 99 (promotion sends 100%), got 100',
    ],
    [
      {},
      'deploy:\n  steps: [{weight: 5, pause: later}]\n',
      'gantry.yml: deploy.steps.0.pause: expected a duration like 30s or 2m, or until-promoted, got "later"',
    ],
    [{}, 'deploy:\n  steps: [{weight: 5, wait: 2m}]\n', 'gantry.yml: deploy.steps.0: unknown setting "wait"'],
    [
      {},
      'deploy:\n  steps: [{pause: 2m}]\n',
      'gantry.yml: deploy.steps.0.weight: expected a weight from 1 to 99',
    ],
    [{}, 'deploy:\n  steps: [10, 100]\n', 'gantry.yml: deploy.steps.1: expected weights from 1 to 99'],
    [{}, 'deploy:\n  steps: [[10]]\n', 'gantry.yml: deploy.steps.0: expected a weight (25), weight:pause'],
    [
      { steps: ['header=x-canary:always,10'] },
      undefined,
      '--steps: a match step (header=… or cookie=…) needs a router that routes by request: --router gateway-api, istio or nginx',
    ],
    [
      {},
      'deploy:\n  steps: [{match: {cookie: canary}}, 10]\n',
      'gantry.yml: deploy.steps: a match step (header=… or cookie=…) needs a router that routes by request',
    ],
    [
      { steps: ['header=x-canary'], router: 'istio' },
      undefined,
      '--steps: expected a weight (25), weight:pause',
    ],
    [
      { steps: ['header=x canary:always'], router: 'istio' },
      undefined,
      '--steps: expected a weight (25), weight:pause',
    ],
    [
      { steps: ['cookie=can;ary'], router: 'istio' },
      undefined,
      '--steps: expected a cookie name: letters, digits and ._~+/=-, got "can;ary"',
    ],
    [
      { steps: ['header=x-canary:always:soon'], router: 'istio' },
      undefined,
      '--steps: expected a duration like 30s or 2m, or until-promoted, got "soon"',
    ],
    [
      {},
      'deploy:\n  router: istio\n  steps: [{match: {header: {a: "1", b: "2"}}}]\n',
      'gantry.yml: deploy.steps.0.match.header: expected exactly one header',
    ],
    [
      {},
      'deploy:\n  router: istio\n  steps: [{match: {header: {x-canary: "a b"}}}]\n',
      'gantry.yml: deploy.steps.0.match.header.x-canary: expected a header value',
    ],
    [
      {},
      'deploy:\n  router: istio\n  steps: [{match: {header: {x-canary: on}, cookie: c}}]\n',
      'gantry.yml: deploy.steps.0.match: expected exactly one of header or cookie',
    ],
    [
      {},
      'deploy:\n  router: istio\n  steps: [{match: {query: {a: b}}}]\n',
      'gantry.yml: deploy.steps.0.match: unknown setting "query"',
    ],
    [
      {},
      'deploy:\n  router: istio\n  steps: [{weight: 10, match: {cookie: c}}]\n',
      'gantry.yml: deploy.steps.0: a step has a weight or a match, not both',
    ],
    [{ 'gate-timeout': '0s' }, undefined, '--gate-timeout: expected at least 1s, got "0s"'],
    [{ 'gate-timeout': '169h' }, undefined, '--gate-timeout: expected at most 168h (a week), got "169h"'],
    [
      { 'gate-timeout': 'forever' },
      undefined,
      '--gate-timeout: expected a duration like 30s, 500ms or 2m, got "forever"',
    ],
    [
      { 'on-gate-timeout': 'wait' },
      undefined,
      '--on-gate-timeout: expected one of rollback|promote, got "wait"',
    ],
  ])('refuses %j %j with one line naming the input (exit 2)', (raw, yml, message) => {
    let error: unknown;
    try {
      deployConfig(raw, yml);
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(InputError);
    const text = (error as Error).message;
    expect(text.replace(/^.*gantry\.yml: /, 'gantry.yml: ').startsWith(message), text).toBe(true);
    expect(text).not.toContain('\n');
    expect((error as InputError).exitCode).toBe(2);
  });
});

describe('gate timeout', () => {
  it('waits 30 minutes, then rolls back, unless told otherwise', () => {
    expect(deployConfig({})).toMatchObject({ gateTimeout: 1_800_000, onGateTimeout: 'rollback' });
    expect(deployConfig({ 'gate-timeout': '2h', 'on-gate-timeout': 'promote' })).toMatchObject({
      gateTimeout: 7_200_000,
      onGateTimeout: 'promote',
    });
    expect(deployConfig({}, 'deploy:\n  gateTimeout: 45m\n  onGateTimeout: promote\n')).toMatchObject({
      gateTimeout: 2_700_000,
      onGateTimeout: 'promote',
    });
  });
});
