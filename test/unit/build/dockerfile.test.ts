import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkDockerfile } from '../../../src/build/dockerfile.js';

function dockerfile(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'gantry-df-')), 'Dockerfile');
  writeFileSync(path, text);
  return path;
}

describe('checkDockerfile', () => {
  it.each([
    ['FROM scratch\nCOPY a /a\n'],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a Dockerfile ARG reference, not a template
    ['# syntax=docker/dockerfile:1\nARG BASE=scratch\nFROM ${BASE} AS build\nRUN echo a \\\n  && echo b\n'],
    ['FROM scratch\nRUN <<EOF\nnot an instruction\nEOF\nCMD ["x"]\n'],
    ['# escape=`\nFROM scratch\nRUN echo a `\n  b\n'],
    ['from scratch\ncopy a /a\n'],
  ])('accepts %j', (text) => {
    expect(() => checkDockerfile(dockerfile(text))).not.toThrow();
  });

  it.each([
    ['FROM scratch\nCOPPY a /a\n', 'line 2: unknown instruction "COPPY"'],
    ['COPY a /a\n', 'line 1: expected FROM before COPY'],
    ['# only a comment\n', 'no FROM instruction'],
    ['FROM\n', 'line 1: FROM needs an image'],
    ['FROM scratch\nRUN echo \\\n', 'ends in the middle of a continued line'],
  ])('rejects %j', (text, message) => {
    expect(() => checkDockerfile(dockerfile(text))).toThrow(message);
  });

  it('names the input and exits 2', () => {
    try {
      checkDockerfile('/nonexistent/Dockerfile');
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).toBe('--file: cannot read Dockerfile "/nonexistent/Dockerfile"');
      expect((error as { exitCode: number }).exitCode).toBe(2);
    }
  });
});
