import { describe, expect, it } from 'vitest';
import {
  hasSigningKeyInput,
  PUBLIC_KEY_ENV,
  renameKeyError,
  SIGNING_KEY_ENV,
  SIGNING_KEY_PASSWORD_ENV,
  signingKeyInputs,
} from '../../../src/platforms/github/supply.js';
import { InputError } from '../../../src/util/errors.js';

const PEM =
  '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n';

describe('signing key inputs of actions/sign and the root action', () => {
  it('hands signing-key and key-password to the core in the environment, never as a value', () => {
    const env: NodeJS.ProcessEnv = {};
    const raw = signingKeyInputs({ 'signing-key': PEM, 'key-password': 'pa55' }, env);
    expect(raw).toEqual({ 'key-env': SIGNING_KEY_ENV, 'key-password-env': SIGNING_KEY_PASSWORD_ENV });
    expect(env[SIGNING_KEY_ENV]).toBe(PEM);
    expect(env[SIGNING_KEY_PASSWORD_ENV]).toBe('pa55');
    expect(JSON.stringify(raw)).not.toContain('pa55');
  });

  it('leaves key-file and key-env to the option table', () => {
    const env: NodeJS.ProcessEnv = {};
    expect(signingKeyInputs({ 'key-file': 'cosign.key' }, env)).toEqual({});
    expect(env).toEqual({});
  });

  it('refuses two sources of one key, naming the input', () => {
    expect(() => signingKeyInputs({ 'signing-key': PEM, 'key-file': 'k.pem' }, {})).toThrow(
      /^input "signing-key": give one of "signing-key" and "key-file"$/,
    );
    expect(() => signingKeyInputs({ 'key-password': 'x', 'key-password-env': 'P' }, {})).toThrow(
      /^input "key-password": /,
    );
  });

  it('signs when a key input is given', () => {
    expect(hasSigningKeyInput({})).toBe(false);
    expect(hasSigningKeyInput({ 'signing-key': PEM })).toBe(true);
    expect(hasSigningKeyInput({ 'key-file': 'k' })).toBe(true);
    expect(hasSigningKeyInput({ 'key-env': 'K' })).toBe(true);
  });
});

describe('renameKeyError', () => {
  it('names the input behind a variable the action filled, not the variable', () => {
    const error = new InputError('--key-env', `the key in $${SIGNING_KEY_ENV} is not a PEM key`);
    const renamed = renameKeyError(error, { 'signing-key': PEM }) as InputError;
    expect(renamed.message).toBe('input "signing-key": the key in input "signing-key" is not a PEM key');
    const pub = new InputError('--public-key-env', `$${PUBLIC_KEY_ENV} is empty`);
    expect((renameKeyError(pub, { 'public-key': 'x' }) as Error).message).toMatch(/^input "public-key": /);
  });

  it('leaves errors about inputs the user gave alone', () => {
    const error = new InputError('--key-env', '$MY_KEY is not set');
    expect(renameKeyError(error, { 'key-env': 'MY_KEY' })).toBe(error);
    const other = new Error('boom');
    expect(renameKeyError(other, { 'signing-key': PEM })).toBe(other);
  });
});
