import { scryptSync } from 'node:crypto';
import nacl from 'tweetnacl';

/**
 * cosign's encrypted private key (`cosign generate-key-pair` → cosign.key, PEM type `ENCRYPTED SIGSTORE
 * PRIVATE KEY`): base64 of a JSON document `{kdf: {name: "scrypt", params: {N, r, p}, salt}, cipher: {name:
 * "nacl/secretbox", nonce}, ciphertext}` (byte fields base64). The key is scrypt(password, salt, N, r, p, 32);
 * the ciphertext is NaCl secretbox (XSalsa20 + Poly1305) of the PKCS#8 DER private key. scrypt is Node's;
 * secretbox, which Node's crypto lacks, is tweetnacl's (the audited port of NaCl).
 */
export function decryptCosignKey(pem: string, password: string, fail: (why: string) => Error): Buffer {
  const body = pem
    .split(/\r?\n/)
    .filter((line) => line && !line.startsWith('-----'))
    .join('');
  let doc: {
    kdf?: { name?: string; params?: { N?: number; r?: number; p?: number }; salt?: string };
    cipher?: { name?: string; nonce?: string };
    ciphertext?: string;
  };
  try {
    doc = JSON.parse(Buffer.from(body, 'base64').toString('utf8'));
  } catch {
    throw fail('is not a cosign encrypted key (its body is not base64 JSON)');
  }
  const { kdf, cipher, ciphertext } = doc;
  if (kdf?.name !== 'scrypt' || cipher?.name !== 'nacl/secretbox')
    throw fail(`uses ${kdf?.name ?? '?'} + ${cipher?.name ?? '?'}; only scrypt + nacl/secretbox is known`);
  const { N, r, p } = kdf.params ?? {};
  if (!isPow2(N) || !Number.isInteger(r) || !Number.isInteger(p) || N! > 2 ** 20 || r! > 32 || p! > 16)
    throw fail('has unusable scrypt parameters');
  const salt = Buffer.from(kdf.salt ?? '', 'base64');
  const nonce = Buffer.from(cipher.nonce ?? '', 'base64');
  const box = Buffer.from(ciphertext ?? '', 'base64');
  if (nonce.length !== 24 || box.length < 16) throw fail('is truncated or malformed');
  const key = scryptSync(Buffer.from(password, 'utf8'), salt, 32, {
    N: N!,
    r: r!,
    p: p!,
    maxmem: 256 * N! * r! + 1024 * 1024,
  });
  const opened = nacl.secretbox.open(box, nonce, key);
  if (!opened) throw fail('cannot be decrypted: wrong password (or a damaged key)');
  return Buffer.from(opened);
}

const isPow2 = (n: number | undefined): n is number => Number.isInteger(n) && n! > 1 && (n! & (n! - 1)) === 0;
