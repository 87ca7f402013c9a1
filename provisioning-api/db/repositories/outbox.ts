/**
 * The transactional outbox. Producers call `enqueueOutbox` inside the transaction that
 * decides the message; senders `claimOutbox` a batch (a lease, so a crashed sender's rows
 * come back), act, then `moveOutbox` along the kind's state machine (domain/outbox.ts).
 */
import { canMoveOutbox, INITIAL_OUTBOX_STATE, openOutboxStates, type OutboxKind, type OutboxState } from '../../domain/outbox.js';
import type { Queryable } from '../pool.js';

export interface OutboxMessage {
  id: string;
  kind: OutboxKind;
  state: OutboxState;
  idempotencyKey: string;
  subject: string;
  jobId: string | null;
  payload: Record<string, unknown>;
  result: Record<string, unknown> | null;
  attempts: number;
  availableAt: Date;
  leaseOwner: string | null;
  leaseUntil: Date | null;
  lastError: string | null;
  createdAt: Date;
  updatedAt: Date;
}

const COLUMNS = `id, kind, state, idempotency_key AS "idempotencyKey", subject, job_id AS "jobId", payload, result,
  attempts, available_at AS "availableAt", lease_owner AS "leaseOwner", lease_until AS "leaseUntil",
  last_error AS "lastError", created_at AS "createdAt", updated_at AS "updatedAt"`;

export const outboxQueries = {
  // The idempotency key makes a producer's retry (a job run twice) write the message once.
  insert: `INSERT INTO outbox (kind, state, idempotency_key, subject, job_id, payload) VALUES ($1, $2, $3, $4, $5, $6)
    ON CONFLICT (idempotency_key) DO NOTHING RETURNING ${COLUMNS}`,
  byKey: `SELECT ${COLUMNS} FROM outbox WHERE idempotency_key = $1`,
  bySubject: `SELECT ${COLUMNS} FROM outbox WHERE subject = $1 ORDER BY id`,
  byJob: `SELECT ${COLUMNS} FROM outbox WHERE job_id = $1 ORDER BY id`,
  claim: `UPDATE outbox SET lease_owner = $4, lease_until = now() + make_interval(secs => $5), attempts = attempts + 1, updated_at = now()
    WHERE id IN (
      SELECT id FROM outbox
      WHERE kind = $1 AND state = ANY($2::text[]) AND available_at <= now() AND (lease_until IS NULL OR lease_until < now())
      ORDER BY available_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)
    RETURNING ${COLUMNS}`,
  move: `UPDATE outbox SET state = $3, result = coalesce($4, result), last_error = $5, available_at = coalesce($6, available_at),
      lease_owner = NULL, lease_until = NULL, updated_at = now()
    WHERE id = $1 AND state = $2 RETURNING ${COLUMNS}`,
} as const;

export interface NewOutboxMessage {
  kind: OutboxKind;
  idempotencyKey: string;
  subject: string;
  jobId?: string | null;
  payload: Record<string, unknown>;
}

/** Write a message in its kind's first state; returns the existing one if the key was used. */
export async function enqueueOutbox(db: Queryable, m: NewOutboxMessage): Promise<OutboxMessage> {
  const inserted = (await db.query<OutboxMessage>(outboxQueries.insert, [
    m.kind, INITIAL_OUTBOX_STATE[m.kind], m.idempotencyKey, m.subject, m.jobId ?? null, m.payload,
  ])).rows[0];
  return inserted ?? (await db.query<OutboxMessage>(outboxQueries.byKey, [m.idempotencyKey])).rows[0]!;
}

/**
 * Lease up to `limit` messages of `kind` in `states` (default: every open state) for
 * `leaseSeconds`. Concurrent senders get disjoint batches (SKIP LOCKED).
 */
export async function claimOutbox(
  db: Queryable,
  kind: OutboxKind,
  options: { owner: string; limit: number; leaseSeconds: number; states?: OutboxState[] },
): Promise<OutboxMessage[]> {
  const states = options.states ?? openOutboxStates(kind);
  return (await db.query<OutboxMessage>(outboxQueries.claim, [kind, states, options.limit, options.owner, options.leaseSeconds])).rows;
}

export class OutboxTransitionError extends Error {
  override readonly name = 'OutboxTransitionError';
  readonly code = 'OUTBOX_ILLEGAL_TRANSITION';
}

/**
 * Move a message from `from` to `to` (an edge of its kind's state machine), releasing its
 * lease. Null when the message is no longer in `from` (another sender moved it).
 */
export async function moveOutbox(
  db: Queryable,
  message: Pick<OutboxMessage, 'id' | 'kind'>,
  from: OutboxState,
  to: OutboxState,
  patch: { result?: Record<string, unknown>; error?: string; retryAt?: Date } = {},
): Promise<OutboxMessage | null> {
  if (from !== to && !canMoveOutbox(message.kind, from, to)) {
    throw new OutboxTransitionError(`${message.kind} cannot move from ${from} to ${to}`);
  }
  return (await db.query<OutboxMessage>(outboxQueries.move, [
    message.id, from, to, patch.result ?? null, patch.error ?? null, patch.retryAt ?? null,
  ])).rows[0] ?? null;
}

export async function outboxForSubject(db: Queryable, subject: string): Promise<OutboxMessage[]> {
  return (await db.query<OutboxMessage>(outboxQueries.bySubject, [subject])).rows;
}

export async function outboxForJob(db: Queryable, jobId: string): Promise<OutboxMessage[]> {
  return (await db.query<OutboxMessage>(outboxQueries.byJob, [jobId])).rows;
}
