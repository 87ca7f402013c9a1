/**
 * The Security Parameter Indicator: 2 bytes saying how a command packet is secured and
 * what Proof of Receipt the sender wants (TS 102 225 §5.1.1, TS 31.115 §4.2).
 */
import { fail } from '../../errors.js';

/** RC (redundancy check), CC (cryptographic checksum), DS (digital signature). */
export type IntegrityMode = 'none' | 'rc' | 'cc' | 'ds';
/**
 * TS 102 225 §5.1.1 SPI1 b5b4: 00 no counter, 01 counter available but no replay check,
 * 10 process only if higher than the receiver's, 11 only if exactly one higher. (pySim calls
 * 11 "must be lower"; the standard says one higher.)
 */
export type CounterMode = 'none' | 'no-replay-check' | 'higher' | 'one-higher';
/** SPI2 b2b1: 00 no PoR, 01 PoR always, 10 PoR on error only, 11 reserved. */
export type PorMode = 'none' | 'always' | 'on-error';

export interface Spi {
  integrity: IntegrityMode;
  ciphered: boolean;
  counter: CounterMode;
  por: PorMode;
  porIntegrity: IntegrityMode;
  porCiphered: boolean;
  /** TS 31.115 §4.2: PoR by SMS-SUBMIT, else in the SMS-DELIVER-REPORT. */
  porViaSubmit: boolean;
}

const INTEGRITY: readonly IntegrityMode[] = ['none', 'rc', 'cc', 'ds'];
const COUNTER: readonly CounterMode[] = ['none', 'no-replay-check', 'higher', 'one-higher'];
const POR: readonly PorMode[] = ['none', 'always', 'on-error'];

// SPI1
const INTEGRITY_MASK = 0x03;
const CIPHER_BIT = 0x04;
const COUNTER_MASK = 0x18;
const COUNTER_SHIFT = 3;
const SPI1_RESERVED = 0xe0;
// SPI2
const POR_MASK = 0x03;
const POR_RESERVED_VALUE = 0x03;
const POR_INTEGRITY_MASK = 0x0c;
const POR_INTEGRITY_SHIFT = 2;
const POR_CIPHER_BIT = 0x10;
const POR_SUBMIT_BIT = 0x20;
const SPI2_RESERVED = 0xc0;

function indexIn<T>(list: readonly T[], value: T, field: string): number {
  const i = list.indexOf(value);
  if (i < 0) fail('INVALID_ARGUMENT', `spi.${field} must be one of ${list.join(', ')}`, { field: `spi.${field}`, value });
  return i;
}

function checkBoolean(value: unknown, field: string): void {
  if (typeof value !== 'boolean') fail('INVALID_ARGUMENT', `spi.${field} must be a boolean`, { field: `spi.${field}`, value });
}

/** The SPI as a 16-bit number, SPI1 in the high byte: what the encoders write. */
export function spiToUint16(spi: Spi): number {
  if (typeof spi !== 'object' || spi === null) fail('INVALID_ARGUMENT', 'spi must be an object', { field: 'spi' });
  checkBoolean(spi.ciphered, 'ciphered');
  checkBoolean(spi.porCiphered, 'porCiphered');
  checkBoolean(spi.porViaSubmit, 'porViaSubmit');
  const spi1 =
    indexIn(INTEGRITY, spi.integrity, 'integrity') |
    (spi.ciphered ? CIPHER_BIT : 0) |
    (indexIn(COUNTER, spi.counter, 'counter') << COUNTER_SHIFT);
  const spi2 =
    indexIn(POR, spi.por, 'por') |
    (indexIn(INTEGRITY, spi.porIntegrity, 'porIntegrity') << POR_INTEGRITY_SHIFT) |
    (spi.porCiphered ? POR_CIPHER_BIT : 0) |
    (spi.porViaSubmit ? POR_SUBMIT_BIT : 0);
  return (spi1 << 8) | spi2;
}

export function encodeSpi(spi: Spi): Uint8Array {
  const v = spiToUint16(spi);
  return Uint8Array.of(v >>> 8, v & 0xff);
}

/**
 * Decode SPI1 and SPI2. Reserved bits set, or the reserved PoR value 11, raise MALFORMED
 * with `details.field` 'spi', the byte (1 or 2) and the offending bits, so that a card can
 * answer "undefined security error" rather than guess (TS 102 225 §5.1.1 leaves them RFU).
 */
export function decodeSpi(bytes: Uint8Array): Spi {
  if (!(bytes instanceof Uint8Array) || bytes.length !== 2) {
    fail('INVALID_ARGUMENT', 'spi must be 2 bytes', { field: 'spi', length: bytes instanceof Uint8Array ? bytes.length : undefined });
  }
  return spiFromBytes(bytes[0]!, bytes[1]!);
}

export function spiFromBytes(spi1: number, spi2: number): Spi {
  if (spi1 & SPI1_RESERVED) {
    fail('MALFORMED', 'SPI1 has reserved bits set', { field: 'spi', byte: 1, value: spi1, reservedBits: spi1 & SPI1_RESERVED });
  }
  if (spi2 & SPI2_RESERVED) {
    fail('MALFORMED', 'SPI2 has reserved bits set', { field: 'spi', byte: 2, value: spi2, reservedBits: spi2 & SPI2_RESERVED });
  }
  if ((spi2 & POR_MASK) === POR_RESERVED_VALUE) {
    fail('MALFORMED', 'SPI2 PoR value 11 is reserved', { field: 'spi', byte: 2, value: spi2, reservedBits: POR_MASK });
  }
  return {
    integrity: INTEGRITY[spi1 & INTEGRITY_MASK]!,
    ciphered: (spi1 & CIPHER_BIT) !== 0,
    counter: COUNTER[(spi1 & COUNTER_MASK) >>> COUNTER_SHIFT]!,
    por: POR[spi2 & POR_MASK]!,
    porIntegrity: INTEGRITY[(spi2 & POR_INTEGRITY_MASK) >>> POR_INTEGRITY_SHIFT]!,
    porCiphered: (spi2 & POR_CIPHER_BIT) !== 0,
    porViaSubmit: (spi2 & POR_SUBMIT_BIT) !== 0,
  };
}
