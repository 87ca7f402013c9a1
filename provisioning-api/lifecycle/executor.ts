/**
 * Suspend, resume and terminate of a SIM bound to a device, carried out on the card and on the
 * chain, each confirmed before the SIM's state says so (DESIGN.md flow 4).
 *
 * - `beginEffects`, in the job's own transaction: the card's instruction as an OTA message
 *   (LOCK / UNLOCK / TERMINATE, written by the gateway's `prepare`), DeviceRegistry.setStatus
 *   planned in the chain outbox under the id `<job>:setStatus` (so a crash never sends it
 *   twice), an `outbox` row describing each, the effects row, and the first check. Nothing
 *   leaves before that transaction commits.
 * - `runLifecycleCheck`, a pg-boss job of queue sim-lifecycle-effects: one transaction that reads
 *   where both sides stand (outcome.ts judges), sends what must be sent next (a GET STATUS probe,
 *   the instruction again after a lost PoR, with backoff, until the deadline), and either
 *   schedules the next check (`startAfter`; a check carrying an older `seq` is stale) or ends the
 *   job: the SIM's state changes and its pending action clears when the card AND the chain
 *   confirmed; otherwise the job fails with the reason and the SIM keeps its state.
 * - Compensation. When one side failed, a suspend or resume puts the side that succeeded back
 *   (UNLOCK/LOCK on the card, the previous status on chain) before the job fails, so card,
 *   chain and database agree again. Terminate is not compensated: TERMINATE on the card and
 *   revocation on chain are final; the job fails with what each side did, and asking again
 *   completes it (the card's 6985 + GET STATUS and the registry's DeviceIsRevoked both count as
 *   "already done").
 * - Waking. Checks poll with backoff (1 s, growing to 15 s); a PoR settled in this process or the
 *   transaction confirmed by this process's signer wakes the job at once.
 */
import { getStatusApdu, lockApdu, terminateApdu, unlockApdu, type CommandApdu, type Lifecycle } from '../../sim-applet/index.js';
import { PgOutboxStore, planTransaction, registryCalls } from '../chain/index.js';
import { withTransaction, type PoolClient } from '../db/pool.js';
import { failJob, recordJobProgress, succeedJob, type Job } from '../db/repositories/jobs.js';
import { enqueueOutbox } from '../db/repositories/outbox.js';
import { applyPendingAction, getSim, type Sim } from '../db/repositories/sims.js';
import {
  CARD_LIFECYCLE_AFTER,
  compensationOf,
  type ActionEffects,
  type RequestableAction,
  type SimState,
} from '../domain/sim-lifecycle.js';
import { QUEUES } from '../jobs/queue.js';
import type { Services } from '../services/context.js';
import type { OtaGateway } from '../smpp/ota-gateway.js';
import {
  clearPendingAction,
  insertEffects,
  lockEffects,
  mirrorOutbox,
  openEffects,
  otaMessageOutcome,
  outboxIdsOf,
  saveEffects,
  type CardInstruction,
  type LifecycleEffects,
} from './effects-store.js';
import { checkDelaySeconds, deviceStatusOf, judgeCard, judgeChain, resendDelaySeconds, type OtaPurpose } from './outcome.js';
import { schedule, wake, watchChain, watchOta, type LifecycleCheck } from './wake.js';

export type { LifecycleCheck } from './wake.js';

/** After this long without an answer from the card, no new OTA message is sent and the card side fails. */
export const LIFECYCLE_DEADLINE_SECONDS = 3600;

const INSTRUCTION_APDU: Record<CardInstruction, () => CommandApdu> = { LOCK: lockApdu, UNLOCK: unlockApdu, TERMINATE: terminateApdu };

/** Why effects cannot be begun here; the job fails with it. */
export class LifecycleEffectsError extends Error {
  override readonly name = 'LifecycleEffectsError';
  constructor(readonly code: 'EFFECTS_UNAVAILABLE', message: string) {
    super(message);
  }
}

/**
 * Record the action's effects inside the job's transaction on `client`; returns what to run
 * once it has committed (hand the OTA message to the SMSC, watch both sides).
 */
