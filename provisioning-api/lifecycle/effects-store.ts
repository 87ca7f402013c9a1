/**
 * The rows of a lifecycle action's effects (migrations/0008_lifecycle_effects.sql), the device
 * a SIM is bound to, and the `outbox` rows kept in step with what they describe: an
 * `ota.command` row follows its OTA message, a `chain.tx` row its chain outbox entry.
 */
import type { Queryable } from '../db/pool.js';
import type { OtaMessageState } from '../db/repositories/ota-messages.js';
import type { RequestableAction, SimState } from '../domain/sim-lifecycle.js';
import type { OtaPurpose } from './outcome.js';

export type EffectsPhase = 'applying' | 'compensating' | 'done';
/** untouched: this side had nothing to undo while compensating. */
export type CardSideState = 'pending' | 'confirmed' | 'refused' | 'untouched';
export type ChainSideState = 'pending' | 'confirmed' | 'failed' | 'untouched';
export type CardInstruction = 'LOCK' | 'UNLOCK' | 'TERMINATE';

export interface SideFailure {
  code: string;
  message: string;
  [k: string]: unknown;
}

export interface LifecycleEffects {
  jobId: string;
  iccid: string;
  action: RequestableAction;
  fromState: SimState;
  toState: SimState;
  device: string;
  phase: EffectsPhase;
  cardInstruction: CardInstruction;
  cardTarget: 'operational' | 'locked' | 'terminated';
  cardState: CardSideState;
  cardDetail: Record<string, unknown> | null;
  otaMessageId: string | null;
  otaPurpose: OtaPurpose | null;
  otaSends: number;
  chainStatus: 'Active' | 'Suspended' | 'Revoked';
  chainEntryId: string;
  chainState: ChainSideState;
  chainDetail: Record<string, unknown> | null;
  failure: SideFailure | null;
  seq: number;
  checks: number;
  deadlineAt: Date;
  createdAt: Date;
}

const COLUMNS = `job_id AS "jobId", iccid, action, from_state AS "fromState", to_state AS "toState", device, phase,
  card_instruction AS "cardInstruction", card_target AS "cardTarget", card_state AS "cardState", card_detail AS "cardDetail",
  ota_message_id::text AS "otaMessageId", ota_purpose AS "otaPurpose", ota_sends AS "otaSends",
  chain_status AS "chainStatus", chain_entry_id AS "chainEntryId", chain_state AS "chainState", chain_detail AS "chainDetail",
  failure, seq, checks, deadline_at AS "deadlineAt", created_at AS "createdAt"`;

export const effectsQueries = {
  insert: `INSERT INTO sim_lifecycle_effects (job_id, iccid, action, from_state, to_state, device, card_instruction, card_target,
      ota_message_id, ota_purpose, ota_sends, chain_status, chain_entry_id, deadline_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, $11, $12, now() + make_interval(secs => $13))
    RETURNING ${COLUMNS}`,
  byJob: `SELECT ${COLUMNS} FROM sim_lifecycle_effects WHERE job_id = $1`,
  lock: `SELECT ${COLUMNS} FROM sim_lifecycle_effects WHERE job_id = $1 FOR UPDATE`,
  update: `UPDATE sim_lifecycle_effects SET phase = $2, card_instruction = $3, card_target = $4, card_state = $5, card_detail = $6,
      ota_message_id = $7, ota_purpose = $8, ota_sends = $9, chain_status = $10, chain_entry_id = $11, chain_state = $12,
      chain_detail = $13, failure = $14, seq = $15, checks = $16, deadline_at = $17, updated_at = now()
    WHERE job_id = $1`,
  open: `SELECT job_id AS "jobId" FROM sim_lifecycle_effects WHERE phase <> 'done' ORDER BY created_at LIMIT $1`,
  deviceOf: `SELECT address FROM devices WHERE iccid = $1`,
  // The job gave up: the SIM keeps its state and takes requests again.
  clearPending: `UPDATE sims SET pending_action = NULL, pending_job_id = NULL WHERE iccid = $1 AND pending_job_id = $2`,
  otaMessage: `SELECT state, por_status AS "porStatus", por_data AS "porData", last_error AS "lastError", finished_at AS "finishedAt"
    FROM ota_messages WHERE id = $1`,
  // The outbox rows of a job follow what they describe (GET /v1/jobs/{id} shows what left).
  mirrorOta: `UPDATE outbox o SET state = m.state, last_error = m.last_error, updated_at = now(),
      result = jsonb_build_object('otaMessageId', m.id::text, 'cntr', m.cntr, 'porStatus', m.por_status,
        'porData', encode(m.por_data, 'hex'), 'submittedAt', m.submitted_at, 'porAt', m.por_at)
    FROM ota_messages m
    WHERE o.job_id = $1 AND o.kind = 'ota.command' AND m.outbox_id = o.id AND (o.state <> m.state OR o.result IS NULL)`,
  mirrorChain: `UPDATE outbox o SET state = c.state, updated_at = now(),
      last_error = c.entry->'failure'->>'message',
      result = jsonb_build_object('entryId', c.id, 'nonce', c.nonce, 'txHash', coalesce(c.entry->'receipt'->>'hash', c.entry->'attempts'->-1->>'hash'),
        'blockNumber', c.entry->'receipt'->'blockNumber', 'revert', c.entry->'failure'->'revert')
    FROM chain_outbox c
    WHERE o.job_id = $1 AND o.kind = 'chain.tx' AND c.id = o.payload->>'entryId' AND (o.state <> c.state OR o.result IS NULL)`,
  outboxIds: `SELECT id::text FROM outbox WHERE job_id = $1 ORDER BY id`,
} as const;

