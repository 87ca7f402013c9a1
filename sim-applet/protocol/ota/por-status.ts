/**
 * Response status codes of a Proof of Receipt (TS 102 225 §5.2.2 Table 5, TS 31.115 §7):
 * what the card tells the sender about the command packet's security checks.
 */

export const PorStatus = {
  OK: 0x00,
  RC_CC_DS_FAILED: 0x01,
  COUNTER_LOW: 0x02,
  COUNTER_HIGH: 0x03,
  COUNTER_BLOCKED: 0x04,
  CIPHERING_ERROR: 0x05,
  UNDEFINED_SECURITY_ERROR: 0x06,
  INSUFFICIENT_MEMORY: 0x07,
  MORE_TIME: 0x08,
  TAR_UNKNOWN: 0x09,
  INSUFFICIENT_SECURITY_LEVEL: 0x0a,
  RESPONSE_VIA_SMS_SUBMIT: 0x0b,
  RESPONSE_VIA_USSD: 0x0c,
} as const;

export type PorStatusCode = (typeof PorStatus)[keyof typeof PorStatus];

const NAMES = [
  'ok',
  'rc-cc-ds-failed',
  'counter-low',
  'counter-high',
  'counter-blocked',
  'ciphering-error',
  'undefined-security-error',
  'insufficient-memory',
  'more-time',
  'tar-unknown',
  'insufficient-security-level',
  'response-via-sms-submit',
  'response-via-ussd',
] as const;

export type PorStatusName = (typeof NAMES)[number];

export function isPorStatusCode(value: unknown): value is PorStatusCode {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value < NAMES.length;
}

/** The name of a status byte; 0x0D..0xFF are reserved for future use ('reserved'). */
export function porStatusName(code: number): PorStatusName | 'reserved' {
  return isPorStatusCode(code) ? NAMES[code]! : 'reserved';
}
