/**
 * Allocation: assigning inventory SIMs to a customer tenant (or returning them to the
 * operator's pool). A bulk operation: the request is checked and becomes a job; the job
 * updates the SIMs in slices, each its own transaction, and is safe to run again (a SIM
 * already with the target tenant stays; one of another customer is a conflict).
 */
import { withTransaction, type PoolClient } from '../db/pool.js';
import { failJob, insertJob, recordJobProgress, startJob, succeedJob, type Job } from '../db/repositories/jobs.js';
import { getOperatorTenant, getTenant } from '../db/repositories/tenants.js';
import { ApiError } from '../domain/errors.js';
import type { Principal } from '../domain/roles.js';
import type { Services } from './context.js';

/** Exactly one selector: a list of ICCIDs, an import, or an inclusive ICCID range. */
export interface AllocationRequest {
  tenantId: string;
  iccids?: string[];
  importId?: string;
  range?: { from: string; to: string };
}

const SLICE = 5000;

export async function requestAllocation(svc: Services, principal: Principal, req: AllocationRequest): Promise<Job> {
  const selectors = [req.iccids, req.importId, req.range].filter((s) => s !== undefined).length;
  if (selectors !== 1) throw new ApiError('VALIDATION_FAILED', 'give exactly one of iccids, importId, range');
  if (req.range && req.range.from > req.range.to) throw new ApiError('VALIDATION_FAILED', 'range.from must not be after range.to');
  const job = await withTransaction(svc.pool, async (client) => {
    if (!(await getTenant(client, req.tenantId))) throw new ApiError('TENANT_NOT_FOUND', `no tenant ${req.tenantId}`);
    const input: Record<string, unknown> = { tenantId: req.tenantId };
    if (req.iccids) input.iccids = [...new Set(req.iccids)];
    if (req.importId) input.importId = req.importId;
    if (req.range) input.range = req.range;
    const job = await insertJob(client, { tenantId: principal.tenantId, createdBy: principal.keyId, kind: 'sim.allocate', input });
    await svc.queue.enqueue(client, job.kind, job.id);
    return job;
  });
  svc.queue.nudge(job.kind);
  return job;
}

/** The SQL condition selecting the job's SIMs, its parameters numbered from `$at`. */
function selector(input: AllocationRequest, at: number): { where: string; params: unknown[] } {
  if (input.iccids) return { where: `iccid = ANY($${at}::text[])`, params: [input.iccids] };
  if (input.importId) return { where: `import_id = $${at}`, params: [input.importId] };
  return { where: `iccid BETWEEN $${at} AND $${at + 1}`, params: [input.range!.from, input.range!.to] };
}

export async function runAllocationJob(svc: Services, jobId: string): Promise<void> {
  const job = await withTransaction(svc.pool, (c) => startJob(c, jobId));
  if (!job) return;
  const input = job.input as unknown as AllocationRequest;
  const operator = await getOperatorTenant(svc.pool);
  if (!operator) throw new Error('no operator tenant');
  if (!(await getTenant(svc.pool, input.tenantId))) {
    await failJob(svc.pool, jobId, { code: 'TENANT_NOT_FOUND', message: `no tenant ${input.tenantId}` });
    return;
  }
  const { where, params } = selector(input, 3);
  const afterParam = `$${params.length + 3}`;
  let after = '';
  let moved = 0;
  for (;;) {
    // Terminated SIMs stay where they are; a customer's SIMs move only back to the operator ($2).
    const slice = await withTransaction(svc.pool, async (c: PoolClient) => {
      const r = await c.query<{ last: string | null; n: number }>(
        `WITH chosen AS (SELECT iccid FROM sims WHERE ${where} AND iccid > ${afterParam} ORDER BY iccid LIMIT ${SLICE}),
           moved AS (UPDATE sims s SET tenant_id = $1 FROM chosen
             WHERE s.iccid = chosen.iccid AND s.tenant_id <> $1 AND s.state <> 'terminated' AND ($1 = $2 OR s.tenant_id = $2)
             RETURNING s.iccid)
         SELECT (SELECT max(iccid) FROM chosen) AS last, (SELECT count(*) FROM moved)::int AS n`,
        [input.tenantId, operator.id, ...params, after],
      );
      return r.rows[0]!;
    });
    if (slice.last === null) break;
    after = slice.last;
    moved += slice.n;
    await recordJobProgress(svc.pool, jobId, { moved, through: after });
  }
  // Counted at the end, so a job run twice reports the same figures.
  const counted = selector(input, 2);
  const counts = (await svc.pool.query<{ allocated: number; conflicts: number; terminated: number; found: number }>(
    `SELECT count(*) FILTER (WHERE tenant_id = $1)::int AS allocated,
            count(*) FILTER (WHERE tenant_id <> $1 AND state <> 'terminated')::int AS conflicts,
            count(*) FILTER (WHERE tenant_id <> $1 AND state = 'terminated')::int AS terminated,
            count(*)::int AS found
     FROM sims WHERE ${counted.where}`,
    [input.tenantId, ...counted.params],
  )).rows[0]!;
  const result: Record<string, unknown> = { tenantId: input.tenantId, movedNow: moved, allocated: counts.allocated, conflicts: counts.conflicts, terminated: counts.terminated };
  if (input.iccids) result.notFound = input.iccids.length - counts.found;
  await succeedJob(svc.pool, jobId, result);
}