export async function beginEffects(
  svc: Services,
  client: PoolClient,
  p: { job: Job; sim: Sim; action: RequestableAction; to: SimState; device: string; effects: ActionEffects },
): Promise<() => void> {
  const { ota, chain } = svc;
  if (!ota || !chain) {
    throw new LifecycleEffectsError('EFFECTS_UNAVAILABLE', `SIM ${p.sim.iccid} is bound to device ${p.device}: its ${p.action} needs the SMSC and the chain, and this server has ${!ota && !chain ? 'neither' : !ota ? 'no SMSC' : 'no chain'}`);
  }
  const jobId = p.job.id;
  const instruction = p.effects.ota!;
  const chainStatus = deviceStatusOf(p.effects.chainStatus!);
  const chainEntryId = `${jobId}:setStatus`;
  await planChain(client, { jobId, iccid: p.sim.iccid, device: p.device, status: chainStatus, entryId: chainEntryId, key: `${jobId}:chain`,
    chainId: chain.connection.chainId, signer: chain.signer.outbox.address, registry: chain.registry, compensation: false });
  const sent = await sendOta(client, ota, { jobId, sim: p.sim, action: p.action, instruction, purpose: 'command', key: `${jobId}:card:1` });
  const e = await insertEffects(client, {
    jobId, iccid: p.sim.iccid, action: p.action, fromState: p.sim.state, toState: p.to, device: p.device,
    cardInstruction: instruction, cardTarget: CARD_LIFECYCLE_AFTER[instruction], otaMessageId: sent.id,
    chainStatus, chainEntryId, deadlineSeconds: LIFECYCLE_DEADLINE_SECONDS,
  });
  await schedule(svc, client, { jobId, seq: e.seq }, checkDelaySeconds(0));
  await recordJobProgress(client, jobId, resultOf(e, await outboxIdsOf(client, jobId)));
  return () => {
    sent.dispatch();
    watchOta(svc, sent.id, jobId);
    watchChain(svc, chainEntryId, jobId);
  };
}

/** One check of a job's effects: advance both sides, then finish the job or schedule the next check. */
export async function runLifecycleCheck(svc: Services, check: LifecycleCheck): Promise<void> {
  const after = await withTransaction(svc.pool, async (client) => {
    const e = await lockEffects(client, check.jobId);
    if (!e || e.phase === 'done') return [];
    if (!check.wake && check.seq !== e.seq) return [];
    const post: Array<() => void> = [];
    let dueAt: number | null = null;
    if (e.cardState === 'pending') dueAt = await advanceCard(svc, client, e, post);
    if (e.chainState === 'pending') await advanceChain(client, e);
    if (e.cardState !== 'pending' && e.chainState !== 'pending') {
      if (e.phase === 'applying' && e.cardState === 'confirmed' && e.chainState === 'confirmed') {
        await succeed(client, e);
        return post;
      }
      if (e.phase === 'applying' && (await compensate(svc, client, e, post))) {
        return post.concat(await reschedule(svc, client, e, null));
      }
      await fail(client, e);
      return post;
    }
    return post.concat(await reschedule(svc, client, e, dueAt));
  });
  for (const f of after) f();
}

/** Register the check worker, wake what was under way before this process started. */
export async function startLifecycleEffects(svc: Services): Promise<void> {
  await svc.queue.workData<LifecycleCheck>(QUEUES.lifecycleEffects, (check) => runLifecycleCheck(svc, check), { batchSize: 20 });
  // Each open action has its next check scheduled in pg-boss; a wake also covers one whose
  // checks ran out of retries (the database was gone for long).
  for (const jobId of await openEffects(svc.pool, 10_000)) wake(svc, jobId);
}

async function advanceCard(svc: Services, client: PoolClient, e: LifecycleEffects, post: Array<() => void>): Promise<number | null> {
  let next: { purpose: OtaPurpose; why: string; lost: boolean; finishedAt: Date | null };
  if (e.otaMessageId === null) {
    // A compensation whose instruction could not be sent yet (no SMSC in the process that began it).
    next = { purpose: 'command', why: 'compensation', lost: false, finishedAt: null };
  } else {
    const m = await otaMessageOutcome(client, e.otaMessageId);
    if (!m) throw new Error(`OTA message ${e.otaMessageId} of job ${e.jobId} is missing`);
    const verdict = judgeCard(m, e.otaPurpose ?? 'command', e.cardInstruction, e.cardTarget as Lifecycle);
    const at = { otaMessageId: e.otaMessageId, sends: e.otaSends };
    switch (verdict.kind) {
      case 'wait':
        return null;
      case 'confirmed':
        e.cardState = 'confirmed';
        e.cardDetail = { ...e.cardDetail, ...at, how: verdict.how };
        return null;
      case 'refused':
        e.cardState = 'refused';
        e.cardDetail = { ...e.cardDetail, ...at, code: 'CARD_REFUSED', reason: verdict.reason };
        return null;
      case 'probe':
        next = { purpose: verdict.purpose, why: verdict.why, lost: verdict.purpose === 'probe-lost', finishedAt: m.finishedAt };
        break;
      case 'send-command':
        next = { purpose: 'command', why: verdict.why, lost: false, finishedAt: m.finishedAt };
        break;
      case 'resend-probe':
        next = { purpose: e.otaPurpose ?? 'probe-lost', why: verdict.why, lost: true, finishedAt: m.finishedAt };
        break;
    }
  }
  const now = Date.now();
  if (next.lost) {
    // Nothing came back: back off before the next message, and give up after the deadline.
    if (now > e.deadlineAt.getTime()) {
      e.cardState = 'refused';
      e.cardDetail = { ...e.cardDetail, otaMessageId: e.otaMessageId, sends: e.otaSends, code: 'CARD_UNREACHABLE',
        reason: `no answer from the card before the deadline after ${e.otaSends} OTA messages (last: ${next.why})` };
      return null;
    }
    const due = (next.finishedAt?.getTime() ?? now) + resendDelaySeconds(e.otaSends) * 1000;
    if (now < due) return due;
  }
  if (!svc.ota) return now + 5_000; // this process has no SMSC: another one's check sends it
  const sim = await getSim(client, e.iccid);
  if (!sim) throw new Error(`SIM ${e.iccid} of job ${e.jobId} is missing`);
  const n = e.otaSends + 1;
  const sent = await sendOta(client, svc.ota, {
    jobId: e.jobId, sim, action: e.action, instruction: e.cardInstruction, purpose: next.purpose,
    key: `${e.jobId}:${e.phase === 'compensating' ? 'undo' : 'card'}:${n}`,
  });
  e.otaMessageId = sent.id;
  e.otaPurpose = next.purpose;
  e.otaSends = n;
  e.cardDetail = { ...e.cardDetail, last: next.why };
  post.push(() => {
    sent.dispatch();
    watchOta(svc, sent.id, e.jobId);
  });
  return null;
}

