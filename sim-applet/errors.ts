/**
 * The one error registry of the protocol layer (sim-applet/protocol).
 *
 * Every malformed input raises a ProtocolError with a stable `code`; callers branch on
 * `code` (or `isProtocolError(e, code)`), never on message text. `shortMessage` is one
 * human line, `details` carries the offending field and values, `cause` the lower error.
 * Modelled on ethers v6 `makeError`/`isError` and viem's `BaseError`.
 */
export const PROTOCOL_ERROR_CODES = [
  /** A hex string has an odd length or a non-hex character. */
  'INVALID_HEX',
  /** A parameter is out of its range (TAR not 3 bytes, counter over 2^40-1, ...). */
  'INVALID_ARGUMENT',
  /** The input ends before a field that must be there. */
  'TRUNCATED',
  /** A length field (CPL, RPL, UDL, Lc, a TLV length) disagrees with the bytes present. */
  'LENGTH_MISMATCH',
  /** Bytes follow the end of a structure that must be the whole input. */
  'TRAILING_BYTES',
  /** An algorithm nibble (KIc/KID) or coding value this layer does not know. */
  'UNKNOWN_ALGORITHM',
  /** Known to the standard but not offered here (redundancy check, digital signature). */
  'UNSUPPORTED',
  /** A key whose length does not fit its algorithm. */
  'INVALID_KEY_LENGTH',
  /** Ciphertext not a block multiple, or a padding counter that does not fit the data. */
  'INVALID_PADDING',
  /** A cryptographic checksum did not verify. */
  'CC_MISMATCH',
  /** A value that breaks the structure's rules (bad tag, reserved value, wrong header). */
  'MALFORMED',
  /** The content exceeds what the structure can carry. */
  'TOO_LONG',
  /** Concatenated SMS: parts are missing. `details.missing` lists their numbers. */
  'CONCAT_INCOMPLETE',
  /** Concatenated SMS: parts that cannot belong together (different totals, same part with different content). */
  'CONCAT_CONFLICT',
] as const;

export type ProtocolErrorCode = (typeof PROTOCOL_ERROR_CODES)[number];

export interface ProtocolErrorOptions {
  /** Machine-readable facts about the failure: `field`, expected and actual values. */
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  readonly code: ProtocolErrorCode;
  readonly shortMessage: string;
  readonly details: Record<string, unknown>;

  constructor(code: ProtocolErrorCode, shortMessage: string, options: ProtocolErrorOptions = {}) {
    super(`${shortMessage} (${code})`, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.shortMessage = shortMessage;
    this.details = options.details ?? {};
  }
}

export function isProtocolError(e: unknown, code?: ProtocolErrorCode): e is ProtocolError {
  return e instanceof ProtocolError && (code === undefined || e.code === code);
}

/** Raise a ProtocolError; typed `never` so it can end an expression. */
export function fail(code: ProtocolErrorCode, shortMessage: string, details?: Record<string, unknown>): never {
  throw new ProtocolError(code, shortMessage, details === undefined ? {} : { details });
}
