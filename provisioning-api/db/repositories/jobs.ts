/** The jobs the API shows; pg-boss carries their execution. */
import type { JobKind, JobState } from '../../domain/jobs.js';
import type { Queryable } from '../pool.js';

export interface Job {
  id: string;
  tenantId: string;
  createdBy: string | null;
  kind: JobKind;
  state: JobState;
  input: Record<string, unknown>;
  result: Record<string, unknown> | null;
  error: { code: string; message: string } | null;
  attempts: number;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

const COLUMNS = `id, tenant_id AS "tenantId", created_by AS "createdBy", kind, state, input, result, error, attempts,
  created_at AS "createdAt", started_at AS "startedAt", finished_at AS "finishedAt"`;

export const jobQueries = {
  insert: `INSERT INTO jobs (tenant_id, created_by, kind, input) VALUES ($1, $2, $3, $4) RETURNING ${COLUMNS}`,
  byId: `SELECT ${COLUMNS} FROM jobs WHERE id = $1`,
  lock: `SELECT ${COLUMNS} FROM jobs WHERE id = $1 FOR UPDATE`,
  start: `UPDATE jobs SET state = 'running', attempts = attempts + 1, started_at = coalesce(started_at, now())
    WHERE id = $1 AND state IN ('queued', 'running') RETURNING ${COLUMNS}`,
  succeed: `UPDATE jobs SET state = 'succeeded', result = $2, finished_at = now() WHERE id = $1 RETURNING ${COLUMNS}`,
  fail: `UPDATE jobs SET state = 'failed', error = $2, finished_at = now() WHERE id = $1 RETURNING ${COLUMNS}`,
  progress: `UPDATE jobs SET result = $2 WHERE id = $1`,
} as const;

export async function insertJob(
  db: Queryable,
  job: { tenantId: string; createdBy: string | null; kind: JobKind; input: Record<string, unknown> },
): Promise<Job> {
  return (await db.query<Job>(jobQueries.insert, [job.tenantId, job.createdBy, job.kind, job.input])).rows[0]!;
}

export async function getJob(db: Queryable, id: string): Promise<Job | null> {
  return (await db.query<Job>(jobQueries.byId, [id])).rows[0] ?? null;
}

export async function lockJob(db: Queryable, id: string): Promise<Job | null> {
  return (await db.query<Job>(jobQueries.lock, [id])).rows[0] ?? null;
}

/** Mark a job running (counting the attempt); null when it is already finished. */
export async function startJob(db: Queryable, id: string): Promise<Job | null> {
  return (await db.query<Job>(jobQueries.start, [id])).rows[0] ?? null;
}

export async function succeedJob(db: Queryable, id: string, result: Record<string, unknown>): Promise<Job> {
  return (await db.query<Job>(jobQueries.succeed, [id, result])).rows[0]!;
}

export async function failJob(db: Queryable, id: string, error: { code: string; message: string }): Promise<Job> {
  return (await db.query<Job>(jobQueries.fail, [id, error])).rows[0]!;
}

export async function recordJobProgress(db: Queryable, id: string, result: Record<string, unknown>): Promise<void> {
  await db.query(jobQueries.progress, [id, result]);
}
