import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EnvMap } from '../../../src/context/types.js';

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../../fixtures/context');

/** The commit every recorded situation builds, and the merge commit GitHub and GitLab create for PR #42. */
export const HEAD_SHA = '3f7c2a9e1b8d4c6f0a2e5b7d9c1f3a5e7b9d0c2e';
export const MERGE_SHA = '9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a291807';

/**
 * A recorded environment: `test/fixtures/context/<platform>/<name>.json`. A relative `GITHUB_EVENT_PATH`
 * is resolved against the fixture's folder, where the recorded event payloads live.
 */
export function loadEnvFixture(
  platform: 'github' | 'gitlab' | 'jenkins',
  name: string,
): Record<string, string> {
  const folder = join(FIXTURES, platform);
  const env = JSON.parse(readFileSync(join(folder, `${name}.json`), 'utf8')) as Record<string, string>;
  const eventPath = env.GITHUB_EVENT_PATH;
  if (eventPath && !isAbsolute(eventPath)) env.GITHUB_EVENT_PATH = join(folder, eventPath);
  return env;
}

/** The event payload a GitHub fixture points to. */
export function loadGitHubEvent(env: EnvMap): unknown {
  return JSON.parse(readFileSync(env.GITHUB_EVENT_PATH ?? '', 'utf8'));
}
