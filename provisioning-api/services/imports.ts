/** Import loading as a job: the worker's (and the CLI's) way to complete a staged import. */
import { withTransaction } from '../db/pool.js';
import { failJob, startJob, succeedJob } from '../db/repositories/jobs.js';
import { loadImport, type LoadOptions, type LoadOutcome } from '../import/load.js';
import type { Services } from './context.js';

/**
 * Run load job `jobId`. Idempotent: an import already loaded or rejected is reported as it
 * is; a load interrupted by a crash rolled back and runs again from its first row.
 */
export async function runImportLoadJob(svc: Pick<Services, 'pool'>, jobId: string, options: LoadOptions = {}): Promise<LoadOutcome | null> {
  const job = await withTransaction(svc.pool, (c) => startJob(c, jobId));
  if (!job) return null;
  const importId = String(job.input.importId);
  try {
    const outcome = await loadImport(svc.pool, importId, options);
    await succeedJob(svc.pool, jobId, { importId, state: outcome.state, loaded: outcome.loaded, problemCount: outcome.problemCount });
    return outcome;
  } catch (e) {
    // Left running: pg-boss retries it (the load rolled back); give up only when the import is gone.
    if (e instanceof Error && /does not exist/.test(e.message)) {
      await failJob(svc.pool, jobId, { code: 'IMPORT_NOT_FOUND', message: e.message });
      return null;
    }
    throw e;
  }
}
