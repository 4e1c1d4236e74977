import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { ACTIONS } from '../../../src/platforms/github/actions.js';

const repo = join(import.meta.dirname, '..', '..', '..');

interface ActionYaml {
  name: string;
  description: string;
  branding: { icon: string; color: string };
  inputs: Record<string, { description: string; required?: boolean; default?: string }>;
  outputs: Record<string, { description: string }>;
  runs: { using: string; main: string; post?: string; 'post-if'?: string };
}

const read = (dir: string): ActionYaml =>
  yaml.load(readFileSync(join(repo, dir, 'action.yml'), 'utf8')) as ActionYaml;

const cases = Object.entries(ACTIONS).map(([name, spec]) => ({
  name,
  dir: name === '.' ? '.' : join('actions', name),
  spec,
}));

describe.each(cases)('$dir/action.yml', ({ name, dir, spec }) => {
  const action = read(dir);

  it('declares exactly the inputs the wrapper maps', () => {
    expect(Object.keys(action.inputs).sort()).toEqual(Object.keys(spec.inputs).sort());
  });

  it('describes every input and output, and requires none (gantry.yml may give any)', () => {
    for (const [input, meta] of Object.entries(action.inputs)) {
      expect(meta.description, input).toMatch(/\S{3}/);
      expect(meta.required ?? false, input).toBe(false);
      // A default would override gantry.yml; only the token has one, as in docker/build-push-action.
      if (input !== 'github-token') expect(meta.default, input).toBeUndefined();
    }
    expect(Object.keys(action.outputs).length).toBeGreaterThan(0);
    for (const [output, meta] of Object.entries(action.outputs))
      expect(meta.description, output).toMatch(/\S{3}/);
  });

  it('runs its bundle on node24, with a post step where a rollout can be left running', () => {
    const bundle = name === '.' ? 'pipeline' : name;
    expect(action.runs.using).toBe('node24');
    expect(join(dir, action.runs.main)).toBe(join('dist', 'actions', `${bundle}.js`));
    // scripts/bundle.mjs builds it (read as text: importing the script would run the bundler).
    expect(readFileSync(join(repo, 'scripts', 'bundle.mjs'), 'utf8')).toContain(`'actions/${bundle}.js'`);
    if (name === '.' || name === 'deploy') {
      expect(action.runs.post).toBe(action.runs.main);
      expect(action.runs['post-if']).toBe('always()');
    } else {
      expect(action.runs.post).toBeUndefined();
    }
  });

  it('names inputs like docker/build-push-action and trivy-action where they overlap', () => {
    const inputs = Object.keys(action.inputs);
    for (const gantryName of ['tag', 'build-arg', 'label', 'platform', 'severity-threshold']) {
      expect(inputs).not.toContain(gantryName);
    }
    if (name === 'scan')
      expect(inputs).toEqual(
        expect.arrayContaining(['image-ref', 'severity', 'ignore-unfixed', 'format', 'output']),
      );
    if (name === 'build' || name === '.') {
      expect(inputs).toEqual(
        expect.arrayContaining([
          'context',
          'file',
          'tags',
          'labels',
          'build-args',
          'platforms',
          'target',
          'secrets',
          'cache-from',
          'cache-to',
        ]),
      );
    }
  });
});
