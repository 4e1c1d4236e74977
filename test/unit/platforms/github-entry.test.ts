import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { header } from '../../../src/platforms/github/entry.js';
import { VERSION } from '../../../src/version.js';

describe('the step header of an action entry', () => {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };

  it("names the action, Gantry's version (package.json's) and Node's", () => {
    expect(VERSION).toBe(pkg.version);
    expect(header('gantry/actions/deploy', {})).toBe(
      `gantry/actions/deploy ${pkg.version} (node ${process.version})`,
    );
  });

  it('says when it is the post step (the state runAction saves for it)', () => {
    expect(header('gantry', { STATE_isPost: 'true' })).toBe(
      `gantry ${pkg.version} (node ${process.version}, post step)`,
    );
    expect(header('gantry', { STATE_isPost: '' })).not.toContain('post');
  });

  it('is the same whatever inputs the step was given: no input reaches it', () => {
    // The header is printed before the step reads its inputs; were it ever to show one (an image, a tag, a
    // password), the line would change with the inputs, and this comparison would say so.
    const inputs = {
      'INPUT_REGISTRY-PASSWORD': 's3cret-value',
      INPUT_IMAGE: 'registry.example.com/team/app',
      INPUT_TAGS: 'v1.2.3',
      GITHUB_REPOSITORY: 'acme/shop',
    };
    expect(header('gantry/actions/push', { ...inputs, STATE_isPost: 'false' })).toBe(
      header('gantry/actions/push', {}),
    );
    expect(header('gantry/actions/push', { ...inputs, STATE_isPost: 'true' })).toBe(
      header('gantry/actions/push', { STATE_isPost: 'true' }),
    );
  });
});
