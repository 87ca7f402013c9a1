/**
 * OTA keyset rotations (migration 0007): one row per PUT KEY request, its pending keysets
 * (sealed like sims.keysets), the OTA messages it sent, and how it ended. No query here
 * returns a sealed blob except to the rotation service and the OTA sender, which open it.
 */
import type { Queryable } from '../pool.js';

export const ROTATION_STATES = ['requested', 'put-key-sent', 'probing-new', 'probing-old', 'probe-backoff', 'completed', 'failed'] as const;
export type RotationState = (typeof ROTATION_STATES)[number];
export const OPEN_ROTATION_STATES: readonly RotationState[] = ['requested', 'put-key-sent', 'probing-new', 'probing-old', 'probe-backoff'];

export interface KeysetRotation {
  id: string;
  jobId: string;
  iccid: string;
  keysetIndex: number;
  state: RotationState;
  putKeyMessageId: string | null;
  probeNewMessageId: string | null;
  probeOldMessageId: string | null;
  otaMessageIds: string[];
  probeRounds: number;
  notBefore: Date | null;
  provenBy: 'por' | 'probe' | null;
  porStatus: number | null;
  sw: number | null;
  failureCode: string | null;
  failureReason: string | null;
  createdAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
  /** The PROBE_EXHAUSTED rotation whose pending keys this one took over, if any. */
  recovers: string | null;
}

/** What the rotation service needs besides the public fields: the sealed blobs and their data key. */
export interface SealedRotation extends KeysetRotation {
  dataKeyId: string | null;
  previousKeysets: Buffer | null;
  pendingKeysets: Buffer | null;
}

const COLUMNS = `id, job_id AS "jobId", iccid, keyset_index AS "keysetIndex", state, put_key_message_id::text AS "putKeyMessageId",
  probe_new_message_id::text AS "probeNewMessageId", probe_old_message_id::text AS "probeOldMessageId",
  ota_message_ids::text[] AS "otaMessageIds", probe_rounds AS "probeRounds", not_before AS "notBefore", proven_by AS "provenBy",
  por_status AS "porStatus", sw, failure_code AS "failureCode", failure_reason AS "failureReason",
  created_at AS "createdAt", updated_at AS "updatedAt", finished_at AS "finishedAt", recovers`;
const SEALED = `${COLUMNS}, data_key_id::text AS "dataKeyId", previous_keysets AS "previousKeysets", pending_keysets AS "pendingKeysets"`;

