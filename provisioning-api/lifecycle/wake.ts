/**
 * Scheduling and waking a lifecycle action's checks. Every check that does not end the job
 * schedules exactly one successor (pg-boss `startAfter`) under the next `seq`, so one live
 * check exists per open action; a wake (a PoR or a confirmation seen by this process) runs a
 * check now and takes over: the successor it schedules makes the older one stale.
 */
import type { PoolClient } from '../db/pool.js';
import { QUEUES } from '../jobs/queue.js';
import type { Services } from '../services/context.js';

/** What a check job carries: the effects' `seq` it was scheduled under, or `wake` (take over the checks now). */
export interface LifecycleCheck {
  jobId: string;
  seq?: number;
  wake?: boolean;
}

export async function schedule(svc: Services, client: PoolClient, check: LifecycleCheck, delaySeconds: number): Promise<void> {
  await svc.queue.sendTo(client, QUEUES.lifecycleEffects, check, { startAfter: delaySeconds, singletonKey: check.jobId });
}

/** Wake a job's checks now (best effort: its scheduled check comes anyway). */
export function wake(svc: Services, jobId: string): void {
  void svc.queue
    .sendTo(null, QUEUES.lifecycleEffects, { jobId, wake: true } satisfies LifecycleCheck, { singletonKey: jobId })
    .then(() => svc.queue.nudgeQueue(QUEUES.lifecycleEffects))
    .catch(() => undefined);
}

/** Wake the job when this process's gateway settles the message (PoR, expiry, failure). */
export function watchOta(svc: Services, otaMessageId: string, jobId: string): void {
  svc.ota?.watch(otaMessageId, () => wake(svc, jobId));
}

/** Wake the job when this process's signer has the transaction confirmed (or failed). */
export function watchChain(svc: Services, entryId: string, jobId: string): void {
  const outbox = svc.chain?.signer.outbox;
  if (!outbox) return;
  outbox.wait(entryId, 'confirmed', 30 * 60_000).then(() => wake(svc, jobId), (e: unknown) => {
    if ((e as { code?: string } | null)?.code !== 'CLOSED') wake(svc, jobId);
  });
}
