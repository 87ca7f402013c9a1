/**
 * The SMPP client's one error registry. Callers branch on `code`, never on message text;
 * `status` carries the SMPP 3.4 §5.1.3 command_status when the SMSC answered with one.
 */
export const SMPP_ERROR_CODES = [
  /** No response within the PDU timeout (SMPP 3.4 §7.2 response_timer): the outcome is unknown. */
  'SMPP_TIMEOUT',
  /** The session closed while the request was outstanding: the outcome is unknown. */
  'SMPP_SESSION_CLOSED',
  /** The SMSC answered with a non-zero command_status (see `status`). */
  'SMPP_COMMAND_STATUS',
  /** The SMSC refused the bind (wrong system_id or password, ...). */
  'SMPP_BIND_FAILED',
  /** The client was stopped; nothing more is sent. */
  'SMPP_STOPPED',
  /** A parameter the client refuses before anything is sent. */
  'SMPP_INVALID_ARGUMENT',
] as const;

export type SmppErrorCode = (typeof SMPP_ERROR_CODES)[number];

/** SMPP 3.4 §5.1.3 command_status values the client acts on. */
export const SMPP_STATUS = {
  ESME_ROK: 0x00,
  ESME_RINVMSGLEN: 0x01,
  ESME_RINVBNDSTS: 0x04,
  ESME_RSYSERR: 0x08,
  ESME_RINVDSTADR: 0x0b,
  ESME_RBINDFAIL: 0x0d,
  ESME_RINVPASWD: 0x0e,
  ESME_RINVSYSID: 0x0f,
  ESME_RMSGQFUL: 0x14,
  ESME_RTHROTTLED: 0x58,
  /** §5.1.3: an ESME's temporary failure to accept a deliver_sm; the SMSC retries. */
  ESME_RX_T_APPN: 0x64,
  ESME_RX_P_APPN: 0x65,
} as const;

export class SmppError extends Error {
  override readonly name = 'SmppError';
  readonly code: SmppErrorCode;
  readonly status: number | undefined;
  readonly details: Record<string, unknown>;

  constructor(code: SmppErrorCode, message: string, options: { status?: number; details?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status;
    this.details = options.details ?? {};
  }
}

export function isSmppError(e: unknown, code?: SmppErrorCode): e is SmppError {
  return e instanceof SmppError && (code === undefined || e.code === code);
}

/** Throttling answers (§5.1.3): slow down and send again later; the message was not taken. */
export function isThrottle(status: number | undefined): boolean {
  return status === SMPP_STATUS.ESME_RTHROTTLED || status === SMPP_STATUS.ESME_RMSGQFUL;
}

/** Whether the SMSC may or may not have taken the message (resend, and let the receipts tell). */
export function outcomeUnknown(e: unknown): boolean {
  return isSmppError(e, 'SMPP_TIMEOUT') || isSmppError(e, 'SMPP_SESSION_CLOSED');
}
