/**
 * The GSM 7-bit default alphabet (TS 23.038 §6.2.1, extension table §6.2.1.1) and the
 * septet packing of TS 23.038 §6.1.2.1 (first septet in the low bits of the first octet).
 * Alphanumeric addresses and 7-bit user data use both.
 */
import { fail } from '../../errors.js';

/** TS 23.038 §6.2.1; 0x1B is the escape to the extension table and maps to no character here. */
const DEFAULT_ALPHABET =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u001bÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';

const ESCAPE = 0x1b;

/** TS 23.038 §6.2.1.1 extension table: septet after ESC → character. */
const EXTENSION: ReadonlyMap<number, string> = new Map([
  [0x0a, '\f'],
  [0x14, '^'],
  [0x28, '{'],
  [0x29, '}'],
  [0x2f, '\\'],
  [0x3c, '['],
  [0x3d, '~'],
  [0x3e, ']'],
  [0x40, '|'],
  [0x65, '€'],
]);

const CHAR_TO_SEPTETS = new Map<string, number[]>();
for (let i = 0; i < 128; i++) if (i !== ESCAPE) CHAR_TO_SEPTETS.set(DEFAULT_ALPHABET[i]!, [i]);
for (const [septet, ch] of EXTENSION) CHAR_TO_SEPTETS.set(ch, [ESCAPE, septet]);

/** Text → septet values (one per byte); extension characters take two septets. */
export function encodeGsm7Text(text: string, field = 'text'): Uint8Array {
  if (typeof text !== 'string') fail('INVALID_ARGUMENT', `${field} must be a string`, { field });
  const out: number[] = [];
  for (const ch of text) {
    const septets = CHAR_TO_SEPTETS.get(ch);
    if (septets === undefined) fail('INVALID_ARGUMENT', `${field}: character not in the GSM 7-bit alphabet`, { field, char: ch });
    out.push(...septets);
  }
  return Uint8Array.from(out);
}

/**
 * Septet values → text. TS 23.038 §6.2.1.1: an escape followed by a septet the extension
 * table does not define shows that septet's default character; a lone trailing escape is dropped.
 */
export function decodeGsm7Text(septets: Uint8Array): string {
  const parts: string[] = [];
  for (let i = 0; i < septets.length; i++) {
    const s = septets[i]! & 0x7f;
    if (s === ESCAPE) {
      if (i + 1 >= septets.length) break;
      const next = septets[++i]! & 0x7f;
      parts.push(EXTENSION.get(next) ?? (next === ESCAPE ? ' ' : DEFAULT_ALPHABET[next]!));
    } else {
      parts.push(DEFAULT_ALPHABET[s]!);
    }
  }
  return parts.join('');
}

/** Octets needed for `count` septets starting `bitOffset` bits into the first octet. */
export function packedLength(count: number, bitOffset = 0): number {
  return Math.ceil((bitOffset + count * 7) / 8);
}

/**
 * Pack septets LSB-first into `out` (allocated when absent) starting at `bitOffset`; the
 * bits before it are left as they are, so a UDH can sit there (TS 23.040 §9.2.3.24 fill bits).
 */
export function packSeptets(septets: Uint8Array, bitOffset = 0, out?: Uint8Array): Uint8Array {
  const target = out ?? new Uint8Array(packedLength(septets.length, bitOffset));
  for (let i = 0; i < septets.length; i++) {
    const s = septets[i]!;
    if (s > 0x7f) fail('INVALID_ARGUMENT', 'septet value over 127', { field: 'septets', index: i, value: s });
    const bit = bitOffset + i * 7;
    const at = bit >> 3;
    const shift = bit & 7;
    target[at]! |= (s << shift) & 0xff;
    if (shift > 1) target[at + 1]! |= s >> (8 - shift);
  }
  return target;
}

/** Read `count` septets starting `bitOffset` bits into `bytes`; the caller has checked the length. */
export function unpackSeptets(bytes: Uint8Array, count: number, bitOffset = 0): Uint8Array {
  if (packedLength(count, bitOffset) > bytes.length) {
    fail('TRUNCATED', `${count} septets do not fit ${bytes.length} octets`, { field: 'septets', count });
  }
  const out = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const bit = bitOffset + i * 7;
    const at = bit >> 3;
    const shift = bit & 7;
    let v = bytes[at]! >> shift;
    if (shift > 1) v |= bytes[at + 1]! << (8 - shift);
    out[i] = v & 0x7f;
  }
  return out;
}
