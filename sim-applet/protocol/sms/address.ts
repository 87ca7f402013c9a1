/**
 * TP addresses (TP-OA, TP-DA, TS 23.040 §9.1.2.5): a length octet, the type-of-address
 * octet (ext bit, TON, NPI), then semi-octet digits, or for TON alphanumeric GSM 7-bit
 * packed text. The length counts digits, or for alphanumeric the semi-octets the packed
 * text uses.
 */
import { fail } from '../../errors.js';
import { decodeGsm7Text, encodeGsm7Text, packSeptets, unpackSeptets } from './gsm7.js';
import { decodeSemiOctets, encodeSemiOctets } from './semi-octets.js';

/** TS 23.040 §9.1.2.5 type of number (3 bits); 7 is reserved for extension. */
export const TON_VALUES = {
  unknown: 0,
  international: 1,
  national: 2,
  network_specific: 3,
  subscriber: 4,
  alphanumeric: 5,
  abbreviated: 6,
} as const;
export type Ton = keyof typeof TON_VALUES;

/** TS 23.040 §9.1.2.5 numbering plan identification (4 bits); the values not listed are reserved. */
export const NPI_VALUES = {
  unknown: 0,
  isdn_e164: 1,
  data_x121: 3,
  telex: 4,
  sc_specific_1: 5,
  sc_specific_2: 6,
  national: 8,
  private: 9,
  ermes: 10,
} as const;
export type Npi = keyof typeof NPI_VALUES;

const TON_NAMES = invert(TON_VALUES);
const NPI_NAMES = invert(NPI_VALUES);

function invert<K extends string>(map: Record<K, number>): Map<number, K> {
  return new Map(Object.entries(map).map(([k, v]) => [v as number, k as K]));
}

export interface Address {
  ton: Ton;
  npi: Npi;
  /** The number (0-9 * # a b c), or for TON alphanumeric the text. */
  digits: string;
  /**
   * Bit 8 of the type-of-address octet. TS 23.040 and TS 24.008 set it to 1 ("no
   * extension", the default when encoding); it is reported so that senders that clear it
   * (pySim-smpp2sim in its ENVELOPE address) can be reproduced byte for byte.
   */
  ext?: boolean;
}

/** TP addresses carry at most 10 octets of value (the field is 2–12 octets). */
export const MAX_ADDRESS_SEMI_OCTETS = 20;

export function encodeTonNpi(address: Pick<Address, 'ton' | 'npi' | 'ext'>, field = 'address'): number {
  const ton = Object.hasOwn(TON_VALUES, address.ton) ? TON_VALUES[address.ton] : undefined;
  const npi = Object.hasOwn(NPI_VALUES, address.npi) ? NPI_VALUES[address.npi] : undefined;
  if (ton === undefined) fail('INVALID_ARGUMENT', `${field}.ton unknown`, { field: `${field}.ton`, value: address.ton });
  if (npi === undefined) fail('INVALID_ARGUMENT', `${field}.npi unknown`, { field: `${field}.npi`, value: address.npi });
  return (address.ext === false ? 0 : 0x80) | (ton << 4) | npi;
}

/** Reserved TON (7) or NPI values are MALFORMED: nothing here could route them. */
export function decodeTonNpi(octet: number, field = 'address'): Required<Pick<Address, 'ton' | 'npi' | 'ext'>> {
  const ton = TON_NAMES.get((octet >> 4) & 0x07);
  const npi = NPI_NAMES.get(octet & 0x0f);
  if (ton === undefined) fail('MALFORMED', `${field}: reserved type of number`, { field: `${field}.ton`, value: (octet >> 4) & 0x07 });
  if (npi === undefined) fail('MALFORMED', `${field}: reserved numbering plan`, { field: `${field}.npi`, value: octet & 0x0f });
  return { ton, npi, ext: (octet & 0x80) !== 0 };
}

export function encodeAddress(address: Address, field = 'address'): Uint8Array {
  if (address === null || typeof address !== 'object') fail('INVALID_ARGUMENT', `${field} must be an object`, { field });
  const toa = encodeTonNpi(address, field);
  let value: Uint8Array;
  let length: number;
  if (address.ton === 'alphanumeric') {
    const septets = encodeGsm7Text(address.digits, `${field}.digits`);
    length = Math.ceil((septets.length * 7) / 4);
    if (length > MAX_ADDRESS_SEMI_OCTETS) {
      fail('TOO_LONG', `${field}: alphanumeric address over 11 septets`, { field: `${field}.digits`, septets: septets.length });
    }
    value = packSeptets(septets);
  } else {
    value = encodeSemiOctets(address.digits, `${field}.digits`);
    length = address.digits.length;
    if (length > MAX_ADDRESS_SEMI_OCTETS) fail('TOO_LONG', `${field}: over 20 digits`, { field: `${field}.digits`, digits: length });
  }
  const out = new Uint8Array(2 + value.length);
  out[0] = length;
  out[1] = toa;
  out.set(value, 2);
  return out;
}

/** The address at `offset`; `next` is the offset after it (the pySim vectors call the rest the trailer). */
export function decodeAddress(bytes: Uint8Array, offset = 0, field = 'address'): { address: Address; next: number } {
  if (offset + 2 > bytes.length) fail('TRUNCATED', `${field} ends early`, { field, offset });
  const length = bytes[offset]!;
  if (length > MAX_ADDRESS_SEMI_OCTETS) fail('MALFORMED', `${field}: length ${length} over 20 semi-octets`, { field, length });
  const { ton, npi, ext } = decodeTonNpi(bytes[offset + 1]!, field);
  const start = offset + 2;
  const end = start + ((length + 1) >> 1);
  if (end > bytes.length) fail('TRUNCATED', `${field} value ends early`, { field, length });
  const value = bytes.subarray(start, end);
  const digits =
    ton === 'alphanumeric'
      ? decodeGsm7Text(unpackSeptets(value, Math.floor((length * 4) / 7)))
      : decodeSemiOctets(value, length, `${field}.digits`);
  return { address: { ton, npi, digits, ext }, next: end };
}
