import { readFileSync } from 'node:fs';
import type { RolloutReport } from '../../../src/deploy/types.js';

export type FixtureName = 'promoted' | 'rolled-back' | 'inconclusive';

/** A fixture report, fresh each call so a test may change it. */
export function fixture(name: FixtureName): RolloutReport {
  const url = new URL(`../../fixtures/report/${name}.json`, import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8')) as RolloutReport;
}
