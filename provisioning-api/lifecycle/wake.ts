/**
 * Scheduling and waking a lifecycle action's checks. Every check that does not end the job
 * schedules exactly one successor (pg-boss `startAfter`) under the next `seq`, so one live
 * check exists per open action; a wake (a PoR or a confirmation seen by this process) runs a
 * check now and takes over: the successor it schedules makes the older one stale.
 */
import type { PoolClient } from '../db/pool.js';
import { QUEUES } from '../jobs/queue.js';
import type { Services } from '../services/context.js';
import type { OtaGateway, OtaSettled } from '../smpp/ota-gateway.js';

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

const MAX_WATCHED = 10_000;
const watched = new WeakMap<OtaGateway, Map<string, string>>();

/** Wake the job when this process's gateway settles the message (PoR, expiry, failure). */
export function watchOta(svc: Services, otaMessageId: string, jobId: string): void {
  const gateway = svc.ota;
  if (!gateway) return;
  let byMessage = watched.get(gateway);
  if (!byMessage) {
    const map = new Map<string, string>();
    byMessage = map;
    watched.set(gateway, map);
    gateway.on('settled', (s: OtaSettled) => {
      const job = map.get(s.id);
      if (job === undefined) return;
      map.delete(s.id);
      wake(svc, job);
    });
  }
  // A PoR matched by another process never settles here: forget the oldest beyond the cap.
  if (byMessage.size >= MAX_WATCHED) byMessage.delete(byMessage.keys().next().value!);
  byMessage.set(otaMessageId, jobId);
}

/** Wake the job when this process's signer has the transaction confirmed (or failed). */
export function watchChain(svc: Services, entryId: string, jobId: string): void {
  const outbox = svc.chain?.signer.outbox;
  if (!outbox) return;
  outbox.wait(entryId, 'confirmed', 30 * 60_000).then(() => wake(svc, jobId), (e: unknown) => {
    if ((e as { code?: string } | null)?.code !== 'CLOSED') wake(svc, jobId);
  });
}
