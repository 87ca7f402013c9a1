/**
 * Byte helpers shared by every codec. Values are Uint8Array in every signature; the
 * implementation uses Buffer (a Uint8Array) where it is faster, which callers may rely on
 * only as a Uint8Array.
 */
import { fail } from './errors.js';

const HEX_RE = /^(?:[0-9a-fA-F]{2})*$/;

/** Decode a hex string (no prefix, no spaces). `field` names the input in the error. */
export function fromHex(hex: string, field = 'hex'): Uint8Array {
  if (typeof hex !== 'string') fail('INVALID_HEX', `${field} must be a hex string`, { field });
  const h = hex.startsWith('0x') || hex.startsWith('0X') ? hex.slice(2) : hex;
  if (!HEX_RE.test(h)) {
    fail('INVALID_HEX', h.length % 2 === 1 ? `${field} has an odd number of hex digits` : `${field} is not hex`, { field });
  }
  return Buffer.from(h, 'hex');
}

/** Lower-case hex, no prefix. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  return Buffer.concat(parts);
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** A view as Buffer without copying. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Big-endian unsigned integer of `length` bytes (length <= 6, so it fits a JS number exactly). */
export function uintToBytes(value: number, length: number, field = 'value'): Uint8Array {
  if (!Number.isSafeInteger(value) || value < 0 || value >= 2 ** (8 * length)) {
    fail('INVALID_ARGUMENT', `${field} must be an integer from 0 to ${2 ** (8 * length) - 1}`, { field, value });
  }
  const out = Buffer.alloc(length);
  out.writeUIntBE(value, 0, length);
  return out;
}

export function bytesToUint(bytes: Uint8Array): number {
  let v = 0;
  for (const b of bytes) v = v * 256 + b;
  return v;
}
