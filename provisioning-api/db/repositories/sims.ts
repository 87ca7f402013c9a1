/** The SIM inventory. Keysets stay in the database: no query here returns them. */
import type { RequestableAction, SimAction, SimState } from '../../domain/sim-lifecycle.js';
import type { Queryable } from '../pool.js';

export interface Sim {
  iccid: string;
  imsi: string;
  msisdn: string;
  tar: string;
  tenantId: string;
  state: SimState;
  pendingAction: RequestableAction | null;
  pendingJobId: string | null;
  importId: string;
  attestationSerial: string | null;
  stateChangedAt: Date;
  createdAt: Date;
}

const COLUMNS = `iccid, imsi, msisdn, tar, tenant_id AS "tenantId", state, pending_action AS "pendingAction",
  pending_job_id AS "pendingJobId", import_id AS "importId", attestation_serial AS "attestationSerial",
  state_changed_at AS "stateChangedAt", created_at AS "createdAt"`;

export interface SimFilter {
  /** Only this tenant's SIMs (always set for a customer's key). */
  tenantId?: string;
  state?: SimState;
  importId?: string;
  /** ICCIDs after this one (keyset pagination). */
  after?: string;
  limit: number;
}

export const simQueries = {
  byIccid: `SELECT ${COLUMNS} FROM sims WHERE iccid = $1`,
  lock: `SELECT ${COLUMNS} FROM sims WHERE iccid = $1 FOR UPDATE`,
  page: `SELECT ${COLUMNS} FROM sims
    WHERE ($1::uuid IS NULL OR tenant_id = $1) AND ($2::text IS NULL OR state = $2)
      AND ($3::uuid IS NULL OR import_id = $3) AND ($4::text IS NULL OR iccid > $4)
    ORDER BY iccid LIMIT $5`,
  setPending: `UPDATE sims SET pending_action = $2, pending_job_id = $3 WHERE iccid = $1`,
  applyPending: `UPDATE sims SET state = $2, pending_action = NULL, pending_job_id = NULL, state_changed_at = now()
    WHERE iccid = $1 AND pending_job_id = $3 RETURNING ${COLUMNS}`,
  setState: `UPDATE sims SET state = $2, state_changed_at = now() WHERE iccid = $1 RETURNING ${COLUMNS}`,
} as const;

export async function getSim(db: Queryable, iccid: string): Promise<Sim | null> {
  return (await db.query<Sim>(simQueries.byIccid, [iccid])).rows[0] ?? null;
}

export async function lockSim(db: Queryable, iccid: string): Promise<Sim | null> {
  return (await db.query<Sim>(simQueries.lock, [iccid])).rows[0] ?? null;
}

export async function listSims(db: Queryable, f: SimFilter): Promise<Sim[]> {
  return (await db.query<Sim>(simQueries.page, [f.tenantId ?? null, f.state ?? null, f.importId ?? null, f.after ?? null, f.limit])).rows;
}

/** Record an accepted request as the SIM's pending action (the transitional state). */
export async function setPendingAction(db: Queryable, iccid: string, action: RequestableAction, jobId: string): Promise<void> {
  await db.query(simQueries.setPending, [iccid, action, jobId]);
}

/** Apply the pending action of `jobId`: the SIM moves to `to`. Null if that job no longer owns the SIM. */
export async function applyPendingAction(db: Queryable, iccid: string, to: SimState, jobId: string): Promise<Sim | null> {
  return (await db.query<Sim>(simQueries.applyPending, [iccid, to, jobId])).rows[0] ?? null;
}

/**
 * Set a state the caller has checked against the lifecycle table (the provisioning flow:
 * provision, activate, fail). `action` documents the edge taken.
 */
export async function setSimState(db: Queryable, iccid: string, _action: SimAction, to: SimState): Promise<Sim | null> {
  return (await db.query<Sim>(simQueries.setState, [iccid, to])).rows[0] ?? null;
}
