/**
 * The outbox's message kinds and their state machines. Every message that leaves the
 * database is a row first; its sender moves it along these edges only, each step recorded.
 *
 * - `ota.command` (the SMPP sender, issue 6): queued → submitted (submit_sm_resp) →
 *   delivered (delivery receipt) → por-received | por-error (the card's PoR, TS 102 225 §5.2);
 *   submitted/delivered → expired when no PoR arrives in time; any open state → failed.
 * - `chain.tx`: the chain adapter's state machine, defined once in
 *   chain/outbox-state.ts and imported here (planned → sent → mined → confirmed; sent → sent
 *   on a fee bump, mined → sent on a reorg; → replaced or failed). The chain adapter keeps
 *   its transactions in a table of its own, `chain_outbox` (migrations/0004_chain.sql), driven
 *   by the signing key's lease holder in nonce order rather than claimed row by row.
 */
import { OUTBOX_STATES as CHAIN_OUTBOX_STATES, OUTBOX_TRANSITIONS as CHAIN_OUTBOX_TRANSITIONS } from '../chain/outbox-state.js';
import type { OutboxState as ChainOutboxState } from '../chain/outbox-state.js';

export const OUTBOX_KINDS = ['ota.command', 'chain.tx'] as const;
export type OutboxKind = (typeof OUTBOX_KINDS)[number];

export const OTA_STATES = ['queued', 'submitted', 'delivered', 'por-received', 'por-error', 'expired', 'failed'] as const;
export const CHAIN_TX_STATES = CHAIN_OUTBOX_STATES;
export type OtaState = (typeof OTA_STATES)[number];
export type ChainTxState = ChainOutboxState;
export type OutboxState = OtaState | ChainTxState;

const EDGES: Readonly<Record<OutboxKind, Readonly<Record<string, readonly string[]>>>> = Object.freeze({
  'ota.command': {
    queued: ['submitted', 'failed'],
    submitted: ['delivered', 'por-received', 'por-error', 'expired', 'failed'],
    delivered: ['por-received', 'por-error', 'expired', 'failed'],
    'por-received': [],
    'por-error': [],
    expired: [],
    failed: [],
  },
  'chain.tx': CHAIN_OUTBOX_TRANSITIONS,
});

export const INITIAL_OUTBOX_STATE: Readonly<Record<OutboxKind, OutboxState>> = Object.freeze({
  'ota.command': 'queued',
  'chain.tx': 'planned',
});

export function isOutboxState(kind: OutboxKind, state: string): state is OutboxState {
  return state in EDGES[kind];
}

export function canMoveOutbox(kind: OutboxKind, from: string, to: string): boolean {
  return EDGES[kind][from]?.includes(to) ?? false;
}

export function isFinalOutboxState(kind: OutboxKind, state: string): boolean {
  return (EDGES[kind][state]?.length ?? 0) === 0;
}

/** States still in flight (what a sender scans). */
export function openOutboxStates(kind: OutboxKind): OutboxState[] {
  return Object.keys(EDGES[kind]).filter((s) => !isFinalOutboxState(kind, s)) as OutboxState[];
}
