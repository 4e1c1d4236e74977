import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../src/config/load.js';
import { InputError } from '../../../src/util/errors.js';

const emptyDir = () => mkdtempSync(join(tmpdir(), 'gantry-cfg-'));

function configFile(text: string): { cwd: string; path: string } {
  const cwd = emptyDir();
  const path = join(cwd, 'gantry.yml');
  writeFileSync(path, text);
  return { cwd, path };
}

describe('resolveConfig', () => {
  it('applies defaults when nothing is given', () => {
    const config = resolveConfig({ command: 'scan', raw: {}, cwd: emptyDir() });
    expect(config.scan).toMatchObject({ scanner: 'trivy', severityThreshold: 'high', ignoreUnfixed: false });
    expect(config.build.builder).toBe('auto');
    expect(config.registry.retries).toBe(3);
  });

  it('reads ./gantry.yml and lets flags win', () => {
    const { cwd } = configFile(
      'image: reg.example.com/team/app\nscan:\n  severityThreshold: critical\n  ignoreUnfixed: true\n',
    );
    const config = resolveConfig({ command: 'scan', raw: { 'severity-threshold': 'medium' }, cwd });
    expect(config.image).toBe('reg.example.com/team/app');
    expect(config.scan.severityThreshold).toBe('medium');
    expect(config.scan.ignoreUnfixed).toBe(true);
  });

  it.each([
    ['list', { tag: ['a', 'b'] }, (c: ReturnType<typeof resolveConfig>) => c.tags.extra, ['a', 'b']],
    [
      'map',
      { 'build-arg': ['A=1', 'B=x=y'] },
      (c: ReturnType<typeof resolveConfig>) => c.build.buildArgs,
      { A: '1', B: 'x=y' },
    ],
    ['boolean', { push: true }, (c: ReturnType<typeof resolveConfig>) => c.build.push, true],
    ['number', { retries: '5' }, (c: ReturnType<typeof resolveConfig>) => c.registry.retries, 5],
    [
      'secret',
      { secret: ['id=npm,src=/tmp/npmrc', 'id=tok,env=TOKEN'] },
      (c: ReturnType<typeof resolveConfig>) => c.build.secrets,
      [
        { id: 'npm', src: '/tmp/npmrc' },
        { id: 'tok', env: 'TOKEN' },
      ],
    ],
  ])('converts a %s input', (_kind, raw, pick, expected) => {
    const config = resolveConfig({ command: 'build', raw, cwd: emptyDir() });
    expect(pick(config)).toEqual(expected);
  });

  it('splits --scanners on commas', () => {
    const config = resolveConfig({ command: 'scan', raw: { scanners: ['vuln,secret'] }, cwd: emptyDir() });
    expect(config.scan.scanners).toEqual(['vuln', 'secret']);
  });

  it.each([
    [
      { 'severity-threshold': 'severe' },
      'scan',
      '--severity-threshold: expected one of critical|high|medium|low|unknown|none, got "severe"',
    ],
    [{ scanner: 'clair' }, 'scan', '--scanner: expected one of trivy|grype, got "clair"'],
    [{ retries: 'lots' }, 'push', '--retries: expected a number, got "lots"'],
    [{ retries: '50' }, 'push', '--retries: Too big'],
    [{ 'build-arg': ['NOEQUALS'] }, 'build', '--build-arg: expected KEY=value, got "NOEQUALS"'],
    [{ secret: ['id=x'] }, 'build', '--secret: a secret needs exactly one of src= or env='],
    [{ secret: ['id=x,src=a,value=b'] }, 'build', '--secret: unknown secret field "value"'],
    [{ platform: ['amd64'] }, 'build', '--platform: expected os/arch[/variant]'],
    [{ colour: 'red' }, 'build', '--colour: unknown input for "build"'],
    [{ to: ['x'] }, 'build', '--to: unknown input for "build"'],
  ] as const)('rejects %o with one line naming the input', (raw, command, message) => {
    const run = () => resolveConfig({ command, raw: raw as never, cwd: emptyDir() });
    expect(run).toThrow(InputError);
    try {
      run();
    } catch (error) {
      expect((error as Error).message.startsWith(message), (error as Error).message).toBe(true);
      expect((error as Error).message).not.toContain('\n');
      expect((error as InputError).exitCode).toBe(2);
    }
  });

  it.each([
    ['scan:\n  severityThreshold: 5%\n', 'gantry.yml: scan.severityThreshold: expected one of'],
    ['scan:\n  treshold: high\n', 'gantry.yml: scan: unknown setting "treshold"'],
    ['registry:\n  retries: "3"\n', 'gantry.yml: registry.retries: expected number, got "3"'],
    ['image: [a\n', '--config: '],
    ['- just\n- a list\n', '--config: '],
  ])('names the gantry.yml field at fault: %j', (text, message) => {
    const { path } = configFile(text);
    expect(() => resolveConfig({ command: 'scan', raw: {}, configPath: path })).toThrow(
      expect.objectContaining({ message: expect.stringContaining(message) }),
    );
  });

  it('names the flag, not the file, when the bad value came from a flag', () => {
    const { path } = configFile('scan:\n  scanner: trivy\n');
    expect(() => resolveConfig({ command: 'scan', raw: { scanner: 'nope' }, configPath: path })).toThrow(
      /^--scanner: /,
    );
  });

  it('rejects an explicit --config that does not exist', () => {
    expect(() => resolveConfig({ command: 'scan', raw: {}, configPath: '/nonexistent/gantry.yml' })).toThrow(
      '--config: cannot read "/nonexistent/gantry.yml": no such file',
    );
  });

  it('spells input names the way the front end does', () => {
    expect(() =>
      resolveConfig({
        command: 'scan',
        raw: { scanner: 'nope' },
        cwd: emptyDir(),
        spell: (f) => `input "${f}"`,
      }),
    ).toThrow(/^input "scanner": /);
  });
});