export interface NewLifecycleEffects {
  jobId: string;
  iccid: string;
  action: RequestableAction;
  fromState: SimState;
  toState: SimState;
  device: string;
  cardInstruction: CardInstruction;
  cardTarget: LifecycleEffects['cardTarget'];
  otaMessageId: string;
  chainStatus: LifecycleEffects['chainStatus'];
  chainEntryId: string;
  deadlineSeconds: number;
}

export async function insertEffects(db: Queryable, e: NewLifecycleEffects): Promise<LifecycleEffects> {
  return (await db.query<LifecycleEffects>(effectsQueries.insert, [
    e.jobId, e.iccid, e.action, e.fromState, e.toState, e.device, e.cardInstruction, e.cardTarget,
    e.otaMessageId, 'command', e.chainStatus, e.chainEntryId, e.deadlineSeconds,
  ])).rows[0]!;
}

export async function getEffects(db: Queryable, jobId: string): Promise<LifecycleEffects | null> {
  return (await db.query<LifecycleEffects>(effectsQueries.byJob, [jobId])).rows[0] ?? null;
}

export async function lockEffects(db: Queryable, jobId: string): Promise<LifecycleEffects | null> {
  return (await db.query<LifecycleEffects>(effectsQueries.lock, [jobId])).rows[0] ?? null;
}

export async function saveEffects(db: Queryable, e: LifecycleEffects): Promise<void> {
  await db.query(effectsQueries.update, [
    e.jobId, e.phase, e.cardInstruction, e.cardTarget, e.cardState, e.cardDetail, e.otaMessageId, e.otaPurpose, e.otaSends,
    e.chainStatus, e.chainEntryId, e.chainState, e.chainDetail, e.failure, e.seq, e.checks, e.deadlineAt,
  ]);
}

export async function openEffects(db: Queryable, limit: number): Promise<string[]> {
  return (await db.query<{ jobId: string }>(effectsQueries.open, [limit])).rows.map((r) => r.jobId);
}

/** The device address a SIM is bound to, or null for a SIM never provisioned. */
export async function deviceOf(db: Queryable, iccid: string): Promise<string | null> {
  return (await db.query<{ address: string }>(effectsQueries.deviceOf, [iccid])).rows[0]?.address ?? null;
}

export async function clearPendingAction(db: Queryable, iccid: string, jobId: string): Promise<void> {
  await db.query(effectsQueries.clearPending, [iccid, jobId]);
}

export interface OtaMessageOutcome {
  state: OtaMessageState;
  porStatus: number | null;
  porData: Buffer | null;
  lastError: string | null;
  finishedAt: Date | null;
}

export async function otaMessageOutcome(db: Queryable, id: string): Promise<OtaMessageOutcome | null> {
  return (await db.query<OtaMessageOutcome>(effectsQueries.otaMessage, [id])).rows[0] ?? null;
}

export async function mirrorOutbox(db: Queryable, jobId: string): Promise<void> {
  await db.query(effectsQueries.mirrorOta, [jobId]);
  await db.query(effectsQueries.mirrorChain, [jobId]);
}

export async function outboxIdsOf(db: Queryable, jobId: string): Promise<string[]> {
  return (await db.query<{ id: string }>(effectsQueries.outboxIds, [jobId])).rows.map((r) => r.id);
}
