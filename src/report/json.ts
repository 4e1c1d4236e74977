/**
 * The run report as JSON: the `RolloutReport` contract, keys in a fixed order (the contract's own, then any
 * others alphabetically) and 2-space indentation, so two runs diff line by line.
 */
import type { RolloutReport } from '../deploy/types.js';

/** The contract's key order for each kind of object in a report; a path names where the object sits. */
const KEY_ORDER: Record<string, readonly string[]> = {
  '': [
    'verdict',
    'name',
    'namespace',
    'strategy',
    'router',
    'runId',
    'revision',
    'previousImage',
    'image',
    'config',
    'reason',
    'steps',
    'checks',
    'hooks',
    'timings',
  ],
  'config[]': ['kind', 'name', 'version', 'previous'],
  'steps[]': ['index', 'weight', 'startedAt', 'endedAt', 'result'],
  'checks[]': ['metric', 'step', 'at', 'value', 'min', 'max', 'result', 'message'],
  'hooks[]': ['hook', 'type', 'at', 'result', 'attempts', 'durationMs', 'message'],
  timings: [
    'startedAt',
    'finishedAt',
    'canaryTrafficStartedAt',
    'abortDecidedAt',
    'trafficRestoredAt',
    'canaryRemovedAt',
    'promotedAt',
  ],
};

function ordered(value: unknown, path: string): unknown {
  if (Array.isArray(value)) return value.map((item) => ordered(item, `${path}[]`));
  if (value === null || typeof value !== 'object') return value;
  const record = value as Record<string, unknown>;
  const known = KEY_ORDER[path] ?? [];
  const keys = [
    ...known.filter((key) => Object.hasOwn(record, key)),
    ...Object.keys(record)
      .filter((key) => !known.includes(key))
      .sort(),
  ];
  const result: Record<string, unknown> = {};
  for (const key of keys) result[key] = ordered(record[key], path === '' ? key : `${path}.${key}`);
  return result;
}

/** Renders a report as stable, indented JSON ending with a newline. */
export function renderJson(report: RolloutReport): string {
  return `${JSON.stringify(ordered(report, ''), null, 2)}\n`;
}
