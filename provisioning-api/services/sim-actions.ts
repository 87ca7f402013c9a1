/**
 * Suspend, resume, terminate: a request checks the lifecycle and records the pending action
 * and its job in one transaction (202 with the job); the job applies it later, and writes to
 * the outbox what must leave the database (the card's LOCK/UNLOCK, the registry status).
 * The senders of those messages arrive with the provisioning issue.
 */
import { withTransaction } from '../db/pool.js';
import { failJob, insertJob, lockJob, startJob, succeedJob, type Job } from '../db/repositories/jobs.js';
import { enqueueOutbox } from '../db/repositories/outbox.js';
import { applyPendingAction, lockSim, setPendingAction } from '../db/repositories/sims.js';
import { ApiError } from '../domain/errors.js';
import { canAccessTenant, type Principal } from '../domain/roles.js';
import { allowedActions, checkTransition, effectsOf, nextState, type RequestableAction } from '../domain/sim-lifecycle.js';
import type { Services } from './context.js';

const JOB_KIND = { suspend: 'sim.suspend', resume: 'sim.resume', terminate: 'sim.terminate' } as const;

export async function requestSimAction(svc: Services, principal: Principal, iccid: string, action: RequestableAction): Promise<Job> {
  const job = await withTransaction(svc.pool, async (client) => {
    const sim = await lockSim(client, iccid);
    if (!sim || !canAccessTenant(principal, sim.tenantId)) throw new ApiError('SIM_NOT_FOUND', `no SIM ${iccid}`);
    const check = checkTransition(sim.state, sim.pendingAction, action);
    if (!check.ok && check.reason === 'action-pending') {
      throw new ApiError('ACTION_PENDING', `SIM ${iccid} is carrying out ${sim.pendingAction}`, {
        state: sim.state, pendingAction: sim.pendingAction, jobId: sim.pendingJobId,
      });
    }
    if (!check.ok) {
      throw new ApiError('ILLEGAL_TRANSITION', `cannot ${action} a SIM that is ${sim.state}`, {
        state: sim.state, allowedActions: allowedActions(sim.state),
      });
    }
    const job = await insertJob(client, { tenantId: principal.tenantId, createdBy: principal.keyId, kind: JOB_KIND[action], input: { iccid, action } });
    await setPendingAction(client, iccid, action, job.id);
    await svc.queue.enqueue(client, job.kind, job.id);
    return job;
  });
  svc.queue.nudge(job.kind);
  return job;
}

/** Apply a lifecycle job. Idempotent: a job already finished is left as it is. */
export async function runSimActionJob(svc: Services, jobId: string): Promise<void> {
  await withTransaction(svc.pool, async (client) => {
    const job = await lockJob(client, jobId);
    if (!job || job.state === 'succeeded' || job.state === 'failed') return;
    await startJob(client, jobId);
    const { iccid, action } = job.input as { iccid: string; action: RequestableAction };
    const sim = await lockSim(client, iccid);
    if (!sim || sim.pendingJobId !== jobId) {
      await failJob(client, jobId, { code: 'SIM_CHANGED', message: `SIM ${iccid} no longer carries this job's action` });
      return;
    }
    const to = nextState(sim.state, action);
    if (to === null) {
      await failJob(client, jobId, { code: 'ILLEGAL_TRANSITION', message: `cannot ${action} a SIM that is ${sim.state}` });
      return;
    }
    await applyPendingAction(client, iccid, to, jobId);
    const effects = effectsOf(sim.state, action);
    const outbox: string[] = [];
    if (effects.ota !== null) {
      const m = await enqueueOutbox(client, {
        kind: 'ota.command', idempotencyKey: `${jobId}:ota`, subject: iccid, jobId,
        payload: { iccid, tar: sim.tar, instruction: effects.ota, action },
      });
      outbox.push(m.id);
    }
    if (effects.chainStatus !== null) {
      const m = await enqueueOutbox(client, {
        kind: 'chain.tx', idempotencyKey: `${jobId}:chain`, subject: iccid, jobId,
        payload: { contract: 'DeviceRegistry', call: 'setStatus', iccid, status: effects.chainStatus },
      });
      outbox.push(m.id);
    }
    await succeedJob(client, jobId, { iccid, from: sim.state, to, outbox });
  });
}
