/**
 * The plaintext of a SIM's OTA keysets as the backend seals it at rest (one AES-256-GCM
 * message per SIM): count(1), then per keyset its key index(1), the KIc, KID and KIk
 * algorithms (1 each: the position in KEY_ALGORITHMS), and KIc, KID, KIk each as
 * length(1) || key bytes. Pure layout, shared by the inventory reader (which writes it
 * straight from the file's bytes, ./packed-rows.ts) and the key store that opens it.
 */
import { KEY_ALGORITHMS, type KeyAlgorithm } from './key-algorithms.js';
import type { InventoryKeyset } from './vendor-file.js';

const ALGORITHM_CODE: Readonly<Record<string, number>> = Object.fromEntries(KEY_ALGORITHMS.map((a, i) => [a, i]));

/** Hex digit values by character code, -1 elsewhere. */
export const HEX_NIBBLE = new Int8Array(256).fill(-1);
for (let i = 0; i < 16; i++) {
  HEX_NIBBLE['0123456789abcdef'.charCodeAt(i)] = i;
  HEX_NIBBLE['0123456789ABCDEF'.charCodeAt(i)] = i;
}

export function keyAlgorithmCode(algorithm: KeyAlgorithm): number {
  return ALGORITHM_CODE[algorithm]!;
}

export function encodedKeysetsLength(keysets: readonly InventoryKeyset[]): number {
  let size = 1;
  for (const k of keysets) size += 7 + ((k.kic.length + k.kid.length + k.kik.length) >> 1);
  return size;
}

/** length(1) || bytes of a key given in hex (checked hex, as the inventory reader returns it). */
function writeKey(hex: string, out: Uint8Array, at: number): number {
  out[at++] = hex.length >> 1;
  // A loop: a Buffer.write call per key costs more than the decoding itself.
  for (let i = 0; i < hex.length; i += 2) {
    const hi = HEX_NIBBLE[hex.charCodeAt(i) & 0xff]!;
    const lo = HEX_NIBBLE[hex.charCodeAt(i + 1) & 0xff]!;
    if (hi < 0 || lo < 0 || hex.charCodeAt(i) > 0xff || hex.charCodeAt(i + 1) > 0xff) throw new TypeError('a key is not hex');
    out[at++] = (hi << 4) | lo;
  }
  return at;
}

/** Write the plaintext layout into `out` at `at`; returns the offset after it. */
export function encodeKeysetsInto(keysets: readonly InventoryKeyset[], out: Uint8Array, at: number): number {
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

export function encodeKeysets(keysets: readonly InventoryKeyset[]): Uint8Array {
  const out = new Uint8Array(encodedKeysetsLength(keysets));
  encodeKeysetsInto(keysets, out, 0);
  return out;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function decodeKeysets(plain: Uint8Array): InventoryKeyset[] {
  const keysets: InventoryKeyset[] = [];
  let at = 1;
  const take = (): string => {
    const n = plain[at++]!;
    let hex = '';
    for (let i = 0; i < n; i++) hex += HEX[plain[at + i]!]!;
    at += n;
    return hex;
  };
  for (let i = 0; i < plain[0]!; i++) {
    const index = plain[at++]!;
    const kicAlg = KEY_ALGORITHMS[plain[at++]!]!;
    const kidAlg = KEY_ALGORITHMS[plain[at++]!]!;
    const kikAlg = KEY_ALGORITHMS[plain[at++]!]!;
    keysets.push({ index, kicAlg, kidAlg, kikAlg, kic: take(), kid: take(), kik: take() });
  }
  return keysets;
}