describe('durations: one parser for flags, gantry.yml and analysis files', () => {
  it.each<[string, number]>([
    ['1m30s', 90_000],
    ['500ms', 500],
    ['2m', 120_000],
    ['45', 45_000],
    ['1h15m', 4_500_000],
  ])('--pause %s is %i ms', (pause, ms) => {
    const config = resolveConfig({ command: 'deploy', raw: { pause }, cwd: emptyDir() });
    expect(config.deploy.pause).toBe(ms);
  });

  it.each(['90x', '-5s', '1m30', ''])('--pause %j is refused naming the flag', (pause) => {
    expect(() => resolveConfig({ command: 'deploy', raw: { pause }, cwd: emptyDir() })).toThrow(/^--pause: /);
  });
});

describe('status --watch inputs', () => {
  it('defaults: print once; watching, no wait for a start; the cluster timeout bounds the watch', () => {
    const config = resolveConfig({ command: 'status', raw: {}, cwd: emptyDir() });
    expect(config.status).toEqual({ watch: false, waitStart: 0 });
    expect(config.deploy.timeout).toBe(600_000);
  });

  it('--watch, --wait-start and --timeout from flags, and from gantry.yml', () => {
    const flags = resolveConfig({
      command: 'status',
      raw: { watch: true, 'wait-start': '2m', timeout: '1h' },
      cwd: emptyDir(),
    });
    expect(flags.status).toEqual({ watch: true, waitStart: 120_000 });
    expect(flags.deploy.timeout).toBe(3_600_000);
    const { cwd } = configFile('status:\n  watch: true\n  waitStart: 30s\n');
    expect(resolveConfig({ command: 'status', raw: {}, cwd }).status).toEqual({
      watch: true,
      waitStart: 30_000,
    });
  });

  it('a bad --wait-start is refused naming the flag', () => {
    expect(() =>
      resolveConfig({ command: 'status', raw: { watch: true, 'wait-start': 'soon' }, cwd: emptyDir() }),
    ).toThrow(/^--wait-start: /);
  });

  it('--watch is for status only', () => {
    expect(() => resolveConfig({ command: 'deploy', raw: { watch: true }, cwd: emptyDir() })).toThrow(
      /^--watch: unknown input for "deploy"/,
    );
  });
});
