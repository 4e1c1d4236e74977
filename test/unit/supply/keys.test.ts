import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decryptCosignKey } from '../../../src/supply/cosign-key.js';
import { loadPublicKey, loadSigningKey } from '../../../src/supply/keys.js';
import { InputError } from '../../../src/util/errors.js';
import { redact } from '../../../src/util/secrets.js';

const fixtures = join(import.meta.dirname, '..', '..', 'fixtures', 'cosign');
const cosignKey = readFileSync(join(fixtures, 'cosign.key'), 'utf8');
const cosignPub = readFileSync(join(fixtures, 'cosign.pub'), 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'gantry-keys-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const spki = (key: { export: (o: { type: 'spki'; format: 'pem' }) => string | Buffer }) =>
  key.export({ type: 'spki', format: 'pem' }).toString();

const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
});

const inputError = (fn: () => unknown): string => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return (error as Error).message;
  }
  throw new Error('no error');
};

describe("cosign's encrypted key (scrypt + NaCl secretbox)", () => {
  it('decrypts the key `cosign generate-key-pair` wrote into the pair of its cosign.pub', () => {
    process.env.COSIGN_PASSWORD = 'gantry-test';
    const key = loadSigningKey({ file: join(fixtures, 'cosign.key') });
    expect(spki(key.publicKey)).toBe(cosignPub);
    expect(key.describe).toBe(`the key in ${join(fixtures, 'cosign.key')}`);
  });

  it('takes the password from the variable it is told', () => {
    process.env.MY_PASSWORD = 'gantry-test';
    delete process.env.COSIGN_PASSWORD;
    expect(spki(loadSigningKey({ file: join(fixtures, 'cosign.key') }, 'MY_PASSWORD').publicKey)).toBe(
      cosignPub,
    );
  });

  it('refuses a wrong or missing password in one line naming the input', () => {
    process.env.COSIGN_PASSWORD = 'wrong';
    expect(inputError(() => loadSigningKey({ file: join(fixtures, 'cosign.key') }))).toMatch(
      /^--key-file: the key in .*cosign.key: cannot be decrypted: wrong password/,
    );
    delete process.env.COSIGN_PASSWORD;
    expect(inputError(() => loadSigningKey({ file: join(fixtures, 'cosign.key') }))).toMatch(
      /^--key-file: the key in .* is encrypted: set its password in COSIGN_PASSWORD$/,
    );
  });

  it('refuses a damaged key', () => {
    const damaged = cosignKey.replace(
      /(\n[A-Za-z0-9+/]{10})[A-Za-z0-9+/]/,
      (_, head) => `${head}${head.endsWith('A') ? 'B' : 'A'}`,
    );
    expect(() => decryptCosignKey(damaged, 'gantry-test', (why) => new Error(why))).toThrow();
  });
});

