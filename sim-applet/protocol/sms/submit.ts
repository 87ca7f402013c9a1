/**
 * SMS-SUBMIT (TS 23.040 §9.2.2.2), MS → SC: how a handset sends a PoR back when the SPI
 * asks for it by SMS-SUBMIT. First octet: b1–0 TP-MTI 01, b2 TP-RD, b4–3 TP-VPF, b5 TP-SRR,
 * b6 TP-UDHI, b7 TP-RP; then TP-MR, TP-DA, TP-PID, TP-DCS, TP-VP, TP-UDL, TP-UD.
 */
import { fail } from '../../errors.js';
import { decodeAddress, encodeAddress, type Address } from './address.js';
import { checkByte, checkTpdu } from './tpdu-fields.js';
import { decodeUserData, encodeUserData, type UserData, type UserDataInput } from './user-data.js';
import { decodeValidityPeriod, encodeValidityPeriod, VPF_BITS, vpFormatOf, type ValidityPeriod } from './validity.js';

export interface SmsSubmitHeader {
  /** TP-RD: the SC rejects a duplicate (same TP-MR and TP-DA) still held. */
  rd: boolean;
  /** TP-SRR: a status report is requested. */
  srr: boolean;
  rp: boolean;
  /** TP-MR, 0–255. */
  mr: number;
  da: Address;
  pid: number;
  dcs: number;
  /** TP-VP with its format (TP-VPF). */
  vp: ValidityPeriod;
}

export interface SmsSubmit extends SmsSubmitHeader, UserData {
  type: 'submit';
}

/** Flags default to false, TP-MR/TP-PID/TP-DCS to 0, TP-VP to absent. */
export type SmsSubmitFields = Partial<Pick<SmsSubmitHeader, 'rd' | 'srr' | 'rp' | 'mr' | 'pid' | 'dcs' | 'vp'>> &
  Pick<SmsSubmitHeader, 'da'> &
  UserDataInput;

const RD = 0x04;
const SRR = 0x20;
const UDHI = 0x40;
const RP = 0x80;

export function encodeSmsSubmit(fields: SmsSubmitFields): Uint8Array {
  if (fields === null || typeof fields !== 'object') fail('INVALID_ARGUMENT', 'fields must be an object', { field: 'submit' });
  const mr = fields.mr ?? 0;
  const pid = fields.pid ?? 0;
  const dcs = fields.dcs ?? 0;
  checkByte(mr, 'mr');
  checkByte(pid, 'pid');
  checkByte(dcs, 'dcs');
  const vp: ValidityPeriod = fields.vp ?? { format: 'none' };
  const vpBytes = encodeValidityPeriod(vp);
  const da = encodeAddress(fields.da, 'da');
  const { udhi, udl, ud } = encodeUserData(dcs, fields);
  const out = new Uint8Array(2 + da.length + 2 + vpBytes.length + 1 + ud.length);
  out[0] =
    0x01 |
    (fields.rd === true ? RD : 0) |
    (VPF_BITS[vp.format] << 3) |
    (fields.srr === true ? SRR : 0) |
    (udhi ? UDHI : 0) |
    (fields.rp === true ? RP : 0);
  out[1] = mr;
  let o = 2;
  out.set(da, o);
  o += da.length;
  out[o++] = pid;
  out[o++] = dcs;
  out.set(vpBytes, o);
  o += vpBytes.length;
  out[o++] = udl;
  out.set(ud, o);
  return out;
}

/** The whole input must be one SMS-SUBMIT; byte fields are views into it. */
export function decodeSmsSubmit(tpdu: Uint8Array): SmsSubmit {
  checkTpdu(tpdu);
  const first = tpdu[0]!;
  if ((first & 0x03) !== 0x01) fail('MALFORMED', 'TP-MTI is not SMS-SUBMIT', { field: 'mti', value: first & 0x03 });
  if (tpdu.length < 2) fail('TRUNCATED', 'TP-MR missing', { field: 'mr' });
  const mr = tpdu[1]!;
  const { address: da, next } = decodeAddress(tpdu, 2, 'da');
  let o = next;
  if (o + 2 > tpdu.length) fail('TRUNCATED', 'TP-PID/TP-DCS missing', { field: 'pid', offset: o });
  const pid = tpdu[o++]!;
  const dcs = tpdu[o++]!;
  const { vp, next: afterVp } = decodeValidityPeriod(tpdu, o, vpFormatOf(first >> 3));
  const udhi = (first & UDHI) !== 0;
  return {
    type: 'submit',
    rd: (first & RD) !== 0,
    srr: (first & SRR) !== 0,
    rp: (first & RP) !== 0,
    mr,
    da,
    pid,
    dcs,
    vp,
    ...decodeUserData(tpdu, afterVp, dcs, udhi),
  };
}
