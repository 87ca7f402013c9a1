/**
 * The outbox's message kinds and their state machines. Every message that leaves the
 * database is a row first; its sender moves it along these edges only, each step recorded.
 *
 * - `ota.command` (the SMPP sender, issue 6): queued → submitted (submit_sm_resp) →
 *   delivered (delivery receipt) → por-received | por-error (the card's PoR, TS 102 225 §5.2);
 *   submitted/delivered → expired when no PoR arrives in time; any open state → failed.
 * - `chain.tx` (the chain adapter): planned → sent (eth_sendRawTransaction) → mined (receipt)
 *   → confirmed (enough blocks); sent/mined → replaced (another transaction took the nonce);
 *   any open state → failed.
 */
export const OUTBOX_KINDS = ['ota.command', 'chain.tx'] as const;
export type OutboxKind = (typeof OUTBOX_KINDS)[number];

export const OTA_STATES = ['queued', 'submitted', 'delivered', 'por-received', 'por-error', 'expired', 'failed'] as const;
export const CHAIN_TX_STATES = ['planned', 'sent', 'mined', 'confirmed', 'replaced', 'failed'] as const;
export type OtaState = (typeof OTA_STATES)[number];
export type ChainTxState = (typeof CHAIN_TX_STATES)[number];
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
  'chain.tx': {
    planned: ['sent', 'failed'],
    sent: ['mined', 'replaced', 'failed'],
    mined: ['confirmed', 'replaced', 'failed'],
    confirmed: [],
    replaced: [],
    failed: [],
  },
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
