/**
 * The transaction outbox's state machine, pure: no I/O, no clock (time comes in as `now`).
 *
 *   planned ──signed──▶ sent ──included──▶ mined ──deep enough──▶ confirmed
 *      │                │ ▲                  │
 *      │                │ └────reorged───────┘
 *      │                ├──reverted / refused──▶ failed
 *      │                └──replaced (its nonce mined by a transaction not ours)──▶ replaced
 *      └──refused (the simulation reverted)──▶ failed
 *
 * An entry is one intended transaction, named by an id the caller chooses (e.g.
 * `anchor:<batchRef>`), so asking again for the same id is idempotent. Its nonce, once taken,
 * stays with it: fee bumps add attempts (new hashes, same nonce) and whichever attempt is mined
 * settles the entry. The store (outbox-store.ts) persists entries; the engine (outbox.ts)
 * produces events from what the node says and applies them here.
 */
import { ChainError, type ChainErrorCode } from './errors.js';
import type { DecodedRevert } from './revert.js';

export const OUTBOX_STATES = ['planned', 'sent', 'mined', 'confirmed', 'replaced', 'failed'] as const;
export type OutboxState = (typeof OUTBOX_STATES)[number];

export const FINAL_STATES: readonly OutboxState[] = Object.freeze(['confirmed', 'replaced', 'failed']);

/** Every state change the machine allows (a DB layer may mirror it in a CHECK or trigger). */
export const OUTBOX_TRANSITIONS: Readonly<Record<OutboxState, readonly OutboxState[]>> = Object.freeze({
  planned: ['sent', 'failed'],
  sent: ['sent', 'mined', 'failed', 'replaced'],
  mined: ['confirmed', 'sent'],
  confirmed: [],
  replaced: [],
  failed: [],
});

/** What to send. `to` null creates a contract. */
export interface TxIntent {
  to: string | null;
  data: string;
  value: bigint;
  /** Fixed gas limit; null lets the engine estimate it (and refuse a reverting call before it takes a nonce). */
  gasLimit: bigint | null;
}

/** One signed version of the entry's transaction. */
export interface TxAttempt {
  hash: string;
  /** The signed transaction: re-broadcasting these exact bytes is idempotent. */
  raw: string;
  gasLimit: bigint;
  /** EIP-1559 fees, or null on a legacy-priced attempt. */
  maxFeePerGas: bigint | null;
  maxPriorityFeePerGas: bigint | null;
  /** Legacy gas price, or null on an EIP-1559 attempt. */
  gasPrice: bigint | null;
  signedAt: number;
}

export interface MinedReceipt {
  hash: string;
  blockNumber: number;
  blockHash: string;
  status: 0 | 1;
  gasUsed: bigint;
  effectiveGasPrice: bigint;
  contractAddress: string | null;
}

export interface OutboxFailure {
  code: ChainErrorCode;
  message: string;
  revert: DecodedRevert | null;
}

export interface OutboxEntry {
  id: string;
  chainId: bigint;
  /** Checksummed address of the signing key. */
  signer: string;
  intent: TxIntent;
  state: OutboxState;
  /** Taken when signed; null while planned, and after a refusal gave it back. */
  nonce: number | null;
  attempts: TxAttempt[];
  receipt: MinedReceipt | null;
  failure: OutboxFailure | null;
  /** Incremented by every change: stores use it for optimistic concurrency. */
  version: number;
  createdAt: number;
  updatedAt: number;
}

export type OutboxEvent =
  /** A nonce was taken and the first attempt signed (recorded before it is broadcast). */
  | { type: 'signed'; nonce: number; attempt: TxAttempt }
  /** A new attempt with the same nonce and higher fees. */
  | { type: 'bumped'; attempt: TxAttempt }
  /** An attempt was mined and succeeded. */
  | { type: 'included'; receipt: MinedReceipt }
  /** An attempt was mined and reverted: its nonce is spent. */
  | { type: 'reverted'; receipt: MinedReceipt; failure: OutboxFailure }
  /** Nothing was mined and nothing will be: the simulation reverted, or the node refused the
   * first attempt outright. The nonce, if any, goes back to the signer. */
  | { type: 'refused'; failure: OutboxFailure }
  /** The nonce was mined by a transaction that is none of the attempts. */
  | { type: 'replaced' }
  /** The mined block left the canonical chain: back to waiting for inclusion. */
  | { type: 'reorged' }
  /** The receipt is `depth` blocks deep (the head counts as one) at `head`. */
  | { type: 'confirmed'; head: number; depth: number };

export function isFinal(state: OutboxState): boolean {
  return FINAL_STATES.includes(state);
}

/** How many blocks deep a receipt is at `head` (1 when mined in the head block). */
export function confirmationsAt(receipt: MinedReceipt, head: number): number {
  return head < receipt.blockNumber ? 0 : head - receipt.blockNumber + 1;
}

/** A new planned entry. */
export function planEntry(args: { id: string; chainId: bigint; signer: string; intent: TxIntent; now: number }): OutboxEntry {
  return {
    id: args.id,
    chainId: args.chainId,
    signer: args.signer,
    intent: args.intent,
    state: 'planned',
    nonce: null,
    attempts: [],
    receipt: null,
    failure: null,
    version: 1,
    createdAt: args.now,
    updatedAt: args.now,
  };
}

