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
 * below the 2^32 invocations the random construction allows. Sealing a batch of SIMs uses
 * ./gcm-batch.ts (the same AES-256-GCM, one AES context per batch instead of one per SIM:
 * a node:crypto context per SIM cost 4.3 µs, the largest part of an import's client CPU);
 * opening one SIM uses node:crypto's GCM, so every sealed row is checked by an
 * implementation other than the one that sealed it.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { GcmBatchCipher } from './gcm-batch.js';
// The inventory module alone: the import needs none of the applet's cryptography.
import * as inventory from '../../sim-applet/inventory/index.js';
import type { MasterKeyring } from './master-key.js';

type InventoryKeyset = inventory.InventoryKeyset;

const GCM_NONCE = 12;
const TAG = 16;

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

// The plaintext layout of a SIM's keysets lives with the inventory reader, which writes it
// straight from the file's bytes (sim-applet/inventory/keyset-plaintext.ts).
export const { encodedKeysetsLength, encodeKeysetsInto } = inventory;

export function encodeKeysets(keysets: readonly InventoryKeyset[]): Buffer {
  const plain = inventory.encodeKeysets(keysets);
  return Buffer.from(plain.buffer, plain.byteOffset, plain.byteLength);
}

export function decodeKeysets(plain: Buffer): InventoryKeyset[] {
  return inventory.decodeKeysets(plain);
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
  readonly #gcm: GcmBatchCipher;

  constructor(dataKey: Buffer) {
    this.#gcm = new GcmBatchCipher(dataKey);
  }

  seal(iccid: string, keysets: readonly InventoryKeyset[]): Buffer {
    return this.sealMany([{ iccid, keysets }]).bytes;
  }

  /** Seal each row alone (each opens by itself, with its ICCID, by node:crypto's GCM), into one buffer. */
  sealMany(rows: readonly SealInput[]): SealedBatch {
    const count = rows.length;
    const offsets = new Int32Array(count + 1);
    let size = 0;
    for (let r = 0; r < count; r++) {
      const n = encodedKeysetsLength(rows[r]!.keysets);
      size += Buffer.byteLength(rows[r]!.iccid, 'utf8') + n;
      offsets[r + 1] = offsets[r]! + GcmBatchCipher.sealedLength(n);
    }
    // Each row's additional data (its ICCID) and plaintext side by side in one buffer.
    const src = Buffer.alloc(size);
    const spans = new Int32Array(count * 4);
    let at = 0;
    for (let r = 0; r < count; r++) {
      const row = rows[r]!;
      spans[r * 4] = at;
      at += src.write(row.iccid, at, 'utf8');
      spans[r * 4 + 1] = at - spans[r * 4]!;
      spans[r * 4 + 2] = at;
      at = encodeKeysetsInto(row.keysets, src, at);
      spans[r * 4 + 3] = at - spans[r * 4 + 2]!;
    }
    const bytes = Buffer.alloc(offsets[count]!);
    this.#gcm.sealSpans(count, src, spans, randomBytes(GCM_NONCE * count), bytes, offsets);
    src.fill(0);
    return { bytes, offsets };
  }

  /**
   * Seal each packed row's keyset plaintext (the ICCID as additional data) into `out` at
   * `at[r]` (room for its sealed length: GcmBatchCipher.sealedLength of ROW_PLAIN).
   */
  sealPacked(rows: inventory.PackedRows, out: Uint8Array, at: Int32Array): void {
    const count = rows.count;
    const spans = this.#spans.length >= count * 4 ? this.#spans : (this.#spans = new Int32Array(count * 4));
    const x = rows.index;
    for (let r = 0; r < count; r++) {
      const i = r * inventory.ROW_FIELDS;
      const start = x[i + inventory.ROW_START]!;
      spans[r * 4] = start;
      spans[r * 4 + 1] = x[i + inventory.ROW_ICCID]!;
      spans[r * 4 + 2] = rows.plainStart(r);
      spans[r * 4 + 3] = x[i + inventory.ROW_PLAIN]!;
    }
    this.#gcm.sealSpans(count, rows.bytes, spans, randomBytes(GCM_NONCE * count), out, at);
  }

  #spans = new Int32Array(0);
}

/** Opens a SIM's keysets (the OTA sender's side): its data key, its ICCID, its sealed keysets alone. */
export function openKeysets(dataKey: Buffer, iccid: string, sealed: Buffer): InventoryKeyset[] {
  return decodeKeysets(openGcm(dataKey, sealed, aad(iccid)));
}
