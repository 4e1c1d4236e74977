import { scryptSync, timingSafeEqual } from 'node:crypto';

/**
 * cosign's encrypted private key (`cosign generate-key-pair` → cosign.key, PEM type `ENCRYPTED SIGSTORE
 * PRIVATE KEY`): base64 of a JSON document `{kdf: {name: "scrypt", params: {N, r, p}, salt}, cipher: {name:
 * "nacl/secretbox", nonce}, ciphertext}` (byte fields base64). The key is scrypt(password, salt, N, r, p, 32);
 * the ciphertext is NaCl secretbox (XSalsa20 + Poly1305: a 16-byte tag, then the encrypted bytes) of the PKCS#8
 * DER private key. Node's crypto has scrypt but neither XSalsa20 nor a raw Poly1305, so both are here, written
 * from their specifications (Bernstein's Salsa20 and XSalsa20 papers, RFC 8439 §2.5 for Poly1305).
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
  const opened = secretboxOpen(box, nonce, key);
  if (!opened) throw fail('cannot be decrypted: wrong password (or a damaged key)');
  return opened;
}

const isPow2 = (n: number | undefined): n is number => Number.isInteger(n) && n! > 1 && (n! & (n! - 1)) === 0;

/** NaCl crypto_secretbox_open: undefined when the tag does not authenticate the ciphertext. */
export function secretboxOpen(box: Uint8Array, nonce: Uint8Array, key: Uint8Array): Buffer | undefined {
  const tag = box.subarray(0, 16);
  const ciphertext = box.subarray(16);
  const stream = xsalsa20Stream(key, nonce, 32 + ciphertext.length);
  const expected = poly1305(stream.subarray(0, 32), ciphertext);
  if (!timingSafeEqual(expected, Buffer.from(tag))) return undefined;
  const out = Buffer.alloc(ciphertext.length);
  for (let i = 0; i < ciphertext.length; i++) out[i] = ciphertext[i]! ^ stream[32 + i]!;
  return out;
}

/** NaCl crypto_secretbox (for tests): tag ‖ ciphertext. */
export function secretboxSeal(message: Uint8Array, nonce: Uint8Array, key: Uint8Array): Buffer {
  const stream = xsalsa20Stream(key, nonce, 32 + message.length);
  const ciphertext = Buffer.alloc(message.length);
  for (let i = 0; i < message.length; i++) ciphertext[i] = message[i]! ^ stream[32 + i]!;
  return Buffer.concat([poly1305(stream.subarray(0, 32), ciphertext), ciphertext]);
}

const SIGMA = [0x61707865, 0x3320646e, 0x79622d32, 0x6b206574];

const rotl = (v: number, c: number) => ((v << c) | (v >>> (32 - c))) >>> 0;

/** Twenty Salsa20 rounds (ten double rounds) over `x` in place. */
function rounds(x: Uint32Array): void {
  const qr = (a: number, b: number, c: number, d: number) => {
    x[b] = (x[b]! ^ rotl((x[a]! + x[d]!) >>> 0, 7)) >>> 0;
    x[c] = (x[c]! ^ rotl((x[b]! + x[a]!) >>> 0, 9)) >>> 0;
    x[d] = (x[d]! ^ rotl((x[c]! + x[b]!) >>> 0, 13)) >>> 0;
    x[a] = (x[a]! ^ rotl((x[d]! + x[c]!) >>> 0, 18)) >>> 0;
  };
  for (let i = 0; i < 10; i++) {
    // column round
    qr(0, 4, 8, 12);
    qr(5, 9, 13, 1);
    qr(10, 14, 2, 6);
    qr(15, 3, 7, 11);
    // row round
    qr(0, 1, 2, 3);
    qr(5, 6, 7, 4);
    qr(10, 11, 8, 9);
    qr(15, 12, 13, 14);
  }
}

/** The Salsa20 input matrix: constants on the diagonal, key words around them, 16 bytes of `input` in 6..9. */
function matrix(key: Uint8Array, input: Uint8Array): Uint32Array {
  const k = Buffer.from(key);
  const n = Buffer.from(input);
  const x = new Uint32Array(16);
  x[0] = SIGMA[0]!;
  x[5] = SIGMA[1]!;
  x[10] = SIGMA[2]!;
  x[15] = SIGMA[3]!;
  for (let i = 0; i < 4; i++) {
    x[1 + i] = k.readUInt32LE(4 * i);
    x[11 + i] = k.readUInt32LE(16 + 4 * i);
    x[6 + i] = n.readUInt32LE(4 * i);
  }
  return x;
}

/** HSalsa20: the XSalsa20 subkey from the key and the first 16 bytes of the nonce. */
export function hsalsa20(key: Uint8Array, nonce16: Uint8Array): Buffer {
  const x = matrix(key, nonce16);
  rounds(x);
  const out = Buffer.alloc(32);
  for (const [i, w] of [0, 5, 10, 15, 6, 7, 8, 9].entries()) out.writeUInt32LE(x[w]!, 4 * i);
  return out;
}

/** `length` bytes of the XSalsa20 key stream for a 24-byte nonce (block counter from 0). */
export function xsalsa20Stream(key: Uint8Array, nonce: Uint8Array, length: number): Buffer {
  const subkey = hsalsa20(key, nonce.subarray(0, 16));
  const out = Buffer.alloc(Math.ceil(length / 64) * 64);
  const input = Buffer.alloc(16);
  Buffer.from(nonce.subarray(16, 24)).copy(input, 0);
  for (let block = 0; block * 64 < length; block++) {
    input.writeUInt32LE(block >>> 0, 8);
    input.writeUInt32LE(Math.floor(block / 2 ** 32), 12);
    const initial = matrix(subkey, input);
    const x = Uint32Array.from(initial);
    rounds(x);
    for (let i = 0; i < 16; i++) out.writeUInt32LE((x[i]! + initial[i]!) >>> 0, block * 64 + 4 * i);
  }
  return out.subarray(0, length);
}

const P1305 = (1n << 130n) - 5n;

const le = (bytes: Uint8Array): bigint => {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]!);
  return n;
};

/** Poly1305 one-time authenticator (RFC 8439 §2.5.1) of `message` under the 32-byte `key`. */
export function poly1305(key: Uint8Array, message: Uint8Array): Buffer {
  const r = le(key.subarray(0, 16)) & 0x0ffffffc0ffffffc0ffffffc0fffffffn;
  const s = le(key.subarray(16, 32));
  let acc = 0n;
  for (let i = 0; i < message.length; i += 16) {
    const chunk = message.subarray(i, i + 16);
    acc = ((acc + le(chunk) + (1n << BigInt(8 * chunk.length))) * r) % P1305;
  }
  let tag = (acc + s) & ((1n << 128n) - 1n);
  const out = Buffer.alloc(16);
  for (let i = 0; i < 16; i++) {
    out[i] = Number(tag & 0xffn);
    tag >>= 8n;
  }
  return out;
}
