/** The job workers of this process: one per queue, each calling an idempotent handler. */
import { runAllocationJob } from '../services/allocations.js';
import type { Services } from '../services/context.js';
import { runImportLoadJob } from '../services/imports.js';
import { runSimActionJob } from '../services/sim-actions.js';
import { QUEUES } from './queue.js';

export async function startWorkers(svc: Services): Promise<void> {
  await svc.queue.work(QUEUES.lifecycle, (id) => runSimActionJob(svc, id), { batchSize: 20 });
  await svc.queue.work(QUEUES.allocate, (id) => runAllocationJob(svc, id), { batchSize: 1 });
  // One load at a time per worker: each is a long transaction over many rows.
  await svc.queue.work(QUEUES.importLoad, async (id) => {
    const outcome = await runImportLoadJob(svc, id);
    if (outcome) svc.log.info({ importId: outcome.importId, state: outcome.state, loaded: outcome.loaded }, 'import loaded');
  }, { batchSize: 1 });
}
