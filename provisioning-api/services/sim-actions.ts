/**
 * Suspend, resume, terminate: a request checks the lifecycle and records the pending action
 * and its job in one transaction (202 with the job); the job carries it out later. For a SIM
 * bound to a device that means the card (LOCK / UNLOCK / TERMINATE over OTA) and the chain
 * (DeviceRegistry.setStatus), both confirmed before the SIM's state changes (lifecycle/).
 */
import { withTransaction } from '../db/pool.js';
import { openRotationForSim } from '../db/repositories/keyset-rotations.js';
import { openProvisioningOfSim } from '../db/repositories/provisioning.js';
import { failJob, insertJob, lockJob, startJob, succeedJob, type Job } from '../db/repositories/jobs.js';
import { beginEffects, clearPendingAction, deviceOf, getEffects, LifecycleEffectsError } from '../lifecycle/index.js';
import { OtaRequestError } from '../smpp/ota-gateway.js';
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
    // A PUT KEY in flight: a command now might be secured with keys the card is replacing.
    const rotation = await openRotationForSim(client, iccid);
    if (rotation) throw new ApiError('ROTATION_OPEN', `SIM ${iccid} has a keyset rotation under way`, { jobId: rotation.jobId, rotationState: rotation.state });
    // An active SIM whose identity push is still in flight: one open command per card at a time.
    const provisioning = await openProvisioningOfSim(client, iccid);
    if (provisioning) throw new ApiError('PROVISIONING_OPEN', `SIM ${iccid} is still being provisioned (${provisioning.state})`, provisioning);
    const job = await insertJob(client, { tenantId: principal.tenantId, createdBy: principal.keyId, kind: JOB_KIND[action], input: { iccid, action } });
    await setPendingAction(client, iccid, action, job.id);
    await svc.queue.enqueue(client, job.kind, job.id);
    return job;
  });
  svc.queue.nudge(job.kind);
  return job;
}

/**
 * Carry out a lifecycle job. A SIM bound to a device (provisioned: a `devices` row) changes
 * only once its card and the chain confirmed (lifecycle/executor.ts): this records both
 * effects and the first check in the job's transaction and leaves the job running. A SIM with
 * no device (inventory, failed) has nothing on a card or on chain to change: its state
 * changes at once. Idempotent: a job already begun or finished is left as it is.
 */
export async function runSimActionJob(svc: Services, jobId: string): Promise<void> {
  const afterCommit = await withTransaction(svc.pool, async (client): Promise<(() => void) | null> => {
    const job = await lockJob(client, jobId);
    if (!job || job.state === 'succeeded' || job.state === 'failed') return null;
    if (await getEffects(client, jobId)) return null;
    await startJob(client, jobId);
    const { iccid, action } = job.input as { iccid: string; action: RequestableAction };
    const sim = await lockSim(client, iccid);
    if (!sim || sim.pendingJobId !== jobId) {
      await failJob(client, jobId, { code: 'SIM_CHANGED', message: `SIM ${iccid} no longer carries this job's action` });
      return null;
    }
    const to = nextState(sim.state, action);
    if (to === null) {
      await clearPendingAction(client, iccid, jobId);
      await failJob(client, jobId, { code: 'ILLEGAL_TRANSITION', message: `cannot ${action} a SIM that is ${sim.state}` });
      return null;
    }
    const device = await deviceOf(client, iccid);
    const effects = effectsOf(sim.state, action);
    if (device === null || (effects.ota === null && effects.chainStatus === null)) {
      await applyPendingAction(client, iccid, to, jobId);
      await succeedJob(client, jobId, { iccid, from: sim.state, to, stateChanged: true, device: null, outbox: [] });
      return null;
    }
    // A refusal to begin (no SMSC or chain here, no keyset for the SIM) fails the job and
    // frees the SIM; nothing of the attempt stays.
    await client.query('SAVEPOINT begin_effects');
    try {
      return await beginEffects(svc, client, { job, sim, action, to, device, effects });
    } catch (e) {
      const code = e instanceof LifecycleEffectsError || e instanceof OtaRequestError ? e.code : null;
      if (code === null) throw e;
      await client.query('ROLLBACK TO SAVEPOINT begin_effects');
      await clearPendingAction(client, iccid, jobId);
      await failJob(client, jobId, { code, message: e instanceof Error ? e.message : String(e) });
      return null;
    }
  });
  afterCommit?.();
}
