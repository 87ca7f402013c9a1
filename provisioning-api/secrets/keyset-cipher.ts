/**
 * Encryption of OTA keysets at rest: AES-256-GCM (NIST SP 800-38D) under a per-import
 * data key, itself wrapped with AES-256-GCM under the current master key (envelope
 * encryption). A sealed keyset blob is nonce(12) || ciphertext || tag(16) with the ICCID as
 * additional data, so a blob copied onto another SIM's row does not open.
 *
 * Nonces are random 96-bit values (SP 800-38D §8.2.2), drawn from the system RNG in blocks
 * because one call per row would cost more than the encryption; one data key seals at most
 * one import (well under the 2^32 messages that bound random nonces).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { inventory } from '../../sim-applet/index.js';
import type { MasterKeyring } from './master-key.js';

type InventoryKeyset = inventory.InventoryKeyset;
type KeyAlgorithm = inventory.KeyAlgorithm;

const NONCE = 12;
const TAG = 16;
const ALGORITHM_CODES: readonly KeyAlgorithm[] = inventory.KEY_ALGORITHMS;

export class KeysetCipherError extends Error {
  override readonly name = 'KeysetCipherError';
  readonly code = 'KEYSET_DECRYPT_FAILED';
}

function aad(label: string): Buffer {
  return Buffer.from(label, 'utf8');
}

/** Wrap a data key under the keyring's current master key. */
export function wrapDataKey(keyring: MasterKeyring, dataKey: Buffer): { version: number; wrapped: Buffer } {
  const { version, key } = keyring.current;
  return { version, wrapped: seal(key, dataKey, aad(`simchain data key v${version}`), randomBytes(NONCE)) };
}

export function unwrapDataKey(keyring: MasterKeyring, version: number, wrapped: Buffer): Buffer {
  return open(keyring.get(version), wrapped, aad(`simchain data key v${version}`));
}

function seal(key: Buffer, plain: Buffer, additional: Buffer, nonce: Buffer): Buffer {
  const c = createCipheriv('aes-256-gcm', key, nonce);
  c.setAAD(additional);
  const body = c.update(plain);
  c.final();
  return Buffer.concat([nonce, body, c.getAuthTag()]);
}

function open(key: Buffer, blob: Buffer, additional: Buffer): Buffer {
  if (blob.length < NONCE + TAG) throw new KeysetCipherError('sealed value too short');
  try {
    const d = createDecipheriv('aes-256-gcm', key, blob.subarray(0, NONCE));
    d.setAAD(additional);
    d.setAuthTag(blob.subarray(blob.length - TAG));
    const plain = d.update(blob.subarray(NONCE, blob.length - TAG));
    d.final();
    return plain;
  } catch (e) {
    throw new KeysetCipherError('keyset does not authenticate under its data key', { cause: e });
  }
}

/**
 * Plaintext layout of a SIM's keysets: count(1), then per keyset index(1), KIc, KID and KIk
 * algorithms (1 each, position in KEY_ALGORITHMS), and KIc, KID, KIk each as length(1) || bytes.
 */
export function encodeKeysets(keysets: readonly InventoryKeyset[]): Buffer {
  let size = 1;
  for (const k of keysets) size += 7 + (k.kic.length + k.kid.length + k.kik.length) / 2;
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  out[at++] = keysets.length;
  for (const k of keysets) {
    out[at++] = k.index;
    out[at++] = ALGORITHM_CODES.indexOf(k.kicAlg);
    out[at++] = ALGORITHM_CODES.indexOf(k.kidAlg);
    out[at++] = ALGORITHM_CODES.indexOf(k.kikAlg);
    for (const hex of [k.kic, k.kid, k.kik]) {
      out[at++] = hex.length / 2;
      at += out.write(hex, at, 'hex');
    }
  }
  return out;
}

export function decodeKeysets(plain: Buffer): InventoryKeyset[] {
  const keysets: InventoryKeyset[] = [];
  let at = 1;
  const take = (): string => {
    const n = plain[at++]!;
    const hex = plain.subarray(at, at + n).toString('hex');
    at += n;
    return hex;
  };
  for (let i = 0; i < plain[0]!; i++) {
    const index = plain[at++]!;
    const kicAlg = ALGORITHM_CODES[plain[at++]!]!;
    const kidAlg = ALGORITHM_CODES[plain[at++]!]!;
    const kikAlg = ALGORITHM_CODES[plain[at++]!]!;
    keysets.push({ index, kicAlg, kidAlg, kikAlg, kic: take(), kid: take(), kik: take() });
  }
  return keysets;
}

/** Seals the keysets of one import's SIMs under that import's data key. */
export class KeysetSealer {
  private nonces = Buffer.alloc(0);
  private used = 0;

  constructor(private readonly dataKey: Buffer) {}

  seal(iccid: string, keysets: readonly InventoryKeyset[]): Buffer {
    if (this.used === this.nonces.length) {
      this.nonces = randomBytes(NONCE * 4096);
      this.used = 0;
    }
    const nonce = this.nonces.subarray(this.used, this.used + NONCE);
    this.used += NONCE;
    return seal(this.dataKey, encodeKeysets(keysets), aad(iccid), nonce);
  }
}

/** Opens a SIM's keysets (the OTA sender's side). */
export function openKeysets(dataKey: Buffer, iccid: string, sealed: Buffer): InventoryKeyset[] {
  return decodeKeysets(open(dataKey, sealed, aad(iccid)));
}
