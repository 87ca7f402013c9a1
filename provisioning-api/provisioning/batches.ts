/**
 * Creating a provisioning batch: the selection (ICCIDs, an ICCID range, or an import) is
 * checked as a set, and either every SIM in it can start (state inventory or failed, no
 * pending action or keyset rotation, its import's vendor CA configured) and the batch, one item per SIM, the
 * SIMs' move to `provisioning` and the first key-generation jobs are written in one
 * transaction, or nothing is written and the caller gets the reasons.
 */
import { randomUUID } from 'node:crypto';
import { withTransaction, type PoolClient } from '../db/pool.js';
import { ApiError } from '../domain/errors.js';
import { batchRefOf } from '../domain/provisioning.js';
import type { Principal } from '../domain/roles.js';
import { QUEUES } from '../jobs/queue.js';
import type { Services } from '../services/context.js';
import { getBatch, type ProvisioningBatch } from '../db/repositories/provisioning.js';

export type BatchSelector =
  | { iccids: string[] }
  | { range: { from: string; to: string } }
  | { importId: string };

export interface BatchRequest {
  selector: BatchSelector;
  /** Seconds until SIMs still without a key are failed and the batch anchors what it has. */
  deadlineSeconds?: number;
}

/** SIMs per key-generation job (one transaction writes their OTA messages). */
export const CHUNK = 250;
export const MAX_BATCH = 2_000_000;
const DEFAULT_DEADLINE_SECONDS = 3600;
const EXAMPLES = 20;
/** Batches from this size on refresh provisioning_items' planner statistics as they are created. */
const ANALYZE_AT = 1000;
/** A SIM whose OTA keyset is being replaced (PUT KEY in flight): no other command until it settles. */
const ROTATING = (alias: string) =>
  `EXISTS (SELECT 1 FROM keyset_rotations r WHERE r.iccid = ${alias}.iccid AND r.state NOT IN ('completed', 'failed'))`;

/** The SQL condition selecting the batch's SIMs (alias `s`), its parameters numbered from $`first`. */
function condition(selector: BatchSelector, first: number): { where: string; params: unknown[] } {
  const p = (k: number) => `$${first + k}`;
  if ('iccids' in selector) return { where: `s.iccid = ANY(${p(0)}::text[])`, params: [selector.iccids] };
  if ('range' in selector) return { where: `s.iccid BETWEEN ${p(0)} AND ${p(1)}`, params: [selector.range.from, selector.range.to] };
  return { where: `s.import_id = ${p(0)}`, params: [selector.importId] };
}