export const rotationQueries = {
  insert: `INSERT INTO keyset_rotations (job_id, iccid, keyset_index) VALUES ($1, $2, $3) RETURNING ${COLUMNS}`,
  // Taking over a PROBE_EXHAUSTED rotation's pending keys: probes first (probe-backoff, due now).
  insertRecovering: `INSERT INTO keyset_rotations (job_id, iccid, keyset_index, state, recovers, data_key_id, previous_keysets, pending_keysets, not_before)
    VALUES ($1, $2, $3, 'probe-backoff', $4, $5, $6, $7, now()) RETURNING ${COLUMNS}`,
  latestForKeyset: `SELECT ${SEALED} FROM keyset_rotations WHERE iccid = $1 AND keyset_index = $2 ORDER BY created_at DESC, id LIMIT 1`,
  // A recovery whose probe under the old keys verified: the card kept them; rotate afresh.
  restartFresh: `UPDATE keyset_rotations SET state = 'requested', data_key_id = NULL, previous_keysets = NULL, pending_keysets = NULL,
      probe_rounds = 0, not_before = NULL, updated_at = now()
    WHERE id = $1 AND state = 'probing-old' AND recovers IS NOT NULL`,
  openForSim: `SELECT ${COLUMNS} FROM keyset_rotations WHERE iccid = $1 AND state NOT IN ('completed', 'failed')`,
  byJob: `SELECT ${COLUMNS} FROM keyset_rotations WHERE job_id = $1`,
  lockByJob: `SELECT ${SEALED} FROM keyset_rotations WHERE job_id = $1 FOR UPDATE`,
  forSim: `SELECT ${COLUMNS} FROM keyset_rotations WHERE iccid = $1 ORDER BY created_at DESC, id`,
  putKeySent: `UPDATE keyset_rotations SET state = 'put-key-sent', data_key_id = $2, previous_keysets = $3, pending_keysets = $4,
      put_key_message_id = $5, ota_message_ids = ota_message_ids || $5::bigint, updated_at = now()
    WHERE id = $1 AND state = 'requested'`,
  probingNew: `UPDATE keyset_rotations SET state = 'probing-new', probe_new_message_id = $2, ota_message_ids = ota_message_ids || $2::bigint,
      probe_rounds = probe_rounds + 1, not_before = NULL, updated_at = now()
    WHERE id = $1 AND state IN ('put-key-sent', 'probe-backoff')`,
  probingOld: `UPDATE keyset_rotations SET state = 'probing-old', probe_old_message_id = $2, ota_message_ids = ota_message_ids || $2::bigint, updated_at = now()
    WHERE id = $1 AND state = 'probing-new'`,
  backoff: `UPDATE keyset_rotations SET state = 'probe-backoff', not_before = $2, updated_at = now() WHERE id = $1 AND state = 'probing-old'`,
  complete: `UPDATE keyset_rotations SET state = 'completed', proven_by = $2, por_status = $3, sw = $4, pending_keysets = NULL,
      finished_at = now(), updated_at = now()
    WHERE id = $1 AND state NOT IN ('completed', 'failed') RETURNING ${COLUMNS}`,
  // The pending keys are dropped when the card is known not to hold them; kept ($6) when that stayed unknown.
  fail: `UPDATE keyset_rotations SET state = 'failed', failure_code = $2, failure_reason = $3, por_status = $4, sw = $5,
      pending_keysets = CASE WHEN $6 THEN pending_keysets END, finished_at = now(), updated_at = now()
    WHERE id = $1 AND state NOT IN ('completed', 'failed') RETURNING ${COLUMNS}`,
  // The OTA sender's view: the keysets a message was secured with when it is a rotation's
  // probe under the new keys, else the SIM's own.
  keysetsForMessage: `SELECT s.iccid, coalesce(r.data_key_id, s.data_key_id)::text AS "dataKeyId", coalesce(r.pending_keysets, s.keysets) AS keysets
    FROM sims s LEFT JOIN keyset_rotations r ON r.probe_new_message_id = $2 AND r.iccid = s.iccid AND r.pending_keysets IS NOT NULL
    WHERE s.iccid = $1`,
  switchSim: `UPDATE sims SET keysets = $2 WHERE iccid = $1 AND keysets = $3`,
} as const;

export async function insertRotation(db: Queryable, r: { jobId: string; iccid: string; keysetIndex: number }): Promise<KeysetRotation> {
  return (await db.query<KeysetRotation>(rotationQueries.insert, [r.jobId, r.iccid, r.keysetIndex])).rows[0]!;
}

export async function insertRecoveringRotation(
  db: Queryable,
  r: { jobId: string; iccid: string; keysetIndex: number; recovers: string; dataKeyId: string; previousKeysets: Buffer; pendingKeysets: Buffer },
): Promise<KeysetRotation> {
  return (await db.query<KeysetRotation>(rotationQueries.insertRecovering, [r.jobId, r.iccid, r.keysetIndex, r.recovers, r.dataKeyId, r.previousKeysets, r.pendingKeysets])).rows[0]!;
}

/** The SIM's most recent rotation of keyset `keysetIndex`, with its sealed blobs. */
export async function latestRotationForKeyset(db: Queryable, iccid: string, keysetIndex: number): Promise<SealedRotation | null> {
  return (await db.query<SealedRotation>(rotationQueries.latestForKeyset, [iccid, keysetIndex])).rows[0] ?? null;
}

