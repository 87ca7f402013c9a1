/**
 * TP-Validity-Period of SMS-SUBMIT (TS 23.040 §9.2.3.12), selected by TP-VPF: absent,
 * relative (one octet), enhanced (seven octets, kept raw) or absolute (an SCTS).
 */
import { fail } from '../../errors.js';
import { decodeScts, encodeScts, type Scts } from './timestamp.js';

export type ValidityPeriod =
  | { format: 'none' }
  | { format: 'relative'; value: number }
  | { format: 'enhanced'; octets: Uint8Array }
  | { format: 'absolute'; timestamp: Scts };

export type VpFormat = ValidityPeriod['format'];

/** TP-VPF (bits 4–3 of the SMS-SUBMIT first octet), §9.2.3.3. */
export const VPF_BITS: Readonly<Record<VpFormat, number>> = { none: 0, enhanced: 1, relative: 2, absolute: 3 };
const VPF_FORMATS: readonly VpFormat[] = ['none', 'enhanced', 'relative', 'absolute'];

export function vpFormatOf(vpf: number): VpFormat {
  return VPF_FORMATS[vpf & 3]!;
}

export function encodeValidityPeriod(vp: ValidityPeriod): Uint8Array {
  switch (vp.format) {
    case 'none':
      return new Uint8Array(0);
    case 'relative':
      if (!Number.isInteger(vp.value) || vp.value < 0 || vp.value > 255) {
        fail('INVALID_ARGUMENT', 'relative validity period must be 0..255', { field: 'vp.value', value: vp.value });
      }
      return Uint8Array.of(vp.value);
    case 'enhanced':
      if (!(vp.octets instanceof Uint8Array) || vp.octets.length !== 7) {
        fail('INVALID_ARGUMENT', 'enhanced validity period is 7 octets', { field: 'vp.octets' });
      }
      return Uint8Array.from(vp.octets);
    case 'absolute':
      return encodeScts(vp.timestamp, 'vp.timestamp');
    default:
      return fail('INVALID_ARGUMENT', 'unknown validity period format', { field: 'vp.format', value: (vp as { format: unknown }).format });
  }
}

/** The VP of `format` at `offset` and the offset after it. */
export function decodeValidityPeriod(bytes: Uint8Array, offset: number, format: VpFormat): { vp: ValidityPeriod; next: number } {
  switch (format) {
    case 'none':
      return { vp: { format }, next: offset };
    case 'relative':
      if (offset >= bytes.length) fail('TRUNCATED', 'validity period missing', { field: 'vp', offset });
      return { vp: { format, value: bytes[offset]! }, next: offset + 1 };
    case 'enhanced':
      if (offset + 7 > bytes.length) fail('TRUNCATED', 'validity period ends early', { field: 'vp', offset });
      return { vp: { format, octets: bytes.subarray(offset, offset + 7) }, next: offset + 7 };
    case 'absolute':
      return { vp: { format, timestamp: decodeScts(bytes, offset, 'vp.timestamp') }, next: offset + 7 };
  }
}

/** §9.2.3.12.1: the relative VP octet as a duration in minutes (5 minutes up to 63 weeks). */
export function relativeVpMinutes(value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > 255) fail('INVALID_ARGUMENT', 'relative VP must be 0..255', { field: 'vp', value });
  if (value <= 143) return (value + 1) * 5;
  if (value <= 167) return 12 * 60 + (value - 143) * 30;
  if (value <= 196) return (value - 166) * 24 * 60;
  return (value - 192) * 7 * 24 * 60;
}

/** The smallest relative VP octet whose duration covers `minutes` (255, 63 weeks, at most). */
export function relativeVpFor(minutes: number): number {
  if (!Number.isFinite(minutes) || minutes < 0) fail('INVALID_ARGUMENT', 'minutes must be non-negative', { field: 'minutes', value: minutes });
  if (minutes <= 720) return Math.max(0, Math.ceil(minutes / 5) - 1);
  if (minutes <= 1440) return 143 + Math.ceil((minutes - 720) / 30);
  if (minutes <= 30 * 1440) return 166 + Math.ceil(minutes / 1440);
  return Math.min(255, 192 + Math.ceil(minutes / (7 * 1440)));
}