export async function createBatch(svc: Services, principal: Principal, request: BatchRequest): Promise<ProvisioningBatch> {
  const { selector } = request;
  if ('iccids' in selector) {
    if (selector.iccids.length === 0) throw new ApiError('BATCH_EMPTY', 'iccids is empty');
    if (new Set(selector.iccids).size !== selector.iccids.length) throw new ApiError('VALIDATION_FAILED', 'iccids lists a SIM twice');
  }
  if ('range' in selector && selector.range.from > selector.range.to) throw new ApiError('VALIDATION_FAILED', 'range.from is after range.to');
  const id = randomUUID();
  const deadline = request.deadlineSeconds ?? DEFAULT_DEADLINE_SECONDS;
  const batch = await withTransaction(svc.pool, async (client) => {
    // `where`/`params` alone ($1...), and `at2` after the batch id ($1 = id, then $2...).
    const { where, params } = condition(selector, 1);
    const at2 = condition(selector, 2).where;
    // Lock the selection: a concurrent batch or lifecycle request waits, then sees the new states.
    const summary = (await client.query<{ n: number; blocked: number; tenants: number }>(
      `WITH sel AS (SELECT s.iccid, s.state, s.pending_action, s.tenant_id FROM sims s WHERE ${where} FOR UPDATE)
       SELECT count(*)::int AS n,
              count(*) FILTER (WHERE state NOT IN ('inventory', 'failed') OR pending_action IS NOT NULL OR ${ROTATING('sel')})::int AS blocked,
              count(DISTINCT tenant_id)::int AS tenants
         FROM sel`,
      params,
    )).rows[0]!;
    await checkSelection(client, selector, where, params, summary);
    await client.query(
      `INSERT INTO provisioning_batches (id, tenant_id, created_by, selector, state, sim_count, deadline_at, batch_ref)
       VALUES ($1, $2, $3, $4, 'keygen', $5, now() + make_interval(secs => $6), $7)`,
      [id, principal.tenantId, principal.keyId, selector, summary.n, deadline, batchRefOf(id)],
    );
    await client.query(`INSERT INTO provisioning_items (batch_id, iccid, state) SELECT $1, s.iccid, 'queued' FROM sims s WHERE ${at2}`, [id, ...params]);
    await client.query(`UPDATE sims s SET state = 'provisioning', state_changed_at = now() WHERE ${where}`, params);
    // Planner statistics for the rows just written, before the first job reads them: planned
    // from statistics that had not seen them, the first key generation steps of a 20,000-SIM
    // batch updated their 250 items each by comparing them with every item of the batch
    // (2.3 million comparisons a statement; auto_explain, README). Neither autovacuum (a
    // minute away at best) nor the statistics keeper (5 s) would be in time. ANALYZE counts
    // this transaction's own rows.
    if (summary.n >= ANALYZE_AT) await client.query('ANALYZE provisioning_items');
    const chunks = (await client.query<{ from: string; to: string }>(
      `SELECT min(iccid) AS from, max(iccid) AS to
         FROM (SELECT iccid, (row_number() OVER (ORDER BY iccid) - 1) / ${CHUNK} AS g FROM provisioning_items WHERE batch_id = $1) x
        GROUP BY g ORDER BY 1`,
      [id],
    )).rows;
    await svc.queue.sendManyTo(client, QUEUES.provisioningKeygen, chunks.map((c) => ({ batchId: id, from: c.from, to: c.to })));
    // The deadline: whatever is still waiting then is failed and the rest anchored.
    await svc.queue.sendTo(client, QUEUES.provisioningAnchor, { batchId: id }, { startAfter: deadline + 1, singletonKey: `deadline:${id}` });
    return (await getBatch(client, id))!;
  });
  svc.queue.nudgeQueue(QUEUES.provisioningKeygen);
  return batch;
}

async function checkSelection(
  client: PoolClient,
  selector: BatchSelector,
  where: string,
  params: unknown[],
  summary: { n: number; blocked: number },
): Promise<void> {
  if ('iccids' in selector && summary.n < selector.iccids.length) {
    const missing = (await client.query<{ iccid: string }>(
      `SELECT i AS iccid FROM unnest($1::text[]) i WHERE NOT EXISTS (SELECT 1 FROM sims WHERE iccid = i) LIMIT ${EXAMPLES}`, [selector.iccids])).rows;
    throw new ApiError('SIM_NOT_FOUND', `${selector.iccids.length - summary.n} of the ICCIDs are not in the inventory`, { missing: missing.map((r) => r.iccid) });
  }
  if (summary.n === 0) throw new ApiError('BATCH_EMPTY', 'the selection holds no SIM');
  if (summary.n > MAX_BATCH) throw new ApiError('BATCH_TOO_LARGE', `${summary.n} SIMs; a batch holds at most ${MAX_BATCH}`);
  if (summary.blocked > 0) {
    const examples = (await client.query<{ iccid: string; state: string; pendingAction: string | null; rotating: boolean }>(
      `SELECT s.iccid, s.state, s.pending_action AS "pendingAction", ${ROTATING('s')} AS rotating FROM sims s
        WHERE ${where} AND (s.state NOT IN ('inventory', 'failed') OR s.pending_action IS NOT NULL OR ${ROTATING('s')}) ORDER BY s.iccid LIMIT ${EXAMPLES}`,
      params)).rows;
    throw new ApiError('SIMS_NOT_PROVISIONABLE', `${summary.blocked} of ${summary.n} SIMs are not in inventory or failed (or carry a pending action or a keyset rotation)`, {
      blocked: summary.blocked, examples,
    });
  }
  const noCa = (await client.query<{ importId: string; n: number }>(
    `SELECT s.import_id AS "importId", count(*)::int AS n FROM sims s JOIN sim_imports i ON i.id = s.import_id
      WHERE ${where} AND i.vendor_ca_certificate IS NULL GROUP BY s.import_id ORDER BY 2 DESC LIMIT ${EXAMPLES}`,
    params)).rows;
  if (noCa.length > 0) {
    throw new ApiError('VENDOR_CA_MISSING', `configure the vendor CA (PUT /v1/sim-imports/{id}/vendor-ca) of imports ${noCa.map((r) => r.importId).join(', ')}`, {
      imports: noCa,
    });
  }
}