describe('private keys', () => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const sec1 = privateKey.export({ type: 'sec1', format: 'pem' }).toString();

  it('reads PKCS#8 and SEC 1 PEM from a file or an environment variable', () => {
    expect(spki(loadSigningKey({ file: file('k8.pem', pkcs8) }).publicKey)).toBe(
      spki(createPublicKey(privateKey)),
    );
    expect(spki(loadSigningKey({ file: file('k1.pem', sec1) }).publicKey)).toBe(
      spki(createPublicKey(privateKey)),
    );
    process.env.SIGNING_KEY = pkcs8;
    const fromEnv = loadSigningKey({ env: 'SIGNING_KEY' });
    expect(fromEnv.describe).toBe('the key in $SIGNING_KEY');
    expect(spki(fromEnv.publicKey)).toBe(spki(createPublicKey(privateKey)));
  });

  it('reads an encrypted PKCS#8 key with the password from the environment', () => {
    const encrypted = privateKey
      .export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pa55word' })
      .toString();
    process.env.COSIGN_PASSWORD = 'pa55word';
    expect(spki(loadSigningKey({ file: file('enc.pem', encrypted) }).publicKey)).toBe(
      spki(createPublicKey(privateKey)),
    );
    process.env.COSIGN_PASSWORD = 'other';
    expect(inputError(() => loadSigningKey({ file: file('enc.pem', encrypted) }))).toMatch(
      /cannot be decrypted/,
    );
  });

  it('registers the key as a secret the moment it is read', () => {
    const key = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    const body = key.split('\n').filter((l) => l && !l.startsWith('-----'));
    process.env.FRESH_KEY = key;
    expect(redact(`leak: ${body[1]}`)).toContain(body[1]);
    loadSigningKey({ env: 'FRESH_KEY' });
    expect(redact(`leak: ${key}`)).not.toContain(body[1]);
    expect(redact(`leak: ${body.join('')}`)).toBe('leak: ***');
    expect(redact(`line: ${body[1]}`)).toBe('line: ***');
  });

  it('refuses what is not an ECDSA P-256 private key, naming the input', () => {
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    expect(inputError(() => loadSigningKey({ file: file('p384.pem', p384) }))).toMatch(
      /^--key-file: .* is EC secp384r1, not ECDSA P-256$/,
    );
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    expect(inputError(() => loadSigningKey({ file: file('rsa.pem', rsa) }))).toMatch(
      /is rsa, not ECDSA P-256/,
    );
    expect(inputError(() => loadSigningKey({ file: file('pub.pem', cosignPub) }))).toMatch(
      /is a PEM "PUBLIC KEY", not a private key/,
    );
    expect(inputError(() => loadSigningKey({ file: file('junk.pem', 'hello') }))).toMatch(
      /is not a PEM private key/,
    );
    expect(
      inputError(() =>
        loadSigningKey({
          file: file('bad.pem', '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n'),
        }),
      ),
    ).toMatch(/not a valid PRIVATE KEY PEM/);
  });

  it('wants exactly one source', () => {
    expect(inputError(() => loadSigningKey({}))).toBe('--key-file: required: --key-file or --key-env');
    expect(inputError(() => loadSigningKey({ file: 'a', env: 'B' }))).toBe(
      '--key-file: give either --key-file or --key-env, not both',
    );
    expect(inputError(() => loadSigningKey({ file: join(dir, 'missing.pem') }))).toMatch(
      /^--key-file: cannot read ".*missing.pem": no such file$/,
    );
    delete process.env.NOT_SET_ANYWHERE;
    expect(inputError(() => loadSigningKey({ env: 'NOT_SET_ANYWHERE' }))).toBe(
      '--key-env: environment variable NOT_SET_ANYWHERE is not set or empty',
    );
    expect(inputError(() => loadSigningKey({ env: '-----BEGIN' }))).toBe(
      '--key-env: "-----BEGIN" is not an environment variable name',
    );
  });
});

describe('public keys', () => {
  it('reads cosign.pub from a file or an environment variable', () => {
    expect(spki(loadPublicKey({ file: join(fixtures, 'cosign.pub') }).publicKey)).toBe(cosignPub);
    process.env.VERIFY_KEY = cosignPub;
    expect(loadPublicKey({ env: 'VERIFY_KEY' }).describe).toBe('the key in $VERIFY_KEY');
  });

  it('refuses a private key, junk, and other curves, naming the input', () => {
    expect(inputError(() => loadPublicKey({ file: join(fixtures, 'cosign.key') }))).toMatch(
      /^--public-key-file: the key in .* is a private key: give the public key \(cosign.pub\)$/,
    );
    expect(inputError(() => loadPublicKey({ file: file('junk.pub', 'x') }))).toMatch(
      /is not a PEM public key/,
    );
    const p384 = spki(generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey);
    expect(inputError(() => loadPublicKey({ file: file('p384.pub', p384) }))).toMatch(/not ECDSA P-256/);
    expect(inputError(() => loadPublicKey({}))).toBe(
      '--public-key-file: required: --public-key-file or --public-key-env',
    );
  });
});
