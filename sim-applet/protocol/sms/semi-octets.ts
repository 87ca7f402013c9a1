/**
 * Semi-octets (swapped-nibble BCD), TS 23.040 §9.1.2.3: the first digit sits in the low
 * nibble, an odd count ends with the filler 1111 in the high nibble. Shared by TP
 * addresses, TP-SCTS/TP-VP and the TS 102 223 §8.1 address of the ENVELOPE.
 */
import { fail } from '../../errors.js';

/** TS 23.040 §9.1.2.5 digit coding: 0–9, then 1010 '*', 1011 '#', 1100 'a', 1101 'b', 1110 'c'; 1111 is the filler. */
const DIGIT_CHARS = '0123456789*#abc';
const FILLER = 0xf;

const CHAR_TO_NIBBLE = new Map<string, number>();
for (let i = 0; i < DIGIT_CHARS.length; i++) {
  CHAR_TO_NIBBLE.set(DIGIT_CHARS[i]!, i);
  CHAR_TO_NIBBLE.set(DIGIT_CHARS[i]!.toUpperCase(), i);
}
const NIBBLE_CODES = Array.from(DIGIT_CHARS, (c) => c.charCodeAt(0));

/** The digit string as semi-octets; `field` names it in errors. Accepts `*#abc` (and `ABC`). */
export function encodeSemiOctets(digits: string, field = 'digits'): Uint8Array {
  if (typeof digits !== 'string') fail('INVALID_ARGUMENT', `${field} must be a string`, { field });
  const out = new Uint8Array((digits.length + 1) >> 1);
  for (let i = 0; i < digits.length; i++) {
    const nibble = CHAR_TO_NIBBLE.get(digits[i]!);
    if (nibble === undefined) {
      fail('INVALID_ARGUMENT', `${field} may hold only 0-9 * # a b c`, { field, index: i, char: digits[i] });
    }
    out[i >> 1]! |= i & 1 ? nibble << 4 : nibble;
  }
  if (digits.length & 1) out[out.length - 1]! |= FILLER << 4;
  return out;
}

/**
 * Decode semi-octets. With `count` (a TP address length) exactly that many digits are read
 * and a filler inside them is MALFORMED; the unused high nibble of an odd count is not
 * checked, the count being authoritative. Without `count` (TS 102 223 §8.1) the digits run
 * to the first filler, after which only fillers may follow.
 */
export function decodeSemiOctets(bytes: Uint8Array, count?: number, field = 'digits'): string {
  const total = bytes.length * 2;
  const n = count ?? total;
  if (n > total) fail('TRUNCATED', `${field}: ${n} digits announced, room for ${total}`, { field, count: n });
  const codes: number[] = [];
  for (let i = 0; i < n; i++) {
    const nibble = i & 1 ? bytes[i >> 1]! >> 4 : bytes[i >> 1]! & 0x0f;
    if (nibble === FILLER) {
      if (count !== undefined) fail('MALFORMED', `${field}: filler inside the digits`, { field, index: i });
      for (let j = i + 1; j < total; j++) {
        const rest = j & 1 ? bytes[j >> 1]! >> 4 : bytes[j >> 1]! & 0x0f;
        if (rest !== FILLER) fail('MALFORMED', `${field}: digit after the filler`, { field, index: j });
      }
      break;
    }
    codes.push(NIBBLE_CODES[nibble]!);
  }
  return String.fromCharCode(...codes);
}

/** One swapped BCD octet for 0–99 (TS 23.040 §9.2.3.11: the tens digit in the low nibble). */
export function encodeBcdOctet(value: number, field: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 99) fail('INVALID_ARGUMENT', `${field} must be 0..99`, { field, value });
  return ((value % 10) << 4) | Math.floor(value / 10);
}

export function decodeBcdOctet(octet: number, field: string): number {
  const tens = octet & 0x0f;
  const units = octet >> 4;
  if (tens > 9 || units > 9) fail('MALFORMED', `${field} is not BCD`, { field, value: octet });
  return tens * 10 + units;
}
