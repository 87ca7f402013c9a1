/**
 * ENVELOPE (SMS-PP download), TS 31.111 §7.1.1 with the TLV coding of TS 102 223 §7.1 and
 * §8: how a handset hands an SMS-DELIVER with TP-PID 7F to the card.
 *
 *   D1 | len | 82 02 83 81 (device identities, network → UICC)
 *            | 86 len TON/NPI digits (the SC address, optional)
 *            | 8B len TPDU
 *
 * D1 is a BER-TLV tag; the elements inside are COMPREHENSION-TLVs, read with or without
 * their CR bit. The address holds TON/NPI and BCD digits with no digit count (TS 102 223
 * §8.1), unlike a TP address.
 */
import { fail } from '../errors.js';
import { decodeSemiOctets, decodeTonNpi, encodeSemiOctets, encodeTonNpi, type Address } from './sms/index.js';
import { decodeBerTlv, decodeComprehensionTlvs, encodeBerTlv, encodeComprehensionTlv, type ComprehensionTlv } from './tlv.js';

/** TS 101 220 §7.2: BER-TLV tag of the SMS-PP download envelope. */
export const SMS_PP_DOWNLOAD_TAG = 0xd1;

/** COMPREHENSION-TLV tags (TS 101 220 §7.3, without the CR bit). */
export const CTLV_TAG = { DEVICE_IDENTITIES: 0x02, ADDRESS: 0x06, SMS_TPDU: 0x0b } as const;

/** Device identities (TS 102 223 §8.7). */
export const DEVICE = { KEYPAD: 0x01, DISPLAY: 0x02, EARPIECE: 0x03, UICC: 0x81, TERMINAL: 0x82, NETWORK: 0x83 } as const;

/** ENVELOPE class byte: 0x80 for a UICC (TS 102 221 §10.1.1), 0xA0 for a GSM SIM (TS 51.011 §9.2). */
export const ENVELOPE_CLA = { UICC: 0x80, SIM: 0xa0 } as const;
export const INS_ENVELOPE = 0xc2;

/** The SC address of TS 102 223 §8.1: TON/NPI and BCD digits, no alphanumeric form. */
export type EnvelopeAddress = Address;

export interface SmsPpDownloadInput {
  /** The service centre address (TS 31.111 §7.1.1.2: included when the terminal has it). */
  address?: EnvelopeAddress;
  /** The SMS-DELIVER TPDU (TS 23.040), as received. */
  tpdu: Uint8Array;
}

export interface SmsPpDownload extends SmsPpDownloadInput {
  /** Absent when the envelope carried none (TS 31.111 requires it; the decoder tolerates its absence). */
  deviceIdentities?: { source: number; destination: number };
  /** Elements not used here and not comprehension-required, kept as read. */
  unknown: ComprehensionTlv[];
}

export function encodeSmsPpDownload(input: SmsPpDownloadInput): Uint8Array {
  if (input === null || typeof input !== 'object') fail('INVALID_ARGUMENT', 'input must be an object', { field: 'envelope' });
  if (!(input.tpdu instanceof Uint8Array)) fail('INVALID_ARGUMENT', 'tpdu must be a Uint8Array', { field: 'tpdu' });
  const parts = [encodeComprehensionTlv(CTLV_TAG.DEVICE_IDENTITIES, Uint8Array.of(DEVICE.NETWORK, DEVICE.UICC), true)];
  if (input.address !== undefined) parts.push(encodeComprehensionTlv(CTLV_TAG.ADDRESS, encodeAddressValue(input.address), true));
  parts.push(encodeComprehensionTlv(CTLV_TAG.SMS_TPDU, input.tpdu, true));
  let length = 0;
  for (const p of parts) length += p.length;
  const body = new Uint8Array(length);
  let o = 0;
  for (const p of parts) {
    body.set(p, o);
    o += p.length;
  }
  return encodeBerTlv(SMS_PP_DOWNLOAD_TAG, body);
}

function encodeAddressValue(address: EnvelopeAddress): Uint8Array {
  if (address === null || typeof address !== 'object') fail('INVALID_ARGUMENT', 'address must be an object', { field: 'address' });
  if (address.ton === 'alphanumeric') fail('INVALID_ARGUMENT', 'the envelope address is BCD: no alphanumeric form', { field: 'address.ton' });
  const toa = encodeTonNpi(address, 'address');
  const digits = encodeSemiOctets(address.digits, 'address.digits');
  const value = new Uint8Array(1 + digits.length);
  value[0] = toa;
  value.set(digits, 1);
  return value;
}

/**
 * The whole input must be one D1 TLV. Missing 8B (or a tag other than D1) is MALFORMED, a
 * repeated element MALFORMED, an unknown element with its CR bit set UNSUPPORTED
 * (TS 102 223 §6.10: the receiver must understand it to go on).
 */