async function advanceChain(client: PoolClient, e: LifecycleEffects): Promise<void> {
  const verdict = judgeChain(await new PgOutboxStore(client).get(e.chainEntryId), e.chainStatus);
  const compensation = e.chainDetail?.compensation === true ? { compensation: true } : {};
  switch (verdict.kind) {
    case 'wait':
      e.chainDetail = { ...e.chainDetail, entryId: e.chainEntryId, outboxState: verdict.state };
      return;
    case 'confirmed':
      e.chainState = 'confirmed';
      e.chainDetail = { ...compensation, entryId: e.chainEntryId, how: verdict.how, txHash: verdict.txHash, blockNumber: verdict.blockNumber };
      return;
    case 'failed':
      e.chainState = 'failed';
      e.chainDetail = { ...compensation, entryId: e.chainEntryId, code: 'CHAIN_FAILED', reason: verdict.reason, txHash: verdict.txHash };
  }
}

/**
 * After a failed side: set up the undo of the side that succeeded (suspend and resume only).
 * False when there is nothing to undo.
 */
async function compensate(svc: Services, client: PoolClient, e: LifecycleEffects, post: Array<() => void>): Promise<boolean> {
  e.failure = failureOf(e);
  const undo = compensationOf(e.fromState, e.action);
  const undoCard = undo !== null && e.cardState === 'confirmed';
  const undoChain = undo !== null && e.chainState === 'confirmed';
  if (!undoCard && !undoChain) return false;
  e.phase = 'compensating';
  e.deadlineAt = new Date(Date.now() + LIFECYCLE_DEADLINE_SECONDS * 1000);
  if (undoCard) {
    const instruction = undo.ota!;
    e.cardInstruction = instruction;
    e.cardTarget = CARD_LIFECYCLE_AFTER[instruction];
    e.cardState = 'pending';
    e.cardDetail = { compensation: true };
    e.otaMessageId = null;
    e.otaPurpose = null;
    e.otaSends = 0;
    // advanceCard sends the instruction now when this process has a gateway.
    await advanceCard(svc, client, e, post);
  } else {
    e.cardState = 'untouched';
  }
  if (undoChain) {
    const original = await new PgOutboxStore(client).get(e.chainEntryId);
    if (!original || original.intent.to === null) throw new Error(`chain outbox entry ${e.chainEntryId} is missing`);
    const status = deviceStatusOf(undo.chainStatus!);
    const entryId = `${e.jobId}:setStatus:undo`;
    await planChain(client, { jobId: e.jobId, iccid: e.iccid, device: e.device, status, entryId, key: `${e.jobId}:chain:undo`,
      chainId: original.chainId, signer: original.signer, registry: original.intent.to, compensation: true });
    e.chainStatus = status;
    e.chainEntryId = entryId;
    e.chainState = 'pending';
    e.chainDetail = { compensation: true, entryId };
    post.push(() => watchChain(svc, entryId, e.jobId));
  } else {
    e.chainState = 'untouched';
  }
  return true;
}