/** Two intents ask for the same transaction (ids are reused only for the same one). */
export function sameIntent(a: TxIntent, b: TxIntent): boolean {
  return (
    (a.to?.toLowerCase() ?? null) === (b.to?.toLowerCase() ?? null) &&
    a.data.toLowerCase() === b.data.toLowerCase() &&
    a.value === b.value &&
    a.gasLimit === b.gasLimit
  );
}

function refuse(entry: OutboxEntry, event: OutboxEvent, why: string): never {
  throw new ChainError('INVALID_TRANSITION', `outbox entry ${entry.id}: ${event.type} ${why}`, {
    details: { id: entry.id, state: entry.state, event: event.type },
  });
}

function expectState(entry: OutboxEntry, event: OutboxEvent, ...states: OutboxState[]): void {
  if (!states.includes(entry.state)) refuse(entry, event, `is not allowed in state ${entry.state}`);
}

function ownAttempt(entry: OutboxEntry, event: OutboxEvent, hash: string): void {
  if (!entry.attempts.some((a) => a.hash.toLowerCase() === hash.toLowerCase())) {
    refuse(entry, event, `names ${hash}, which is none of its attempts`);
  }
}

/** The entry after `event`, or a ChainError INVALID_TRANSITION. The input is not modified. */
export function applyOutboxEvent(entry: OutboxEntry, event: OutboxEvent, now: number): OutboxEntry {
  const next = (changes: Partial<OutboxEntry>): OutboxEntry => ({
    ...entry,
    ...changes,
    version: entry.version + 1,
    updatedAt: now,
  });
  switch (event.type) {
    case 'signed':
      expectState(entry, event, 'planned');
      if (!Number.isSafeInteger(event.nonce) || event.nonce < 0) refuse(entry, event, `has an invalid nonce ${event.nonce}`);
      return next({ state: 'sent', nonce: event.nonce, attempts: [event.attempt] });
    case 'bumped':
      expectState(entry, event, 'sent');
      return next({ attempts: [...entry.attempts, event.attempt] });
    case 'included':
      expectState(entry, event, 'sent');
      ownAttempt(entry, event, event.receipt.hash);
      if (event.receipt.status !== 1) refuse(entry, event, 'carries a failed receipt');
      return next({ state: 'mined', receipt: event.receipt });
    case 'reverted':
      expectState(entry, event, 'sent');
      ownAttempt(entry, event, event.receipt.hash);
      if (event.receipt.status !== 0) refuse(entry, event, 'carries a successful receipt');
      return next({ state: 'failed', receipt: event.receipt, failure: event.failure });
    case 'refused':
      expectState(entry, event, 'planned', 'sent');
      if (entry.state === 'sent' && entry.attempts.length !== 1) {
        refuse(entry, event, 'after a fee bump: an earlier attempt may still be mined');
      }
      return next({ state: 'failed', nonce: null, failure: event.failure });
    case 'replaced':
      expectState(entry, event, 'sent');
      return next({
        state: 'replaced',
        failure: { code: 'REPLACED', message: `nonce ${entry.nonce} was used by another transaction`, revert: null },
      });
    case 'reorged':
      expectState(entry, event, 'mined');
      return next({ state: 'sent', receipt: null });
    case 'confirmed': {
      expectState(entry, event, 'mined');
      const depth = confirmationsAt(entry.receipt!, event.head);
      if (depth < event.depth) refuse(entry, event, `at depth ${depth}, below ${event.depth}`);
      return next({ state: 'confirmed' });
    }
  }
}

/** The error a waiter gets for an entry that ended badly. */
export function entryError(entry: OutboxEntry): ChainError {
  const f = entry.failure ?? { code: 'RPC_ERROR' as const, message: `outbox entry ${entry.id} ${entry.state}`, revert: null };
  return new ChainError(f.code, f.message, {
    details: { id: entry.id, state: entry.state, hash: entry.receipt?.hash ?? entry.attempts.at(-1)?.hash ?? null },
    ...(f.revert === null ? {} : { revert: f.revert }),
  });
}

type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

/** The entry as plain JSON (bigints as decimal strings), e.g. for a jsonb column or a file. */
export function entryToJson(entry: OutboxEntry): Json {
  return JSON.parse(JSON.stringify(entry, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))) as Json;
}

const big = (v: unknown): bigint => BigInt(v as string);
const bigOrNull = (v: unknown): bigint | null => (v === null ? null : BigInt(v as string));

/** The inverse of entryToJson. */
export function entryFromJson(json: unknown): OutboxEntry {
  const e = json as Record<string, unknown> & { intent: Record<string, unknown>; attempts: Record<string, unknown>[] };
  const r = e.receipt as Record<string, unknown> | null;
  return {
    ...(e as unknown as OutboxEntry),
    chainId: big(e.chainId),
    intent: { ...(e.intent as unknown as TxIntent), value: big(e.intent.value), gasLimit: bigOrNull(e.intent.gasLimit) },
    attempts: e.attempts.map((a) => ({
      ...(a as unknown as TxAttempt),
      gasLimit: big(a.gasLimit),
      maxFeePerGas: bigOrNull(a.maxFeePerGas),
      maxPriorityFeePerGas: bigOrNull(a.maxPriorityFeePerGas),
      gasPrice: bigOrNull(a.gasPrice),
    })),
    receipt:
      r === null ? null : { ...(r as unknown as MinedReceipt), gasUsed: big(r.gasUsed), effectiveGasPrice: big(r.effectiveGasPrice) },
  };
}