export function decodeSmsPpDownload(bytes: Uint8Array): SmsPpDownload {
  const outer = decodeBerTlv(bytes);
  if (outer.tag !== SMS_PP_DOWNLOAD_TAG) fail('MALFORMED', 'not an SMS-PP download envelope (tag D1)', { field: 'tag', tag: outer.tag });
  const seen = new Set<number>();
  const unknown: ComprehensionTlv[] = [];
  let deviceIdentities: SmsPpDownload['deviceIdentities'];
  let address: EnvelopeAddress | undefined;
  let tpdu: Uint8Array | undefined;
  for (const tlv of decodeComprehensionTlvs(outer.value)) {
    const known = tlv.tag === CTLV_TAG.DEVICE_IDENTITIES || tlv.tag === CTLV_TAG.ADDRESS || tlv.tag === CTLV_TAG.SMS_TPDU;
    if (!known) {
      if (tlv.comprehensionRequired) fail('UNSUPPORTED', `comprehension-required element ${tlv.tag} not understood`, { field: 'envelope.tlv', tag: tlv.tag });
      unknown.push(tlv);
      continue;
    }
    if (seen.has(tlv.tag)) fail('MALFORMED', `element ${tlv.tag} repeated`, { field: 'envelope.tlv', tag: tlv.tag });
    seen.add(tlv.tag);
    if (tlv.tag === CTLV_TAG.DEVICE_IDENTITIES) {
      if (tlv.value.length !== 2) fail('MALFORMED', 'device identities must be 2 bytes', { field: 'deviceIdentities', length: tlv.value.length });
      deviceIdentities = { source: tlv.value[0]!, destination: tlv.value[1]! };
    } else if (tlv.tag === CTLV_TAG.ADDRESS) {
      if (tlv.value.length === 0) fail('MALFORMED', 'address without TON/NPI', { field: 'address' });
      const { ton, npi, ext } = decodeTonNpi(tlv.value[0]!, 'address');
      address = { ton, npi, ext, digits: decodeSemiOctets(tlv.value.subarray(1), undefined, 'address.digits') };
    } else {
      tpdu = tlv.value;
    }
  }
  if (tpdu === undefined) fail('MALFORMED', 'SMS TPDU element (8B) missing', { field: 'tpdu' });
  const out: SmsPpDownload = { tpdu, unknown };
  if (deviceIdentities !== undefined) out.deviceIdentities = deviceIdentities;
  if (address !== undefined) out.address = address;
  return out;
}

/** The ENVELOPE C-APDU `CLA C2 00 00 Lc data` (short Lc: the envelope must be at most 255 bytes). */
export function encodeSmsPpDownloadApdu(input: SmsPpDownloadInput & { cla?: number }): Uint8Array {
  const cla = input.cla ?? ENVELOPE_CLA.UICC;
  if (cla !== ENVELOPE_CLA.UICC && cla !== ENVELOPE_CLA.SIM) fail('INVALID_ARGUMENT', 'CLA must be 0x80 (UICC) or 0xA0 (SIM)', { field: 'cla', value: cla });
  const data = encodeSmsPpDownload(input);
  if (data.length > 255) fail('TOO_LONG', `envelope ${data.length} bytes over 255`, { field: 'envelope', length: data.length });
  const apdu = new Uint8Array(5 + data.length);
  apdu.set([cla, INS_ENVELOPE, 0, 0, data.length], 0);
  apdu.set(data, 5);
  return apdu;
}

/**
 * An ENVELOPE C-APDU carrying an SMS-PP download. A trailing Le byte (case 4) is accepted
 * and reported; INS other than C2 or P1-P2 other than 00 00 is MALFORMED.
 */
export function decodeSmsPpDownloadApdu(apdu: Uint8Array): SmsPpDownload & { cla: number; le?: number } {
  if (!(apdu instanceof Uint8Array)) fail('INVALID_ARGUMENT', 'APDU must be a Uint8Array', { field: 'apdu' });
  if (apdu.length < 5) fail('TRUNCATED', 'APDU header missing', { field: 'apdu', length: apdu.length });
  if (apdu[1] !== INS_ENVELOPE) fail('MALFORMED', 'not an ENVELOPE (INS C2)', { field: 'ins', value: apdu[1] });
  if (apdu[2] !== 0 || apdu[3] !== 0) fail('MALFORMED', 'ENVELOPE P1-P2 must be 00 00', { field: 'p1p2' });
  const lc = apdu[4]!;
  if (lc === 0) fail('MALFORMED', 'ENVELOPE without data', { field: 'lc' });
  const end = 5 + lc;
  if (end > apdu.length) fail('LENGTH_MISMATCH', `Lc ${lc} overruns the APDU`, { field: 'lc', lc, available: apdu.length - 5 });
  if (apdu.length > end + 1) fail('TRAILING_BYTES', 'bytes after Le', { field: 'apdu', extra: apdu.length - end - 1 });
  const result: SmsPpDownload & { cla: number; le?: number } = { cla: apdu[0]!, ...decodeSmsPpDownload(apdu.subarray(5, end)) };
  if (apdu.length === end + 1) result.le = apdu[end]!;
  return result;
}
