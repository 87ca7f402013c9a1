/**
 * Encryption of OTA keysets at rest (envelope encryption): each import has a fresh 256-bit
 * data key, stored only wrapped with AES-256-GCM (NIST SP 800-38D) under the current master
 * key, whose version is kept. Each SIM's keysets are sealed alone with AES-256-GCM under the
 * data key, the ICCID as additional data: provisioning opens one SIM's keys with that SIM's
 * row and nothing else, and a blob copied onto another SIM's row does not open.
 *
 *     sealed = nonce(12) || C || tag(16)
 *
 * Nonces are random 96-bit values (SP 800-38D §8.2.2); a data key seals one import, far
 * below the 2^32 invocations the random construction allows. A cipher context per SIM
 * costs about 5 µs, a measurable part of an import (README, benchmark `sim-import`); it is
 * kept because the issue names AES-256-GCM and a standard AEAD per SIM is what an auditor
 * expects, where batching SIMs through one context would need a construction of our own.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { inventory } from '../../sim-applet/index.js';
import type { MasterKeyring } from './master-key.js';

type InventoryKeyset = inventory.InventoryKeyset;
type KeyAlgorithm = inventory.KeyAlgorithm;

const GCM_NONCE = 12;
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
  return { version, wrapped: sealGcm(key, dataKey, aad(`simchain data key v${version}`), randomBytes(GCM_NONCE)) };
}

export function unwrapDataKey(keyring: MasterKeyring, version: number, wrapped: Buffer): Buffer {
  return openGcm(keyring.get(version), wrapped, aad(`simchain data key v${version}`));
}

function sealGcm(key: Buffer, plain: Buffer, additional: Buffer, nonce: Buffer): Buffer {
  const c = createCipheriv('aes-256-gcm', key, nonce);
  c.setAAD(additional);
  const body = c.update(plain);
  c.final();
  return Buffer.concat([nonce, body, c.getAuthTag()]);
}

function openGcm(key: Buffer, blob: Buffer, additional: Buffer): Buffer {
  if (blob.length < GCM_NONCE + TAG) throw new KeysetCipherError('sealed value too short');
  try {
    const d = createDecipheriv('aes-256-gcm', key, blob.subarray(0, GCM_NONCE));
    d.setAAD(additional);
    d.setAuthTag(blob.subarray(blob.length - TAG));
    const plain = d.update(blob.subarray(GCM_NONCE, blob.length - TAG));
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
export function encodedKeysetsLength(keysets: readonly InventoryKeyset[]): number {
  let size = 1;
  for (const k of keysets) size += 7 + ((k.kic.length + k.kid.length + k.kik.length) >> 1);
  return size;
}

const ALGORITHM_CODE: Readonly<Record<string, number>> = Object.fromEntries(ALGORITHM_CODES.map((a, i) => [a, i]));
/** Hex digit values by character code, -1 elsewhere. */
const NIBBLE = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) {
  NIBBLE['0123456789abcdef'.charCodeAt(i)] = i;
  NIBBLE['0123456789ABCDEF'.charCodeAt(i)] = i;
}

/** length(1) || bytes of a key given in hex (checked hex, as the inventory reader returns it). */
function writeKey(hex: string, out: Buffer, at: number): number {
  out[at++] = hex.length >> 1;
  // A loop in JS: a Buffer.write call per key costs more than the decoding itself.
  for (let i = 0; i < hex.length; i += 2) {
    const hi = NIBBLE[hex.charCodeAt(i)]!;
    const lo = NIBBLE[hex.charCodeAt(i + 1)]!;
    if (hi < 0 || lo < 0) throw new TypeError('a key is not hex');
    out[at++] = (hi << 4) | lo;
  }
  return at;
}

/** Write the plaintext layout into `out` at `at`; returns the offset after it. */
export function encodeKeysetsInto(keysets: readonly InventoryKeyset[], out: Buffer, at: number): number {
  out[at++] = keysets.length;
  for (const k of keysets) {
    out[at++] = k.index;
    out[at++] = ALGORITHM_CODE[k.kicAlg]!;
    out[at++] = ALGORITHM_CODE[k.kidAlg]!;
    out[at++] = ALGORITHM_CODE[k.kikAlg]!;
    at = writeKey(k.kic, out, at);
    at = writeKey(k.kid, out, at);
    at = writeKey(k.kik, out, at);
  }
  return at;
}

export function encodeKeysets(keysets: readonly InventoryKeyset[]): Buffer {
  const out = Buffer.alloc(encodedKeysetsLength(keysets));
  encodeKeysetsInto(keysets, out, 0);
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

export interface SealInput {
  iccid: string;
  keysets: readonly InventoryKeyset[];
}

/** A batch of sealed rows in one buffer: row r is `bytes[offsets[r], offsets[r + 1])`. */
export interface SealedBatch {
  bytes: Buffer;
  offsets: Int32Array;
}

/** Seals the keysets of one import's SIMs under that import's data key, a batch of rows at a time. */
export class KeysetSealer {
  readonly #dataKey: Buffer;
  /** Plaintext scratch kept between rows (zeroed after each use). */
  #plain = Buffer.alloc(256);

  constructor(dataKey: Buffer) {
    this.#dataKey = dataKey;
  }

  seal(iccid: string, keysets: readonly InventoryKeyset[]): Buffer {
    return this.sealMany([{ iccid, keysets }]).bytes;
  }

  /** Seal each row alone (each opens by itself, with its ICCID), into one buffer. */
  sealMany(rows: readonly SealInput[]): SealedBatch {
    const count = rows.length;
    const offsets = new Int32Array(count + 1);
    for (let r = 0; r < count; r++) offsets[r + 1] = offsets[r]! + GCM_NONCE + encodedKeysetsLength(rows[r]!.keysets) + TAG;
    const bytes = Buffer.alloc(offsets[count]!);
    const nonces = randomBytes(GCM_NONCE * count);
    for (let r = 0; r < count; r++) {
      const row = rows[r]!;
      const n = encodedKeysetsLength(row.keysets);
      if (this.#plain.length < n) this.#plain = Buffer.alloc(n * 2);
      const plain = this.#plain.subarray(0, n);
      encodeKeysetsInto(row.keysets, plain, 0);
      const at = offsets[r]!;
      const nonce = nonces.subarray(r * GCM_NONCE, (r + 1) * GCM_NONCE);
      nonce.copy(bytes, at);
      const c = createCipheriv('aes-256-gcm', this.#dataKey, nonce);
      c.setAAD(aad(row.iccid));
      c.update(plain).copy(bytes, at + GCM_NONCE);
      c.final();
      c.getAuthTag().copy(bytes, at + GCM_NONCE + n);
      plain.fill(0);
    }
    return { bytes, offsets };
  }
}

/** Opens a SIM's keysets (the OTA sender's side): its data key, its ICCID, its sealed keysets alone. */
export function openKeysets(dataKey: Buffer, iccid: string, sealed: Buffer): InventoryKeyset[] {
  return decodeKeysets(openGcm(dataKey, sealed, aad(iccid)));
}
