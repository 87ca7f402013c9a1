/**
 * SMS-DELIVER-REPORT (TS 23.040 §9.2.2.1a), MS → SC in answer to an SMS-DELIVER: the
 * handset carries the card's PoR back in it when the SPI does not ask for an SMS-SUBMIT
 * (TS 31.115). For RP-ACK: first octet (b1–0 TP-MTI 00, b6 TP-UDHI), TP-PI, then the
 * TP-PID, TP-DCS, TP-UDL/TP-UD that TP-PI announces. For RP-ERROR a TP-FCS octet follows the
 * first octet; the TPDU does not say which of the two it rides in, so the caller does.
 */
import { fail } from '../../errors.js';
import { checkByte, checkTpdu } from './tpdu-fields.js';
import { decodeUserData, encodeUserData, type UserData, type UserDataInput } from './user-data.js';

/** The user data fields (udl, ud, udh, payload) are present exactly when TP-PI announces TP-UDL. */
export interface SmsDeliverReport extends Partial<Omit<UserData, 'udhi'>> {
  type: 'deliver-report';
  udhi: boolean;
  /** TP-FCS, present in the RP-ERROR form only (e.g. 0xD5, (U)SIM data download error). */
  failureCause?: number;
  pid?: number;
  /** TP-DCS as carried; when absent while user data is present, the UD is read as coded by DCS 0 (GSM 7-bit). */
  dcs?: number;
}

/** Absent TP-PID/TP-DCS/user data are left out of TP-PI; `failureCause` makes it the RP-ERROR form. */
export type SmsDeliverReportFields = { failureCause?: number; pid?: number; dcs?: number } & (
  | UserDataInput
  | { payload?: undefined; ud?: undefined; udh?: undefined }
);

const UDHI = 0x40;
const PI_PID = 0x01;
const PI_DCS = 0x02;
const PI_UDL = 0x04;
const PI_EXTENSION = 0x80;

export function encodeSmsDeliverReport(fields: SmsDeliverReportFields): Uint8Array {
  if (fields === null || typeof fields !== 'object') fail('INVALID_ARGUMENT', 'fields must be an object', { field: 'deliverReport' });
  const { failureCause, pid, dcs } = fields;
  if (failureCause !== undefined) checkByte(failureCause, 'failureCause');
  if (pid !== undefined) checkByte(pid, 'pid');
  if (dcs !== undefined) checkByte(dcs, 'dcs');
  const loose = fields as { payload?: unknown; ud?: unknown; udh?: unknown };
  const hasUd = loose.payload !== undefined || loose.ud !== undefined;
  if (!hasUd && loose.udh !== undefined) fail('INVALID_ARGUMENT', 'udh given without payload', { field: 'udh' });
  const user = hasUd ? encodeUserData(dcs ?? 0, fields as UserDataInput) : undefined;
  const head: number[] = [user?.udhi === true ? UDHI : 0];
  if (failureCause !== undefined) head.push(failureCause);
  head.push((pid !== undefined ? PI_PID : 0) | (dcs !== undefined ? PI_DCS : 0) | (user !== undefined ? PI_UDL : 0));
  if (pid !== undefined) head.push(pid);
  if (dcs !== undefined) head.push(dcs);
  if (user !== undefined) head.push(user.udl);
  const out = new Uint8Array(head.length + (user?.ud.length ?? 0));
  out.set(head, 0);
  if (user !== undefined) out.set(user.ud, head.length);
  return out;
}

/**
 * The whole input must be one SMS-DELIVER-REPORT. `error` selects the RP-ERROR form (with
 * TP-FCS). Further TP-PI octets (b8 extension) are skipped: all their bits are reserved, and
 * §9.2.3.27 has reserved bits ignored.
 */
export function decodeSmsDeliverReport(tpdu: Uint8Array, options: { error?: boolean } = {}): SmsDeliverReport {
  checkTpdu(tpdu);
  const first = tpdu[0]!;
  if ((first & 0x03) !== 0) fail('MALFORMED', 'TP-MTI is not SMS-DELIVER-REPORT', { field: 'mti', value: first & 0x03 });
  const udhi = (first & UDHI) !== 0;
  let o = 1;
  const report: SmsDeliverReport = { type: 'deliver-report', udhi };
  if (options.error === true) {
    if (o >= tpdu.length) fail('TRUNCATED', 'TP-FCS missing', { field: 'failureCause' });
    report.failureCause = tpdu[o++]!;
  }
  if (o >= tpdu.length) {
    // §9.2.2.1a: TP-PI is mandatory only when something follows it.
    if (udhi) fail('MALFORMED', 'TP-UDHI set without user data', { field: 'udhi' });
    return report;
  }
  const pi = tpdu[o++]!;
  let ext = pi;
  while (ext & PI_EXTENSION) {
    if (o >= tpdu.length) fail('TRUNCATED', 'TP-PI extension octet missing', { field: 'pi' });
    ext = tpdu[o++]!;
  }
  if (pi & PI_PID) {
    if (o >= tpdu.length) fail('TRUNCATED', 'TP-PID missing', { field: 'pid' });
    report.pid = tpdu[o++]!;
  }
  if (pi & PI_DCS) {
    if (o >= tpdu.length) fail('TRUNCATED', 'TP-DCS missing', { field: 'dcs' });
    report.dcs = tpdu[o++]!;
  }
  if (pi & PI_UDL) {
    return { ...report, ...decodeUserData(tpdu, o, report.dcs ?? 0, udhi) };
  }
  if (o !== tpdu.length) fail('TRAILING_BYTES', 'bytes after the last parameter TP-PI announces', { field: 'tpdu', extra: tpdu.length - o });
  if (udhi) fail('MALFORMED', 'TP-UDHI set without user data', { field: 'udhi' });
  return report;
}
