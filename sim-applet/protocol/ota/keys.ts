/**
 * OTA keys (KIc, KID): one `OtaKey` per key, made once by `createOtaKey`, then passed to
 * every cipher and checksum call. It checks the length once and keeps what every use
 * would otherwise redo: the node:crypto KeyObject and an open CBC encryptor (or forge's
 * key string for single DES) and, for AES, the CMAC subkeys K1/K2.
 */
import { createSecretKey, type KeyObject } from 'node:crypto';
import { fail } from '../../errors.js';
import { ZeroIvCbcEncryptor } from './zero-iv-cbc.js';

/** TS 102 225 §5.1.2/§5.1.3.1: the algorithms a KIc or KID can name (DESIGN §6 spelling). */
export const OTA_ALGORITHMS = ['des', '3des2', '3des3', 'aes'] as const;
export type OtaAlgorithm = (typeof OTA_ALGORITHMS)[number];

/** Key lengths in bytes; 3DES keys are K1‖K2 (2-key) or K1‖K2‖K3 (3-key), AES any of its sizes. */
const KEY_LENGTHS: Readonly<Record<OtaAlgorithm, readonly number[]>> = {
  des: [8],
  '3des2': [16],
  '3des3': [24],
  aes: [16, 24, 32],
};

export interface OtaKey {
  readonly algorithm: OtaAlgorithm;
  /** Key length in bytes. */
  readonly length: number;
  /** Cipher block size: 8 for the DES family, 16 for AES; the unit of the packet's padding. */
  readonly blockSize: 8 | 16;
}

/** node:crypto names of the CBC ciphers, by algorithm and key length. */
const NODE_CBC: Readonly<Record<string, string>> = {
  '3des2:16': 'des-ede-cbc',
  '3des3:24': 'des-ede3-cbc',
  'aes:16': 'aes-128-cbc',
  'aes:24': 'aes-192-cbc',
  'aes:32': 'aes-256-cbc',
};

const ZERO_IV_8 = Buffer.alloc(8);
const ZERO_IV_16 = Buffer.alloc(16);

/** What the cipher and checksum code needs of a key; not part of the folder's public face. */
export class KeyMaterial {
  readonly blockSize: 8 | 16;
  /** node:crypto CBC cipher name, or undefined for single DES (done by node-forge). */
  readonly nodeCipher: string | undefined;
  readonly keyObject: KeyObject | undefined;
  /** Single DES key as forge's binary string. */
  readonly forgeKey: string | undefined;
  readonly zeroIv: Buffer;
  /** SP 800-38B §6.1 subkeys, AES only. */
  readonly cmacK1: Buffer | undefined;
  readonly cmacK2: Buffer | undefined;
  #encryptor: ZeroIvCbcEncryptor | undefined;

  constructor(
    readonly algorithm: OtaAlgorithm,
    bytes: Uint8Array,
  ) {
    this.blockSize = algorithm === 'aes' ? 16 : 8;
    this.zeroIv = this.blockSize === 16 ? ZERO_IV_16 : ZERO_IV_8;
    this.nodeCipher = NODE_CBC[`${algorithm}:${bytes.length}`];
    // Copy: the caller may reuse or wipe its buffer; the key must not change under us.
    const own = Buffer.from(bytes);
    this.keyObject = this.nodeCipher === undefined ? undefined : createSecretKey(own);
    this.forgeKey = algorithm === 'des' ? own.toString('binary') : undefined;
    if (algorithm === 'aes') {
      // SP 800-38B §6.1: L = CIPH_K(0^128).
      const l = Buffer.alloc(16);
      this.encryptor().encryptInPlace(l);
      this.cmacK1 = doubleBlock(l);
      this.cmacK2 = doubleBlock(this.cmacK1);
    }
  }

  /** The key's long-lived zero-IV CBC encryptor (node:crypto ciphers only), made on first use. */
  encryptor(): ZeroIvCbcEncryptor {
    this.#encryptor ??= new ZeroIvCbcEncryptor(this.nodeCipher!, this.keyObject!, this.blockSize);
    return this.#encryptor;
  }
}

class OtaKeyImpl implements OtaKey {
  readonly length: number;
  readonly blockSize: 8 | 16;
  readonly material: KeyMaterial;

  constructor(
    readonly algorithm: OtaAlgorithm,
    bytes: Uint8Array,
  ) {
    this.length = bytes.length;
    this.material = new KeyMaterial(algorithm, bytes);
    this.blockSize = this.material.blockSize;
  }

  /** Keys never show up in logs or JSON: only what they are, not what they hold. */
  toJSON(): { algorithm: OtaAlgorithm; length: number } {
    return { algorithm: this.algorithm, length: this.length };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `OtaKey { algorithm: '${this.algorithm}', length: ${this.length} }`;
  }
}

/**
 * Make a key for `algorithm` from its bytes (copied). A length that does not fit the
 * algorithm raises INVALID_KEY_LENGTH; a name not in OTA_ALGORITHMS UNKNOWN_ALGORITHM.
 */
export function createOtaKey(algorithm: OtaAlgorithm, bytes: Uint8Array): OtaKey {
  if (typeof algorithm !== 'string' || !(OTA_ALGORITHMS as readonly string[]).includes(algorithm)) {
    fail('UNKNOWN_ALGORITHM', `key algorithm must be one of ${OTA_ALGORITHMS.join(', ')}`, { field: 'algorithm', value: algorithm });
  }
  if (!(bytes instanceof Uint8Array)) {
    fail('INVALID_ARGUMENT', 'key must be bytes', { field: 'key' });
  }
  const allowed = KEY_LENGTHS[algorithm];
  if (!allowed.includes(bytes.length)) {
    fail('INVALID_KEY_LENGTH', `a ${algorithm} key is ${allowed.join(', ')} bytes long, not ${bytes.length}`, {
      field: 'key',
      algorithm,
      expected: allowed,
      actual: bytes.length,
    });
  }
  return new OtaKeyImpl(algorithm, bytes);
}

export function isOtaKey(value: unknown): value is OtaKey {
  return value instanceof OtaKeyImpl;
}

/** The cached material of a key made by createOtaKey; anything else is refused. */
export function keyMaterial(key: OtaKey, field = 'key'): KeyMaterial {
  if (!(key instanceof OtaKeyImpl)) {
    fail('INVALID_ARGUMENT', `${field} must be an OtaKey made by createOtaKey`, { field });
  }
  return key.material;
}

/** SP 800-38B §6.1: multiply by x in GF(2^128): shift left one bit; if a 1 fell out, XOR R128 = 0x87. */
function doubleBlock(block: Buffer): Buffer {
  const out = Buffer.alloc(16);
  for (let i = 0; i < 16; i++) out[i] = ((block[i]! << 1) | (i < 15 ? block[i + 1]! >>> 7 : 0)) & 0xff;
  if (block[0]! & 0x80) out[15] = out[15]! ^ 0x87;
  return out;
}
