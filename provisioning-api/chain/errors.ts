/**
 * The one error registry of the chain layer (provisioning-api/chain).
 *
 * Every failure leaves this layer as a ChainError with a stable `code`; callers branch on
 * `code` (or `isChainError(e, code)`), never on message text. A revert carries its decoded
 * reason in `revert` (a contract's custom error with its arguments, `Error(string)` or a
 * panic). Modelled on ethers v6 `makeError`/`isError` and viem's `BaseError`, like the
 * protocol layer's ProtocolError.
 */
import { isError } from 'ethers';
import type { DecodedRevert } from './revert.js';
import { decodeRevert } from './revert.js';

export const CHAIN_ERROR_CODES = [
  /** The node cannot be reached, or a request to it timed out. */
  'NETWORK_ERROR',
  /** The node answered a request with an error this layer does not classify further. */
  'RPC_ERROR',
  /** The node serves another chain than the one configured. */
  'CHAIN_MISMATCH',
  /** No contract code at the address given for a contract. */
  'NO_CONTRACT',
  /** A call, a gas estimate or a mined transaction reverted; `revert` says why. */
  'REVERTED',
  /** The signer cannot pay for gas and value. */
  'INSUFFICIENT_FUNDS',
  /** The node refused the transaction itself (gas limit, intrinsic gas, fee below the base fee). */
  'TX_REFUSED',
  /** The transaction's nonce was used by a transaction that is none of ours. */
  'REPLACED',
  /** No receipt within the time asked for; the transaction may still be mined later. */
  'TIMEOUT',
  /** An outbox entry id was reused for another transaction, or two writers raced on one entry. */
  'OUTBOX_CONFLICT',
  /** An outbox event that the entry's state does not allow. */
  'INVALID_TRANSITION',
  /** No outbox entry with that id. */
  'NOT_FOUND',
  /** A parameter out of its range (a key, an address, a block range). */
  'INVALID_ARGUMENT',
  /** The outbox was closed while a caller waited on it. */
  'CLOSED',
  /** Another process holds the signing key's outbox (its lease on chain and signer). */
  'SIGNER_BUSY',
  /** This process's lease on a signing key ended and another process took it: it must stop sending. */
  'LEASE_LOST',
] as const;

export type ChainErrorCode = (typeof CHAIN_ERROR_CODES)[number];

export interface ChainErrorOptions {
  details?: Record<string, unknown>;
  revert?: DecodedRevert;
  cause?: unknown;
}

export class ChainError extends Error {
  override readonly name = 'ChainError';
  readonly code: ChainErrorCode;
  readonly shortMessage: string;
  readonly details: Record<string, unknown>;
  /** Why the EVM reverted, for code REVERTED. */
  readonly revert: DecodedRevert | undefined;

  constructor(code: ChainErrorCode, shortMessage: string, options: ChainErrorOptions = {}) {
    super(`${shortMessage} (${code})`, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.shortMessage = shortMessage;
    this.details = options.details ?? {};
    this.revert = options.revert;
  }
}

export function isChainError(e: unknown, code?: ChainErrorCode): e is ChainError {
  return e instanceof ChainError && (code === undefined || e.code === code);
}

/** True when a ChainError reverted with the named custom error (e.g. 'BatchRefConflict'). */
export function isRevertWith(e: unknown, errorName: string): e is ChainError {
  return isChainError(e, 'REVERTED') && e.revert?.kind === 'custom' && e.revert.name === errorName;
}

/** Raise a ChainError; typed `never` so it can end an expression. */
export function fail(code: ChainErrorCode, shortMessage: string, details?: Record<string, unknown>): never {
  throw new ChainError(code, shortMessage, details === undefined ? {} : { details });
}

/** A revert as a ChainError, with the reason in its message. */
export function revertError(revert: DecodedRevert, details: Record<string, unknown> = {}, cause?: unknown): ChainError {
  return new ChainError('REVERTED', `reverted: ${describeRevert(revert)}`, { revert, details, cause });
}

export function describeRevert(r: DecodedRevert): string {
  switch (r.kind) {
    case 'custom':
      return `${r.name}(${Object.values(r.args).map((a) => JSON.stringify(a)).join(', ')})`;
    case 'error':
      return `Error(${JSON.stringify(r.message)})`;
    case 'panic':
      return `Panic(0x${r.code.toString(16)}): ${r.reason}`;
    case 'unknown':
      return `unknown revert data ${r.data}`;
    case 'empty':
      return 'no reason given';
  }
}

const ALREADY_KNOWN_RE = /already known|already imported|known transaction/i;
const REFUSED_RE = /intrinsic gas|exceeds block gas limit|gas limit|max fee per gas less than block base fee|fee cap/i;

/** A node's answer that the very same transaction is already in its pool. */
export function isAlreadyKnown(e: unknown): boolean {
  return ALREADY_KNOWN_RE.test(rpcMessage(e));
}

/** The JSON-RPC error message inside an ethers error, or the message itself. */
export function rpcMessage(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const inner = (e as { error?: { message?: unknown }; info?: { error?: { message?: unknown } } }).error ??
    (e as { info?: { error?: { message?: unknown } } }).info?.error;
  return typeof inner?.message === 'string' ? inner.message : e.message;
}

/**
 * Any error from ethers or the node as a ChainError. `context` names what was being done
 * (it lands in `details.action`); revert data is decoded with the known contract ABIs.
 */
export function toChainError(e: unknown, action: string, details: Record<string, unknown> = {}): ChainError {
  if (e instanceof ChainError) return e;
  const d = { action, ...details };
  if (isError(e, 'CALL_EXCEPTION')) {
    return revertError(decodeRevert(e.data ?? '0x'), d, e);
  }
  if (isError(e, 'INSUFFICIENT_FUNDS')) return new ChainError('INSUFFICIENT_FUNDS', 'insufficient funds for gas and value', { details: d, cause: e });
  if (isError(e, 'NONCE_EXPIRED') || isError(e, 'TRANSACTION_REPLACED')) {
    return new ChainError('REPLACED', 'the nonce was used by another transaction', { details: d, cause: e });
  }
  if (isError(e, 'NETWORK_ERROR') || isError(e, 'TIMEOUT') || isNetworkFailure(e)) {
    return new ChainError('NETWORK_ERROR', `chain node unreachable: ${rpcMessage(e)}`, { details: d, cause: e });
  }
  const message = rpcMessage(e);
  if (REFUSED_RE.test(message)) return new ChainError('TX_REFUSED', `transaction refused: ${message}`, { details: d, cause: e });
  return new ChainError('RPC_ERROR', `chain node error: ${message}`, { details: d, cause: e });
}

/** fetch failures (connection refused, reset) reach ethers as SERVER_ERROR or plain errors. */
function isNetworkFailure(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  const text = `${e.message} ${String((e as { cause?: unknown }).cause ?? '')}`;
  return /ECONNREFUSED|ECONNRESET|EPIPE|socket hang up|fetch failed|other side closed|ETIMEDOUT|UND_ERR/i.test(text);
}
