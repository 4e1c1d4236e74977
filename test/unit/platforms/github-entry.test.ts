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

  it('carries no input, whatever the step was given', () => {
    const line = header('gantry/actions/push', {
      'INPUT_REGISTRY-PASSWORD': 's3cret-value',
      STATE_isPost: 'false',
    });
    expect(line).not.toContain('s3cret-value');
    expect(line).toMatch(/^gantry\/actions\/push \d+\.\d+\.\d+\S* \(node v\d+\.\d+\.\d+\)$/);
  });
});
