import { InputError } from '../util/errors.js';
import type { EnvMap } from './types.js';

/** The variable's value, or undefined when it is unset or blank (CI systems export empty strings freely). */
export function envValue(env: EnvMap, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

/** The first of several variables that is set. */
export function firstEnvValue(env: EnvMap, ...names: string[]): string | undefined {
  for (const name of names) {
    const value = envValue(env, name);
    if (value !== undefined) return value;
  }
  return undefined;
}

/** A variable the platform always sets; its absence means the environment is not what it claims to be. */
export function requiredEnvValue(env: EnvMap, name: string, platformName: string): string {
  const value = envValue(env, name);
  if (value === undefined) throw new InputError(name, `expected ${platformName} to set it, found it unset`);
  return value;
}

const COMMIT_SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/** Validates a full commit SHA (SHA-1, or SHA-256 for repositories in that format), lowercased. */
export function commitSha(value: string, inputName: string): string {
  const sha = value.trim().toLowerCase();
  if (!COMMIT_SHA.test(sha)) {
    throw new InputError(
      inputName,
      `expected a full 40-character hex commit SHA, found ${JSON.stringify(value)}`,
    );
  }
  return sha;
}

/** A positive integer (PR number, run attempt), or undefined when the value is not one. */
export function positiveInteger(value: string | number | undefined): number | undefined {
  if (value === undefined) return undefined;
  const text = String(value).trim();
  if (!/^[1-9]\d{0,15}$/.test(text)) return undefined;
  return Number(text);
}

/** An ISO 8601 timestamp normalized to UTC (`2024-05-01T12:00:00.000Z`), or undefined when unparseable. */
export function isoTimestamp(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const millis = Date.parse(value);
  return Number.isNaN(millis) ? undefined : new Date(millis).toISOString();
}

/**
 * `SOURCE_DATE_EPOCH` (reproducible-builds.org): whole seconds since the epoch. A malformed value is an error,
 * as the specification asks, rather than a silently different timestamp.
 */
export function sourceDateEpoch(env: EnvMap): number | undefined {
  const value = envValue(env, 'SOURCE_DATE_EPOCH');
  if (value === undefined) return undefined;
  if (!/^\d{1,12}$/.test(value)) {
    throw new InputError(
      'SOURCE_DATE_EPOCH',
      `expected whole seconds since 1970-01-01, found ${JSON.stringify(value)}`,
    );
  }
  return Number(value);
}

/** A copy without the keys whose value is undefined, so contexts compare and print cleanly. */
export function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
