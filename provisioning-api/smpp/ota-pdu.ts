/**
 * submit_sm for OTA (SMPP 3.4 §4.4.1 with the values TS 23.048/31.115 SIM data download
 * needs): esm_class 0x40 (UDHI: the user data starts with its UDH, §5.2.12), protocol_id
 * 0x7F (TS 23.040 §9.2.3.9 SIM data download), data_coding 0xF6 (TS 23.038: 8-bit data,
 * class 2, SIM specific), registered_delivery 0x01 for a receipt whatever the outcome
 * (§5.2.17). One submit_sm per SMS part, each with its own concatenation UDH; user data over
 * 254 octets goes in message_payload (§5.3.2.32) with an empty short_message.
 */
import type smppTypes from 'smpp';
import { MAX_SHORT_MESSAGE } from './bind.js';

export const ESM_CLASS_UDHI = 0x40;
/** §5.2.12: bits 5-2 = 0001, an SMSC delivery receipt. */
export const ESM_CLASS_DELIVERY_RECEIPT = 0x04;
export const PID_SIM_DATA_DOWNLOAD = 0x7f;
export const DCS_SIM_SPECIFIC_8BIT = 0xf6;
/** §5.2.5, §5.2.6: international, ISDN (E.164). */
export const TON_INTERNATIONAL = 1;
export const NPI_ISDN = 1;

export interface SmppAddress {
  ton: number;
  npi: number;
  /** Digits only (E.164 without '+'), or the alphanumeric sender. */
  address: string;
}

export interface OtaSubmitOptions {
  source: SmppAddress;
  /** E.164 digits of the SIM, with or without '+'. */
  msisdn: string;
  registeredDelivery?: boolean;
  /** Relative validity (§7.1.1.2), seconds; the SMSC's default when absent. */
  validitySeconds?: number;
}

export function otaSubmitFields(userData: Uint8Array, o: OtaSubmitOptions): smppTypes.PduFields {
  const ud = Buffer.from(userData.buffer, userData.byteOffset, userData.length);
  return {
    source_addr_ton: o.source.ton,
    source_addr_npi: o.source.npi,
    source_addr: o.source.address,
    dest_addr_ton: TON_INTERNATIONAL,
    dest_addr_npi: NPI_ISDN,
    destination_addr: msisdnDigits(o.msisdn),
    esm_class: ESM_CLASS_UDHI,
    protocol_id: PID_SIM_DATA_DOWNLOAD,
    data_coding: DCS_SIM_SPECIFIC_8BIT,
    registered_delivery: o.registeredDelivery === false ? 0 : 1,
    ...(o.validitySeconds ? { validity_period: relativeTime(o.validitySeconds) } : {}),
    ...(ud.length > MAX_SHORT_MESSAGE ? { short_message: Buffer.alloc(0), message_payload: ud } : { short_message: ud }),
  };
}

export function msisdnDigits(msisdn: string): string {
  return msisdn.startsWith('+') ? msisdn.slice(1) : msisdn;
}

/** §7.1.1.2 relative time `YYMMDDhhmmss000R`. */
export function relativeTime(seconds: number): string {
  let s = Math.max(1, Math.floor(seconds));
  const parts = [Math.floor(s / (365 * 86400))];
  s %= 365 * 86400;
  parts.push(Math.floor(s / (30 * 86400)));
  s %= 30 * 86400;
  parts.push(Math.floor(s / 86400), Math.floor((s % 86400) / 3600), Math.floor((s % 3600) / 60), s % 60);
  return parts.map((v) => String(Math.min(v, 99)).padStart(2, '0')).join('') + '000R';
}

/** The user data of a deliver_sm or submit_sm: short_message, or message_payload when that is used. */
export function userDataOf(pdu: smppTypes.PDU): Buffer {
  const payload = pdu.message_payload;
  if (Buffer.isBuffer(payload) && payload.length > 0) return payload;
  return Buffer.isBuffer(pdu.short_message) ? pdu.short_message : Buffer.alloc(0);
}
