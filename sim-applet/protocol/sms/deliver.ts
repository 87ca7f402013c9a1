/**
 * SMS-DELIVER (TS 23.040 §9.2.2.1), SC → MS: the TPDU that carries an OTA command to the
 * card. First octet: b1–0 TP-MTI 00, b2 TP-MMS, b3 TP-LP, b5 TP-SRI, b6 TP-UDHI, b7 TP-RP;
 * then TP-OA, TP-PID, TP-DCS, TP-SCTS, TP-UDL, TP-UD.
 */
import { fail } from '../../errors.js';
import { decodeAddress, encodeAddress, type Address } from './address.js';
import { decodeScts, encodeScts, SCTS_LENGTH, type Scts } from './timestamp.js';
import { checkByte, checkTpdu } from './tpdu-fields.js';
import { decodeUserData, encodeUserData, type UserData, type UserDataInput } from './user-data.js';

export interface SmsDeliverHeader {
  /** TP-MMS as coded (§9.2.3.2): true means no more messages are waiting in the SC. */
  mms: boolean;
  /** TP-LP: the message was forwarded or spawned by loop prevention (§9.2.3.28). */
  lp: boolean;
  /** TP-SRI: a status report will be returned to the originator. */
  sri: boolean;
  /** TP-RP: a reply path is set. */
  rp: boolean;
  oa: Address;
  pid: number;
  dcs: number;
  scts: Scts;
}

export interface SmsDeliver extends SmsDeliverHeader, UserData {
  type: 'deliver';
}

/** Flags default to false, TP-PID and TP-DCS to 0. */
export type SmsDeliverFields = Partial<Pick<SmsDeliverHeader, 'mms' | 'lp' | 'sri' | 'rp' | 'pid' | 'dcs'>> &
  Pick<SmsDeliverHeader, 'oa' | 'scts'> &
  UserDataInput;

const MMS = 0x04;
const LP = 0x08;
const SRI = 0x20;
const UDHI = 0x40;
const RP = 0x80;

export function encodeSmsDeliver(fields: SmsDeliverFields): Uint8Array {
  if (fields === null || typeof fields !== 'object') fail('INVALID_ARGUMENT', 'fields must be an object', { field: 'deliver' });
  const pid = fields.pid ?? 0;
  const dcs = fields.dcs ?? 0;
  checkByte(pid, 'pid');
  checkByte(dcs, 'dcs');
  const oa = encodeAddress(fields.oa, 'oa');
  const scts = encodeScts(fields.scts);
  const { udhi, udl, ud } = encodeUserData(dcs, fields);
  const out = new Uint8Array(1 + oa.length + 2 + SCTS_LENGTH + 1 + ud.length);
  out[0] =
    (fields.mms === true ? MMS : 0) |
    (fields.lp === true ? LP : 0) |
    (fields.sri === true ? SRI : 0) |
    (udhi ? UDHI : 0) |
    (fields.rp === true ? RP : 0);
  let o = 1;
  out.set(oa, o);
  o += oa.length;
  out[o++] = pid;
  out[o++] = dcs;
  out.set(scts, o);
  o += SCTS_LENGTH;
  out[o++] = udl;
  out.set(ud, o);
  return out;
}

/** The whole input must be one SMS-DELIVER; byte fields are views into it. */
export function decodeSmsDeliver(tpdu: Uint8Array): SmsDeliver {
  checkTpdu(tpdu);
  const first = tpdu[0]!;
  if ((first & 0x03) !== 0) fail('MALFORMED', 'TP-MTI is not SMS-DELIVER', { field: 'mti', value: first & 0x03 });
  const { address: oa, next } = decodeAddress(tpdu, 1, 'oa');
  let o = next;
  if (o + 2 > tpdu.length) fail('TRUNCATED', 'TP-PID/TP-DCS missing', { field: 'pid', offset: o });
  const pid = tpdu[o++]!;
  const dcs = tpdu[o++]!;
  const scts = decodeScts(tpdu, o);
  o += SCTS_LENGTH;
  const udhi = (first & UDHI) !== 0;
  return {
    type: 'deliver',
    mms: (first & MMS) !== 0,
    lp: (first & LP) !== 0,
    sri: (first & SRI) !== 0,
    rp: (first & RP) !== 0,
    oa,
    pid,
    dcs,
    scts,
    ...decodeUserData(tpdu, o, dcs, udhi),
  };
}
