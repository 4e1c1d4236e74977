import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { InputError } from '../util/errors.js';
import { registerSecret } from '../util/secrets.js';
import { decryptCosignKey } from './cosign-key.js';

/**
 * Signing and verification keys: ECDSA P-256, as cosign's `generate-key-pair` makes them. A private key comes
 * from a file or an environment variable (never argv), and is registered as a secret the moment it is read,
 * so no log, error or report can carry it. Accepted private keys: PKCS#8 (`PRIVATE KEY`), SEC 1
 * (`EC PRIVATE KEY`), encrypted PKCS#8 (`ENCRYPTED PRIVATE KEY`) and cosign's own `cosign.key`
 * (`ENCRYPTED SIGSTORE PRIVATE KEY` / `ENCRYPTED COSIGN PRIVATE KEY`: scrypt + NaCl secretbox), the last two
 * with the password from an environment variable (COSIGN_PASSWORD unless told otherwise).
 */
export interface KeySource {
  /** Path of a PEM file. */
  file?: string;
  /** Name of an environment variable holding the PEM. */
  env?: string;
}

export interface SigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** Where it came from, for messages: `the key in cosign.key`, `the key in $SIGNING_KEY`. */
  describe: string;
}

export interface PublicKey {
  publicKey: KeyObject;
  describe: string;
}

/** Where a key comes from, as a message names it. */
function sourceOf(
  source: KeySource,
  inputs: { file: string; env: string },
): { text: string; input: string; what: string } {
  if (source.file && source.env)
    throw new InputError(inputs.file, `give either ${inputs.file} or ${inputs.env}, not both`);
  if (source.file) {
    let text: string;
    try {
      text = readFileSync(source.file, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new InputError(
        inputs.file,
        `cannot read "${source.file}"${code === 'ENOENT' ? ': no such file' : code ? ` (${code})` : ''}`,
      );
    }
    return { text, input: inputs.file, what: `the key in ${source.file}` };
  }
  if (source.env) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(source.env))
      throw new InputError(inputs.env, `"${source.env}" is not an environment variable name`);
    const text = process.env[source.env];
    if (!text) throw new InputError(inputs.env, `environment variable ${source.env} is not set or empty`);
    return { text, input: inputs.env, what: `the key in $${source.env}` };
  }
  throw new InputError(inputs.file, `required: ${inputs.file} or ${inputs.env}`);
}

/** Every way a PEM can be printed, registered as a secret: whole, its base64 body, each body line. */
function registerPem(text: string): void {
  registerSecret(text);
  registerSecret(text.trim());
  const body = text
    .split(/\r?\n/)
    .filter((line) => line && !line.startsWith('-----'))
    .map((line) => line.trim());
  registerSecret(body.join(''));
  for (const line of body) if (line.length >= 16) registerSecret(line);
}

const PEM_LABEL = /-----BEGIN ([A-Z0-9 ]+)-----/;

function assertP256(key: KeyObject, input: string, what: string): void {
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    const kind =
      key.asymmetricKeyType === 'ec' ? `EC ${key.asymmetricKeyDetails?.namedCurve}` : key.asymmetricKeyType;
    throw new InputError(input, `${what} is ${kind}, not ECDSA P-256`);
  }
}

/**
 * Reads the private signing key.
 * @param passwordEnv the variable holding the password of an encrypted key (default COSIGN_PASSWORD)
 * @throws InputError naming `--key-file` / `--key-env` (or the password variable) for anything wrong
 */
export function loadSigningKey(
  source: KeySource,
  passwordEnv = 'COSIGN_PASSWORD',
  inputs = { file: '--key-file', env: '--key-env' },
): SigningKey {
  const { text, input, what } = sourceOf(source, inputs);
  registerPem(text);
  const label = PEM_LABEL.exec(text)?.[1];
  if (!label) throw new InputError(input, `${what} is not a PEM private key`);
  const password = () => {
    const value = process.env[passwordEnv];
    if (value === undefined)
      throw new InputError(input, `${what} is encrypted: set its password in ${passwordEnv}`);
    registerSecret(value);
    return value;
  };
  let privateKey: KeyObject;
  if (label === 'ENCRYPTED SIGSTORE PRIVATE KEY' || label === 'ENCRYPTED COSIGN PRIVATE KEY') {
    const der = decryptCosignKey(text, password(), (why) => new InputError(input, `${what}: ${why}`));
    try {
      privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
    } catch {
      throw new InputError(input, `${what} decrypts to no PKCS#8 private key`);
    }
  } else if (label === 'PRIVATE KEY' || label === 'EC PRIVATE KEY' || label === 'ENCRYPTED PRIVATE KEY') {
    try {
      privateKey = createPrivateKey(
        label === 'ENCRYPTED PRIVATE KEY' ? { key: text, passphrase: password() } : { key: text },
      );
    } catch {
      throw new InputError(
        input,
        label === 'ENCRYPTED PRIVATE KEY'
          ? `${what} cannot be decrypted with the password in ${passwordEnv}`
          : `${what} is not a valid ${label} PEM`,
      );
    }
  } else {
    throw new InputError(
      input,
      `${what} is a PEM "${label}", not a private key (PRIVATE KEY, EC PRIVATE KEY, ENCRYPTED PRIVATE KEY or cosign's ENCRYPTED SIGSTORE PRIVATE KEY)`,
    );
  }
  assertP256(privateKey, input, what);
  return { privateKey, publicKey: createPublicKey(privateKey), describe: what };
}

/** Reads the public key (`PUBLIC KEY` PEM, as `cosign.pub`). */
export function loadPublicKey(
  source: KeySource,
  inputs = { file: '--public-key-file', env: '--public-key-env' },
): PublicKey {
  const { text, input, what } = sourceOf(source, inputs);
  const label = PEM_LABEL.exec(text)?.[1];
  if (label !== 'PUBLIC KEY') {
    throw new InputError(
      input,
      label?.includes('PRIVATE')
        ? `${what} is a private key: give the public key (cosign.pub)`
        : `${what} is not a PEM public key (-----BEGIN PUBLIC KEY-----)`,
    );
  }
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey(text);
  } catch {
    throw new InputError(input, `${what} is not a valid PUBLIC KEY PEM`);
  }
  assertP256(publicKey, input, what);
  return { publicKey, describe: what };
}
