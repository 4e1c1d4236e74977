import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  actionFile,
  GITHUB_COMMANDS,
  githubInputs,
  githubNamesFor,
  inputDoc,
  JENKINS_OPTIONS_FILE,
  jenkinsKeysFor,
  jenkinsOptions,
  REFERENCE_FILE,
  REPO,
  renderActionInputs,
  renderInputsReference,
  renderJenkinsOptions,
} from '../../../scripts/inputs-reference.js';
import { type CommandName, OPTIONS, optionFor, optionsFor } from '../../../src/config/options.js';

// docs/inputs.md is generated from the options table and the front ends' declarations; it must be what the
// generator writes today. Those declarations must also agree with the options table: GitLab's components are
// held to it by test/unit/platforms/gitlab-templates.test.ts (and action.yml to the GitHub input tables by
// github-actions.test.ts); the GitHub input tables and the Jenkins option table are held to it here.

describe(REFERENCE_FILE, () => {
  it('is what `npm run docs` writes (run it after changing an option or an input)', () => {
    const committed = readFileSync(join(REPO, REFERENCE_FILE), 'utf8');
    expect(committed, `${REFERENCE_FILE} is stale: run npm run docs`).toBe(renderInputsReference());
  });

  it('is linked from the README', () => {
    expect(readFileSync(join(REPO, 'README.md'), 'utf8')).toContain(`(${REFERENCE_FILE})`);
  });

  it('names every option, with a spelling on every platform that has the command', () => {
    const text = renderInputsReference();
    for (const option of OPTIONS) {
      expect(text, option.path).toContain(`| \`${option.path}\` | \`--${option.flag}`);
      expect(jenkinsKeysFor(option), `${option.path}: a Jenkins key`).not.toEqual([]);
      // GitHub spells the options of the commands its actions run (not status; sign and verify once an action
      // runs them).
      const githubRuns = Object.values(GITHUB_COMMANDS).flat() as CommandName[];
      if (option.commands.some((c) => githubRuns.includes(c)))
        expect(githubNamesFor(option).size, `${option.path}: a GitHub input`).toBeGreaterThan(0);
    }
  });
});

describe('GitHub action inputs and the options table', () => {
  const actions = Object.entries(githubInputs());

  it.each(actions)(
    '%s: every input with a flag sets an option of a command the action runs',
    (action, inputs) => {
      const commands = GITHUB_COMMANDS[action as keyof typeof GITHUB_COMMANDS];
      for (const [name, input] of Object.entries(inputs)) {
        if (!input.flag) continue;
        const reaches = (input.commands ?? commands).filter((c) => commands.includes(c as CommandName));
        expect(reaches, `${action}: input ${name} names commands the action does not run`).not.toEqual([]);
        const known = reaches.filter((c) => optionFor(c as CommandName, input.flag!));
        expect(
          known,
          `${action}: input ${name} sets --${input.flag}, which no option of ${reaches} has`,
        ).not.toEqual([]);
      }
    },
  );

  it.each(['build', 'scan', 'push', 'deploy', 'promote', 'abort'] as const)(
    'actions/%s: has an input for every option of its command',
    (command) => {
      const inputs = githubInputs()[command]!;
      const flags = new Set(Object.values(inputs).map((input) => input.flag));
      for (const option of optionsFor(command)) {
        expect(flags.has(option.flag), `actions/${command}: no input sets --${option.flag}`).toBe(true);
      }
    },
  );

  it('the root action has an input for every option of build, scan and deploy', () => {
    const inputs = githubInputs()['.']!;
    for (const command of ['build', 'scan', 'deploy'] as const) {
      for (const option of optionsFor(command)) {
        // Wired by the pipeline: the build never pushes (its `push` input means "push once the scan passed"),
        // and the scan reads the image just built.
        if (command === 'build' && option.flag === 'push') continue;
        if (command === 'scan' && option.flag === 'image') continue;
        const found = Object.values(inputs).some(
          (input) => input.flag === option.flag && (!input.commands || input.commands.includes(command)),
        );
        expect(found, `root action: no input sets ${command} --${option.flag}`).toBe(true);
      }
    }
  });
});

describe('action.yml inputs blocks', () => {
  const actions = Object.keys(GITHUB_COMMANDS) as (keyof typeof GITHUB_COMMANDS)[];

  it.each(actions)('%s: is what `npm run docs` writes from the action table', (action) => {
    const committed = readFileSync(join(REPO, actionFile(action)), 'utf8');
    expect(committed, `${actionFile(action)} is stale: run npm run docs`).toBe(
      renderActionInputs(action, committed),
    );
  });

  it('describes every input of every action', () => {
    for (const action of actions) {
      for (const name of Object.keys(githubInputs()[action]!)) {
        expect(inputDoc(action, name).description.length, `${action}: ${name}`).toBeGreaterThan(10);
      }
    }
  });

  it('replaces an edited block, leaving the rest of the file alone', () => {
    const committed = readFileSync(join(REPO, actionFile('push')), 'utf8');
    const edited = committed.replace(/ {2}to:\n {4}description: "[^"]*"/, '  to:\n    description: "edited"');
    expect(edited).not.toBe(committed);
    expect(renderActionInputs('push', edited)).toBe(committed);
    expect(() => renderActionInputs('push', 'name: x\n')).toThrow(/no inputs: block/);
  });
});

describe('Jenkins option table (Options.groovy) and the options table', () => {
  const { cli } = jenkinsOptions();

  it('is what `npm run docs` generates from the options table', () => {
    const committed = readFileSync(join(REPO, JENKINS_OPTIONS_FILE), 'utf8');
    expect(committed, `${JENKINS_OPTIONS_FILE} is stale: run npm run docs`).toBe(
      renderJenkinsOptions(committed),
    );
  });

  it('has a table per command', () => {
    expect(Object.keys(cli).sort()).toEqual([
      'abort',
      'build',
      'deploy',
      'promote',
      'push',
      'sbom',
      'scan',
      'sign',
      'status',
      'verify',
    ]);
  });

  it.each(Object.keys(cli))('%s: exactly the flags of the command, keyed by their camelCase', (command) => {
    const table = cli[command]!;
    expect(Object.values(table).sort()).toEqual(
      optionsFor(command as CommandName)
        .map((o) => o.flag)
        .sort(),
    );
    for (const [key, flag] of Object.entries(table)) {
      expect(key).toBe(flag.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase()));
    }
  });
});