export async function restartRotationFresh(db: Queryable, id: string): Promise<boolean> {
  return ((await db.query(rotationQueries.restartFresh, [id])).rowCount ?? 0) > 0;
}

export async function openRotationForSim(db: Queryable, iccid: string): Promise<KeysetRotation | null> {
  return (await db.query<KeysetRotation>(rotationQueries.openForSim, [iccid])).rows[0] ?? null;
}

export async function rotationByJob(db: Queryable, jobId: string): Promise<KeysetRotation | null> {
  return (await db.query<KeysetRotation>(rotationQueries.byJob, [jobId])).rows[0] ?? null;
}

export async function lockRotationByJob(db: Queryable, jobId: string): Promise<SealedRotation | null> {
  return (await db.query<SealedRotation>(rotationQueries.lockByJob, [jobId])).rows[0] ?? null;
}

export async function rotationsForSim(db: Queryable, iccid: string): Promise<KeysetRotation[]> {
  return (await db.query<KeysetRotation>(rotationQueries.forSim, [iccid])).rows;
}

export async function markPutKeySent(
  db: Queryable,
  id: string,
  s: { dataKeyId: string; previousKeysets: Buffer; pendingKeysets: Buffer; messageId: string },
): Promise<boolean> {
  return ((await db.query(rotationQueries.putKeySent, [id, s.dataKeyId, s.previousKeysets, s.pendingKeysets, s.messageId])).rowCount ?? 0) > 0;
}

export async function markProbingNew(db: Queryable, id: string, messageId: string): Promise<boolean> {
  return ((await db.query(rotationQueries.probingNew, [id, messageId])).rowCount ?? 0) > 0;
}

export async function markProbingOld(db: Queryable, id: string, messageId: string): Promise<boolean> {
  return ((await db.query(rotationQueries.probingOld, [id, messageId])).rowCount ?? 0) > 0;
}

export async function markProbeBackoff(db: Queryable, id: string, notBefore: Date): Promise<boolean> {
  return ((await db.query(rotationQueries.backoff, [id, notBefore])).rowCount ?? 0) > 0;
}

export async function completeRotation(db: Queryable, id: string, r: { provenBy: 'por' | 'probe'; porStatus: number | null; sw: number | null }): Promise<KeysetRotation | null> {
  return (await db.query<KeysetRotation>(rotationQueries.complete, [id, r.provenBy, r.porStatus, r.sw])).rows[0] ?? null;
}

export async function failRotation(
  db: Queryable,
  id: string,
  f: { code: string; reason: string; porStatus?: number | null; sw?: number | null; keepPendingKeys?: boolean },
): Promise<KeysetRotation | null> {
  return (await db.query<KeysetRotation>(rotationQueries.fail, [id, f.code, f.reason, f.porStatus ?? null, f.sw ?? null, f.keepPendingKeys ?? false])).rows[0] ?? null;
}

/** Replace the SIM's sealed keysets, provided they are still `expected`. */
export async function switchSimKeysets(db: Queryable, iccid: string, next: Buffer, expected: Buffer): Promise<boolean> {
  return ((await db.query(rotationQueries.switchSim, [iccid, next, expected])).rowCount ?? 0) > 0;
}

/**
 * The sealed keysets OTA message `messageId` to SIM `iccid` was secured with: a rotation's
 * pending keysets when the message is its probe under the new keys, else the SIM's own.
 */
export async function keysetsForOtaMessage(db: Queryable, iccid: string, messageId: string): Promise<{ iccid: string; dataKeyId: string; keysets: Buffer } | null> {
  return (await db.query<{ iccid: string; dataKeyId: string; keysets: Buffer }>(rotationQueries.keysetsForMessage, [iccid, messageId])).rows[0] ?? null;
}
