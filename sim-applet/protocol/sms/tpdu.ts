/**
 * Which TPDU a byte string is: TP-MTI (TS 23.040 §9.2.3.1) means different things in each
 * direction, so the caller names the direction. Only the TPDUs OTA needs are decoded.
 */
import { fail } from '../../errors.js';
import { decodeSmsDeliverReport, type SmsDeliverReport } from './deliver-report.js';
import { decodeSmsDeliver, type SmsDeliver } from './deliver.js';
import { decodeSmsSubmit, type SmsSubmit } from './submit.js';
import { checkTpdu } from './tpdu-fields.js';

export type SmsDirection = 'sc-to-ms' | 'ms-to-sc';
export type SmsTpdu = SmsDeliver | SmsSubmit | SmsDeliverReport;

const NAMES: Record<SmsDirection, readonly string[]> = {
  'sc-to-ms': ['SMS-DELIVER', 'SMS-SUBMIT-REPORT', 'SMS-STATUS-REPORT', 'reserved'],
  'ms-to-sc': ['SMS-DELIVER-REPORT', 'SMS-SUBMIT', 'SMS-COMMAND', 'reserved'],
};

/** TP-MTI by name, e.g. to log what arrived. */
export function tpduTypeName(first: number, direction: SmsDirection): string {
  return NAMES[direction][first & 3]!;
}

/**
 * SC→MS: SMS-DELIVER. MS→SC: SMS-SUBMIT, or SMS-DELIVER-REPORT in its RP-ACK form (pass
 * `deliverReportError` for RP-ERROR). SMS-SUBMIT-REPORT, -STATUS-REPORT and -COMMAND are
 * UNSUPPORTED; the reserved MTI 11 is MALFORMED.
 */
export function decodeSmsTpdu(tpdu: Uint8Array, direction: SmsDirection, options: { deliverReportError?: boolean } = {}): SmsTpdu {
  checkTpdu(tpdu);
  const mti = tpdu[0]! & 3;
  if (direction !== 'sc-to-ms' && direction !== 'ms-to-sc') fail('INVALID_ARGUMENT', 'unknown direction', { field: 'direction', value: direction });
  if (mti === 3) fail('MALFORMED', 'reserved TP-MTI 11', { field: 'mti', value: mti });
  if (direction === 'sc-to-ms' && mti === 0) return decodeSmsDeliver(tpdu);
  if (direction === 'ms-to-sc' && mti === 1) return decodeSmsSubmit(tpdu);
  if (direction === 'ms-to-sc' && mti === 0) return decodeSmsDeliverReport(tpdu, { error: options.deliverReportError === true });
  return fail('UNSUPPORTED', `${tpduTypeName(mti, direction)} is not decoded here`, { field: 'mti', value: mti, direction });
}
