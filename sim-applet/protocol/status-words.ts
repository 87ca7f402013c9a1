/**
 * ISO/IEC 7816-4 §5.6 and ETSI TS 102 221 §10.2 status words, as the card returns them.
 * One block of constants, as a Java Card applet keeps its ISO7816 interface.
 */
export const SW = {
  OK: 0x9000,
  /** TS 102 221: normal ending, with extra information from the proactive UICC (91xx, xx = length of the pending command). */
  PROACTIVE_PENDING: 0x9100,
  /** TS 102 221: toolkit busy; the ENVELOPE cannot be handled now. */
  TOOLKIT_BUSY: 0x9300,
  /** ISO 7816-4: xx response bytes still available (61xx). */
  BYTES_AVAILABLE: 0x6100,
  /** TS 51.011 (GSM SIM, CLA A0): xx response bytes available (9Fxx). */
  GSM_RESPONSE_AVAILABLE: 0x9f00,
  WARNING_NO_INFO: 0x6200,
  WARNING_DATA_CORRUPTED: 0x6281,
  WARNING_END_OF_FILE: 0x6282,
  WARNING_STATE_UNCHANGED: 0x6300,
  EXECUTION_ERROR: 0x6400,
  MEMORY_FAILURE: 0x6581,
  WRONG_LENGTH: 0x6700,
  LOGICAL_CHANNEL_NOT_SUPPORTED: 0x6881,
  SECURE_MESSAGING_NOT_SUPPORTED: 0x6882,
  SECURITY_STATUS_NOT_SATISFIED: 0x6982,
  AUTHENTICATION_METHOD_BLOCKED: 0x6983,
  REFERENCE_DATA_NOT_USABLE: 0x6984,
  CONDITIONS_NOT_SATISFIED: 0x6985,
  COMMAND_NOT_ALLOWED: 0x6986,
  WRONG_DATA: 0x6a80,
  FUNCTION_NOT_SUPPORTED: 0x6a81,
  FILE_NOT_FOUND: 0x6a82,
  RECORD_NOT_FOUND: 0x6a83,
  NOT_ENOUGH_MEMORY: 0x6a84,
  INCORRECT_P1P2: 0x6a86,
  REFERENCED_DATA_NOT_FOUND: 0x6a88,
  DATA_ALREADY_EXISTS: 0x6a89,
  WRONG_P1P2: 0x6b00,
  /** ISO 7816-4: wrong Le; xx gives the exact length (6Cxx). */
  WRONG_LE: 0x6c00,
  INS_NOT_SUPPORTED: 0x6d00,
  CLA_NOT_SUPPORTED: 0x6e00,
  NO_PRECISE_DIAGNOSIS: 0x6f00,
} as const;

export type StatusWordName = keyof typeof SW;

/** Status words whose low byte is a count (xx), by their high byte. */
const COUNTED: Record<number, string> = {
  0x61: 'BYTES_AVAILABLE',
  0x91: 'PROACTIVE_PENDING',
  0x9f: 'GSM_RESPONSE_AVAILABLE',
  0x6c: 'WRONG_LE',
};

const BY_VALUE = new Map<number, string>(Object.entries(SW).map(([name, value]) => [value, name]));

/** The name of a status word: `OK`, `WRONG_LENGTH`, `BYTES_AVAILABLE(16)`, `VERIFY_FAILED(3 tries)`, or `UNKNOWN`. */
export function statusWordName(sw: number): string {
  const exact = BY_VALUE.get(sw);
  if (exact && !(sw >> 8 in COUNTED && (sw & 0xff) !== 0)) return exact;
  const counted = COUNTED[sw >> 8];
  if (counted) return `${counted}(${sw & 0xff})`;
  // ISO 7816-4: 63Cx, counter (typically tries left) x.
  if ((sw & 0xfff0) === 0x63c0) return `WARNING_COUNTER(${sw & 0x0f})`;
  return exact ?? 'UNKNOWN';
}

/** True for the status words after which a command counts as executed successfully (90xx, 91xx, 61xx, 9Fxx, 62xx/63xx warnings). */
export function isSuccessful(sw: number): boolean {
  const hi = sw >> 8;
  return sw === SW.OK || hi === 0x91 || hi === 0x61 || hi === 0x9f || hi === 0x62 || hi === 0x63;
}

/** 4-digit upper-case hex of a status word, as carrier logs print it. */
export function swHex(sw: number): string {
  return sw.toString(16).toUpperCase().padStart(4, '0');
}
