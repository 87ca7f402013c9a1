/** The job workers of this process: one per queue, each calling an idempotent handler. */
import { runAllocationJob } from '../services/allocations.js';
import type { Services } from '../services/context.js';
import { runImportLoadJob } from '../services/imports.js';
import { runSimActionJob } from '../services/sim-actions.js';
import { startLifecycleEffects } from '../lifecycle/index.js';
import { runKeysetRotationJob } from '../services/keyset-rotation.js';
import { QUEUES } from './queue.js';
import { Provisioner, type ProvisionerOptions } from '../provisioning/engine.js';
import { StatisticsKeeper } from '../db/statistics-keeper.js';

/** Starts the workers; resolves to what stops the ones that need stopping. */
export async function startWorkers(svc: Services, options: { provisioning?: ProvisionerOptions } = {}): Promise<() => Promise<void>> {
  await svc.queue.work(QUEUES.lifecycle, (id) => runSimActionJob(svc, id), { batchSize: 20 });
  // The card and chain effects of lifecycle actions: checks until both sides confirmed.
  await startLifecycleEffects(svc);
  await svc.queue.work(QUEUES.allocate, (id) => runAllocationJob(svc, id), { batchSize: 1 });
  // One load at a time per worker: each is a long transaction over many rows.
  await svc.queue.work(QUEUES.importLoad, async (id) => {
    const outcome = await runImportLoadJob(svc, id);
    if (outcome) svc.log.info({ importId: outcome.importId, state: outcome.state, loaded: outcome.loaded }, 'import loaded');
  }, { batchSize: 1 });
  // Keyset rotations: a run waits a few seconds at most for a PoR, so a few run side by side.
  for (let i = 0; i < 4; i++) await svc.queue.work(QUEUES.keysetRotation, (id) => runKeysetRotationJob(svc, id), { batchSize: 1 });
  // Planner statistics of the tables the jobs grow, on a server whose autovacuum is off.
  const keeper = new StatisticsKeeper({ pool: svc.pool, log: svc.log });
  keeper.start();
  // Provisioning needs both the SMSC and the chain; a process without them leaves it to others.
  if (svc.ota && svc.chain) {
    const provisioner = new Provisioner(svc, options.provisioning);
    await provisioner.start();
    return async () => {
      await provisioner.stop();
      await keeper.stop();
    };
  }
  return () => keeper.stop();
}
