/**
 * Checks for the identifiers on a vendor inventory row. Each returns null when the value is
 * valid, or the reason it is not (a stable code and a short message), so that a parser can
 * collect every problem of a row instead of stopping at the first.
 */
import { isLuhnValid } from './luhn.js';
import type { InventoryErrorCode } from './errors.js';

export interface FieldProblem {
  code: InventoryErrorCode;
  message: string;
}

function isDigits(value: string): boolean {
  if (value.length === 0) return false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** 1 for the character codes of hex digits (either case). */
const HEX_DIGIT = new Uint8Array(128);
for (const c of '0123456789abcdefABCDEF') HEX_DIGIT[c.charCodeAt(0)] = 1;

/** Whether `value` is an even-length string of hex digits (either case). */
export function isHex(value: string): boolean {
  if (value.length % 2 !== 0) return false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c > 127 || HEX_DIGIT[c] === 0) return false;
  }
  return true;
}

/**
 * ICCID, ITU-T E.118: major industry identifier 89 (telecommunications), then country
 * code, issuer and account number, then a Luhn check digit over all the digits before it.
 * EF_ICCID (TS 102 221 §13.2) holds 10 BCD octets, so at most 20 digits; issuers use
 * 19-digit (18 + check) and 20-digit (19 + check) numbers.
 */
export function checkIccid(value: string): FieldProblem | null {
  if (!isDigits(value) || value.length < 19 || value.length > 20) {
    return { code: 'ICCID_FORMAT', message: 'ICCID must be 19 or 20 decimal digits (E.118)' };
  }
  if (!value.startsWith('89')) {
    return { code: 'ICCID_FORMAT', message: 'ICCID must start with the telecom industry identifier 89 (E.118)' };
  }
  if (!isLuhnValid(value)) return { code: 'ICCID_CHECK_DIGIT', message: 'ICCID check digit is wrong (Luhn, E.118)' };
  return null;
}

/**
 * IMSI, 3GPP TS 23.003 §2.2: MCC (3 digits), MNC (2 or 3) and MSIN, at most 15 digits.
 * Every issuer here writes the full 15.
 */
export function checkImsi(value: string): FieldProblem | null {
  if (!isDigits(value) || value.length !== 15) return { code: 'IMSI_FORMAT', message: 'IMSI must be 15 decimal digits (TS 23.003)' };
  return null;
}

/**
 * MSISDN in ITU-T E.164 international form: an optional '+', a country code that does
 * not start with 0, at most 15 digits in all. Returns the canonical '+digits' form, or the problem.
 */
export function normalizeMsisdn(value: string): string | FieldProblem {
  const plus = value.startsWith('+');
  const digits = plus ? value.slice(1) : value;
  if (!isDigits(digits) || digits.length < 8 || digits.length > 15 || digits.charCodeAt(0) === 48) {
    return { code: 'MSISDN_FORMAT', message: 'MSISDN must be an E.164 number: 8 to 15 digits, no leading 0, optional +' };
  }
  return plus ? value : '+' + digits;
}

/** TAR, TS 101 220 §6: 3 bytes, written as 6 hex digits. */
export function checkTar(value: string): FieldProblem | null {
  if (value.length !== 6 || !isHex(value)) return { code: 'TAR_FORMAT', message: 'TAR must be 3 bytes as 6 hex digits (TS 101 220)' };
  return null;
}

/** Attestation certificate serial: a positive X.509 serial of at most 20 octets (RFC 5280 §4.1.2.2). */
export function checkCertificateSerial(value: string): FieldProblem | null {
  if (value.length === 0 || value.length > 40 || !isHex(value) || /^0+$/.test(value)) {
    return { code: 'CERT_SERIAL_FORMAT', message: 'attestation certificate serial must be 1 to 20 bytes of hex, not zero (RFC 5280)' };
  }
  return null;
}