/** The job's failure: the card's reason first (it is what the operator must act on), then the chain's. */
function failureOf(e: LifecycleEffects): NonNullable<LifecycleEffects['failure']> {
  const card = e.cardState === 'refused' ? e.cardDetail as { code: string; reason: string } : null;
  const chain = e.chainState === 'failed' ? e.chainDetail as { code: string; reason: string } : null;
  const reasons = [card?.reason, chain?.reason].filter((r): r is string => typeof r === 'string');
  return {
    code: card?.code ?? chain?.code ?? 'EFFECTS_FAILED',
    message: `${e.action} of SIM ${e.iccid} failed: ${reasons.join('; ')}`,
    card: { state: e.cardState, instruction: e.cardInstruction, ...e.cardDetail },
    chain: { state: e.chainState, status: e.chainStatus, ...e.chainDetail },
  };
}

async function succeed(client: PoolClient, e: LifecycleEffects): Promise<void> {
  e.phase = 'done';
  await saveEffects(client, e);
  const applied = await applyPendingAction(client, e.iccid, e.toState, e.jobId);
  if (!applied) throw new Error(`SIM ${e.iccid} no longer carries job ${e.jobId}`);
  await mirrorOutbox(client, e.jobId);
  await succeedJob(client, e.jobId, resultOf(e, await outboxIdsOf(client, e.jobId)));
}

async function fail(client: PoolClient, e: LifecycleEffects): Promise<void> {
  const compensated = e.phase === 'compensating';
  e.failure = compensated ? e.failure! : failureOf(e);
  e.phase = 'done';
  await saveEffects(client, e);
  await clearPendingAction(client, e.iccid, e.jobId);
  await mirrorOutbox(client, e.jobId);
  await recordJobProgress(client, e.jobId, resultOf(e, await outboxIdsOf(client, e.jobId)));
  await failJob(client, e.jobId, { code: e.failure.code, message: e.failure.message });
}

async function reschedule(svc: Services, client: PoolClient, e: LifecycleEffects, dueAt: number | null): Promise<Array<() => void>> {
  e.checks++;
  e.seq++;
  let delay = checkDelaySeconds(e.checks);
  if (dueAt !== null) delay = Math.min(delay, Math.max(0.2, (dueAt - Date.now()) / 1000));
  await schedule(svc, client, { jobId: e.jobId, seq: e.seq }, delay);
  await saveEffects(client, e);
  await mirrorOutbox(client, e.jobId);
  await recordJobProgress(client, e.jobId, resultOf(e, await outboxIdsOf(client, e.jobId)));
  return [];
}

/** What GET /v1/jobs/{id} shows while the job runs and once it ended. */
function resultOf(e: LifecycleEffects, outbox: string[]): Record<string, unknown> {
  const stateChanged = e.phase === 'done' && e.failure === null;
  return {
    iccid: e.iccid,
    device: e.device,
    from: e.fromState,
    to: e.toState,
    stateChanged,
    phase: e.phase,
    card: { state: e.cardState, instruction: e.cardInstruction, lifecycle: e.cardTarget, ...e.cardDetail, otaMessageId: e.otaMessageId, sends: e.otaSends },
    chain: { state: e.chainState, status: e.chainStatus, ...e.chainDetail, entryId: e.chainEntryId },
    ...(e.failure === null ? {} : { failure: e.failure }),
    outbox,
  };
}

async function planChain(
  client: PoolClient,
  p: { jobId: string; iccid: string; device: string; status: LifecycleEffects['chainStatus']; entryId: string; key: string;
    chainId: bigint; signer: string; registry: string; compensation: boolean },
): Promise<void> {
  await enqueueOutbox(client, {
    kind: 'chain.tx', idempotencyKey: p.key, subject: p.iccid, jobId: p.jobId,
    payload: { contract: 'DeviceRegistry', call: 'setStatus', iccid: p.iccid, device: p.device, status: p.status.toLowerCase(), entryId: p.entryId,
      ...(p.compensation ? { compensation: true } : {}) },
  });
  await planTransaction(new PgOutboxStore(client), {
    id: p.entryId, chainId: p.chainId, signer: p.signer, request: registryCalls.setStatus(p.registry, p.device, p.status),
  });
}

async function sendOta(
  client: PoolClient,
  ota: OtaGateway,
  p: { jobId: string; sim: Sim; action: RequestableAction; instruction: CardInstruction; purpose: OtaPurpose; key: string },
): Promise<{ id: string; dispatch(): void }> {
  const probe = p.purpose !== 'command';
  const row = await enqueueOutbox(client, {
    kind: 'ota.command', idempotencyKey: p.key, subject: p.sim.iccid, jobId: p.jobId,
    payload: { iccid: p.sim.iccid, tar: p.sim.tar, instruction: probe ? 'GET STATUS' : p.instruction, action: p.action, purpose: p.purpose },
  });
  const prepared = await ota.prepare(client, [{ iccid: p.sim.iccid, commands: [probe ? getStatusApdu() : INSTRUCTION_APDU[p.instruction]()], outboxId: row.id, jobId: p.jobId }]);
  return { id: prepared.ids[0]!, dispatch: prepared.dispatch };
}
