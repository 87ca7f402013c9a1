/**
 * OTA keyset rotation (DESIGN.md flow 3, issue 7): PUT KEY with fresh keys encrypted under
 * the current KIk; `sims.keysets` switches only when a PoR proves the card holds the new keys.
 *
 * A request records the rotation and its job (202). The job walks the rotation's states, one
 * transition per transaction, each guarded by the row's state, so it may stop anywhere (a
 * crash, a deploy) and any worker resumes it:
 *
 *   requested      fresh keys of the same algorithms and lengths, sealed like sims.keysets
 *                  (AES-256-GCM under the SIM's data key); PUT KEY secured with the current
 *                  keyset is written in the same transaction (OtaGateway.prepare).
 *   put-key-sent   PoR OK and SW 9000: switch (compare-and-set on the sealed blob). A PoR
 *                  error or another SW: the card did not take them; nothing switched.
 *                  No PoR (expired, failed): the card may or may not hold them, so probe.
 *   probing-new    GET STATUS secured with the NEW keys: a PoR whose CC verifies under them
 *                  (and echoes the counter) is proof the card took them: switch.
 *   probing-old    GET STATUS secured with the OLD keys: verified means the card kept them:
 *                  the rotation fails (not retried: the operator asks again, for fresh keys).
 *   probe-backoff  neither answered: another round after a pause; after the last round the
 *                  rotation fails PROBE_EXHAUSTED, the old keys stay in `sims` and the new
 *                  ones stay sealed on the rotation row, so whichever the card holds is known.
 *   recovery       the next rotation of a keyset left PROBE_EXHAUSTED takes over its sealed
 *                  keys and starts at probe-backoff (due now): the new keys verifying switch
 *                  the SIM to them; the old ones verifying restart it as a fresh rotation.
 *
 * The card keeps a keyset's counter across PUT KEY (applet/put-key.ts), so probes under either
 * key take the next counter of the same `ota_counters` row, and a PUT KEY delivered late can
 * never be taken after a probe has been.
 *
 * Keys are generated and opened in this process only; nothing here logs or returns them.
 */
import { randomBytes } from 'node:crypto';
import {
  createOtaKey,
  decodeCompactResponse,
  getStatusApdu,
  inventory,
  porStatusName,
  putKeyApdu,
  swHex,
  type CompactResponse,
  type OperatorKeyset,
  type OtaAlgorithm,
} from '../../sim-applet/index.js';
import { sqlState, UNIQUE_VIOLATION, withTransaction, type PoolClient } from '../db/pool.js';
import { loadDataKey } from '../db/repositories/data-keys.js';
import { failJob, insertJob, lockJob, recordJobProgress, startJob, succeedJob, type Job } from '../db/repositories/jobs.js';
import {
  completeRotation,
  failRotation,
  insertRecoveringRotation,
  insertRotation,
  latestRotationForKeyset,
  lockRotationByJob,
  markProbeBackoff,
  markProbingNew,
  markProbingOld,
  markPutKeySent,
  openRotationForSim,
  restartRotationFresh,
  rotationByJob,
  switchSimKeysets,
  type KeysetRotation,
  type SealedRotation,
} from '../db/repositories/keyset-rotations.js';
import { getOtaMessage, OPEN_OTA_STATES, simsForOta, type OtaMessage } from '../db/repositories/ota-messages.js';
import { lockSim } from '../db/repositories/sims.js';
import { ApiError } from '../domain/errors.js';
import { isFinalJobState } from '../domain/jobs.js';
import { QUEUES } from '../jobs/queue.js';
import { canAccessTenant, type Principal } from '../domain/roles.js';
import type { SimState } from '../domain/sim-lifecycle.js';
import { KeysetSealer, openKeysets } from '../secrets/keyset-cipher.js';
import type { Services } from './context.js';
import { openProvisioningOfSim } from '../db/repositories/provisioning.js';

type InventoryKeyset = inventory.InventoryKeyset;

export const ROTATE_KEYSET_JOB = 'sim.rotate-keyset' as const;

/**
 * Cards whose keys may be rotated: in stock, active or suspended (LOCK blocks signing, not
 * administration). Not while provisioning (its OTA command is in flight under the current
 * keys), once failed (its provisioning may be retried at any moment) or terminated.
 */
export const ROTATABLE_STATES: readonly SimState[] = ['inventory', 'active', 'suspended'];

export interface RotationSettings {
  /** Rounds of probes (new keys, then old) after a lost PoR before giving up. */
  probeRounds: number;
  /** Pause before round 2, 3, ... (the last value repeats). */
  backoffSeconds: readonly number[];
  /** How long one run of the job waits for a PoR before it hands over to a later run. */
  waitSliceMs: number;
  /** Database poll while waiting (the gateway's 'settled' event wakes it sooner). */
  pollMs: number;
}

/** Defaults for production; tests shorten them with configureKeysetRotation. */
export const rotationSettings: RotationSettings = { probeRounds: 3, backoffSeconds: [60, 300], waitSliceMs: 5_000, pollMs: 1_000 };

export function configureKeysetRotation(settings: Partial<RotationSettings>): void {
  Object.assign(rotationSettings, settings);
}

// ---------------------------------------------------------------------------------------
// The request

/**
 * Record a rotation and its job (202). No SMSC is needed here: the API and the workers may be
 * different processes; the job waits for a worker with an OTA gateway.
 */
export async function requestKeysetRotation(svc: Services, principal: Principal, iccid: string, body: { keysetIndex?: number }): Promise<Job> {
  const job = await withTransaction(svc.pool, async (client) => {
    const sim = await lockSim(client, iccid);
    if (!sim || !canAccessTenant(principal, sim.tenantId)) throw new ApiError('SIM_NOT_FOUND', `no SIM ${iccid}`);
    if (!ROTATABLE_STATES.includes(sim.state)) {
      throw new ApiError('ILLEGAL_TRANSITION', `cannot rotate the OTA keys of a SIM that is ${sim.state}`, { state: sim.state, rotatableStates: ROTATABLE_STATES });
    }
    if (sim.pendingAction !== null) {
      throw new ApiError('ACTION_PENDING', `SIM ${iccid} is carrying out ${sim.pendingAction}`, { state: sim.state, pendingAction: sim.pendingAction, jobId: sim.pendingJobId });
    }
    const open = await openRotationForSim(client, iccid);
    if (open) throw rotationOpen(iccid, open);
    // Its STORE DATA still in flight under the current keys: a PUT KEY now would race it.
    const provisioning = await openProvisioningOfSim(client, iccid);
    if (provisioning) throw new ApiError('PROVISIONING_OPEN', `SIM ${iccid} is still being provisioned (${provisioning.state})`, provisioning);
    const { indexes, sealed } = await withSimKeysets(svc, client, iccid, (keysets, _key, sealed) => ({ indexes: keysets.map((k) => k.index).sort((a, b) => a - b), sealed }));
    const keysetIndex = body.keysetIndex ?? indexes[0]!;
    if (!indexes.includes(keysetIndex)) {
      throw new ApiError('KEYSET_NOT_FOUND', `SIM ${iccid} has no OTA keyset ${keysetIndex}`, { keysetIndex, keysetIndexes: indexes });
    }
    const job = await insertJob(client, { tenantId: principal.tenantId, createdBy: principal.keyId, kind: ROTATE_KEYSET_JOB, input: { iccid, keysetIndex } });
    try {
      await client.query('SAVEPOINT rotation');
      // The keyset's last rotation ended not knowing which keys the card holds: find out first.
      const last = await latestRotationForKeyset(client, iccid, keysetIndex);
      if (last && last.failureCode === 'PROBE_EXHAUSTED' && last.pendingKeysets && last.dataKeyId) {
        await insertRecoveringRotation(client, {
          jobId: job.id, iccid, keysetIndex, recovers: last.id,
          dataKeyId: last.dataKeyId, previousKeysets: sealed.keysets, pendingKeysets: last.pendingKeysets,
        });
      } else {
        await insertRotation(client, { jobId: job.id, iccid, keysetIndex });
      }
    } catch (e) {
      // keyset_rotations_open: a concurrent request for the same SIM got there first.
      if (sqlState(e) !== UNIQUE_VIOLATION) throw e;
      await client.query('ROLLBACK TO SAVEPOINT rotation');
      throw rotationOpen(iccid, await openRotationForSim(client, iccid));
    }
    await svc.queue.enqueue(client, job.kind, job.id);
    return job;
  });
  svc.queue.nudge(job.kind);
  return job;
}

function rotationOpen(iccid: string, open: KeysetRotation | null): ApiError {
  return new ApiError('ROTATION_OPEN', `SIM ${iccid} has a keyset rotation under way`, open ? { jobId: open.jobId, rotationState: open.state } : {});
}

/** Open the SIM's keysets for `fn`; the data key is wiped afterwards. */
async function withSimKeysets<T>(svc: Services, client: PoolClient, iccid: string, fn: (keysets: InventoryKeyset[], dataKey: Buffer, sealed: { dataKeyId: string; keysets: Buffer }) => T): Promise<T> {
  const sealed = (await simsForOta(client, [iccid]))[0];
  if (!sealed) throw new ApiError('SIM_NOT_FOUND', `no SIM ${iccid}`);
  const dataKey = await loadDataKey(client, svc.keyring, sealed.dataKeyId);
  try {
    return fn(openKeysets(dataKey, iccid, sealed.keysets), dataKey, sealed);
  } finally {
    dataKey.fill(0);
  }
}

// ---------------------------------------------------------------------------------------
// The job

type Step =
  | { kind: 'done' }
  | { kind: 'again' }
  | { kind: 'wait'; messageId: string }
  | { kind: 'sleep'; until: Date }
  | { kind: 'no-gateway' };

/**
 * Run a rotation job as far as it goes now. Idempotent; a run waits for a PoR at most
 * `waitSliceMs` and then schedules the next run, so a rotation never holds a worker for the
 * hour a PoR may take, and a crashed run is picked up by pg-boss's retry.
 */
export async function runKeysetRotationJob(svc: Services, jobId: string): Promise<void> {
  const sliceEnd = Date.now() + rotationSettings.waitSliceMs;
  for (;;) {
    let after: (() => void) | undefined;
    const step = await withTransaction(svc.pool, async (client) => {
      const r = await advance(svc, client, jobId);
      after = r.after;
      if (r.step.kind !== 'done') {
        const now = await rotationByJob(client, jobId);
        if (now) await recordJobProgress(client, jobId, summary(now));
      }
      return r.step;
    });
    after?.();
    switch (step.kind) {
      case 'done':
        return;
      case 'again':
        continue;
      case 'wait':
        if (await waitUntilClosed(svc, step.messageId, sliceEnd)) continue;
        await runLater(svc, jobId, 1);
        return;
      case 'sleep': {
        const ms = step.until.getTime() - Date.now();
        if (Date.now() + ms <= sliceEnd) {
          await sleep(ms);
          continue;
        }
        await runLater(svc, jobId, Math.ceil(ms / 1000));
        return;
      }
      case 'no-gateway':
        // This worker has no SMSC; one that has may take it (or this one once it binds).
        svc.log.warn({ jobId }, 'keyset rotation waits for an OTA gateway');
        await runLater(svc, jobId, 10);
        return;
    }
  }
}

/** Schedule the job's next run (a new pg-boss job carrying the same API job id). */
function runLater(svc: Services, jobId: string, seconds: number): Promise<void> {
  return svc.queue.sendTo(null, QUEUES.keysetRotation, { jobId }, { startAfter: Math.max(1, seconds), singletonKey: jobId });
}

/** One transition of the rotation, in the caller's transaction; `after` runs once it commits. */
async function advance(svc: Services, client: PoolClient, jobId: string): Promise<{ step: Step; after?: () => void }> {
  const job = await lockJob(client, jobId);
  if (!job || isFinalJobState(job.state)) return { step: { kind: 'done' } };
  const r = await lockRotationByJob(client, jobId);
  if (!r) {
    await failJob(client, jobId, { code: 'ROTATION_NOT_FOUND', message: `job ${jobId} has no keyset rotation` });
    return { step: { kind: 'done' } };
  }
  if (job.state === 'queued') await startJob(client, jobId);
  switch (r.state) {
    case 'completed':
      await succeedJob(client, jobId, summary(r));
      return { step: { kind: 'done' } };
    case 'failed':
      await recordJobProgress(client, jobId, summary(r));
      await failJob(client, jobId, { code: r.failureCode ?? 'ROTATION_FAILED', message: r.failureReason ?? 'the keyset rotation failed' });
      return { step: { kind: 'done' } };
    case 'requested':
      return sendPutKey(svc, client, r);
    case 'put-key-sent': {
      const m = await messageOf(client, r.putKeyMessageId);
      if (OPEN_OTA_STATES.includes(m.state)) return { step: { kind: 'wait', messageId: m.id } };
      if (m.state === 'por-received') {
        const response = compactOf(m);
        if (response?.sw === 0x9000) return switchKeys(client, r, 'por', m);
        await failRotation(client, r.id, {
          code: 'CARD_REFUSED', porStatus: m.porStatus, sw: response?.sw ?? null,
          reason: response ? `the card answered PUT KEY with SW ${swHex(response.sw)}; keyset ${r.keysetIndex} is unchanged` : 'the PoR of PUT KEY carries no response',
        });
        return { step: { kind: 'again' } };
      }
      if (m.state === 'por-error') {
        const status = m.porStatus ?? -1;
        await failRotation(client, r.id, {
          code: 'POR_ERROR', porStatus: m.porStatus,
          reason: `the card refused the PUT KEY packet: PoR status ${porStatusName(status)} (0x${status.toString(16).padStart(2, '0')})${m.porCcValid ? '' : ', unsecured'}; keyset ${r.keysetIndex} is unchanged`,
        });
        return { step: { kind: 'again' } };
      }
      // Expired or failed: the card may have run it and its PoR was lost. Ask it.
      return sendProbe(svc, client, r, 'new');
    }
    case 'probing-new': {
      const m = await messageOf(client, r.probeNewMessageId);
      if (OPEN_OTA_STATES.includes(m.state)) return { step: { kind: 'wait', messageId: m.id } };
      // A CC that verifies under the new keys with the counter echoed: only a card holding them makes it.
      if (m.porCcValid === true) return switchKeys(client, r, 'probe', m);
      return sendProbe(svc, client, r, 'old');
    }
    case 'probing-old': {
      const m = await messageOf(client, r.probeOldMessageId);
      if (OPEN_OTA_STATES.includes(m.state)) return { step: { kind: 'wait', messageId: m.id } };
      if (m.porCcValid === true && r.recovers !== null) {
        // Recovering an earlier rotation: the card never took its keys. Now rotate afresh.
        await restartRotationFresh(client, r.id);
        return { step: { kind: 'again' } };
      }
      if (m.porCcValid === true) {
        await failRotation(client, r.id, {
          code: 'PUT_KEY_NOT_TAKEN', porStatus: m.porStatus, sw: compactOf(m)?.sw ?? null,
          reason: `PUT KEY got no PoR and the card still answers under the old keys: keyset ${r.keysetIndex} is unchanged`,
        });
        return { step: { kind: 'again' } };
      }
      if (r.probeRounds >= rotationSettings.probeRounds) {
        await failRotation(client, r.id, {
          code: 'PROBE_EXHAUSTED', keepPendingKeys: true,
          reason: `PUT KEY got no PoR and ${r.probeRounds} rounds of probes under the new and the old keys got no verified answer; ` +
            'the database keeps the old keyset, the new one stays sealed on the rotation',
        });
        return { step: { kind: 'again' } };
      }
      const b = rotationSettings.backoffSeconds;
      const until = new Date(Date.now() + (b[Math.min(r.probeRounds - 1, b.length - 1)] ?? 60) * 1000);
      await markProbeBackoff(client, r.id, until);
      return { step: { kind: 'sleep', until } };
    }
    case 'probe-backoff':
      if (r.notBefore && r.notBefore.getTime() > Date.now()) return { step: { kind: 'sleep', until: r.notBefore } };
      return sendProbe(svc, client, r, 'new');
  }
}

async function sendPutKey(svc: Services, client: PoolClient, r: SealedRotation): Promise<{ step: Step; after?: () => void }> {
  const ota = svc.ota;
  if (!ota) return { step: { kind: 'no-gateway' } };
  const sim = await lockSim(client, r.iccid);
  if (!sim || !ROTATABLE_STATES.includes(sim.state) || sim.pendingAction !== null) {
    await failRotation(client, r.id, { code: 'SIM_CHANGED', reason: `SIM ${r.iccid} is ${sim ? (sim.pendingAction ?? sim.state) : 'gone'}: its keys are not rotated` });
    return { step: { kind: 'again' } };
  }
  const built = await withSimKeysets(svc, client, r.iccid, (keysets, dataKey, sealed) => {
    const current = keysets.find((k) => k.index === r.keysetIndex);
    if (!current) return null;
    const fresh = freshKeyset(current);
    const pending = new KeysetSealer(dataKey).seal(r.iccid, keysets.map((k) => (k.index === r.keysetIndex ? fresh : k)));
    // GlobalPlatform PUT KEY: the new keys travel encrypted under the KIk of the keyset securing the packet.
    const kik = createOtaKey(current.kikAlg as OtaAlgorithm, Buffer.from(current.kik, 'hex'));
    const apdu = putKeyApdu(r.keysetIndex, {
      kic: { algorithm: fresh.kicAlg as OtaAlgorithm, key: Buffer.from(fresh.kic, 'hex') },
      kid: { algorithm: fresh.kidAlg as OtaAlgorithm, key: Buffer.from(fresh.kid, 'hex') },
      kik: { algorithm: fresh.kikAlg as OtaAlgorithm, key: Buffer.from(fresh.kik, 'hex') },
    }, kik);
    return { pending, apdu, sealed };
  });
  if (!built) {
    await failRotation(client, r.id, { code: 'KEYSET_NOT_FOUND', reason: `SIM ${r.iccid} has no OTA keyset ${r.keysetIndex}` });
    return { step: { kind: 'again' } };
  }
  const prepared = await ota.prepare(client, [{ iccid: r.iccid, keysetIndex: r.keysetIndex, commands: [built.apdu], jobId: r.jobId }]);
  await markPutKeySent(client, r.id, { dataKeyId: built.sealed.dataKeyId, previousKeysets: built.sealed.keysets, pendingKeysets: built.pending, messageId: prepared.ids[0]! });
  return { step: { kind: 'wait', messageId: prepared.ids[0]! }, after: () => prepared.dispatch() };
}

/** GET STATUS secured with the new keys (override: the database does not hold them yet) or the old (the SIM's stored keyset). */
async function sendProbe(svc: Services, client: PoolClient, r: SealedRotation, keys: 'new' | 'old'): Promise<{ step: Step; after?: () => void }> {
  const ota = svc.ota;
  if (!ota) return { step: { kind: 'no-gateway' } };
  let keyset: OperatorKeyset | undefined;
  if (keys === 'new') {
    if (!r.pendingKeysets || !r.dataKeyId) throw new Error(`rotation ${r.id} has no pending keysets to probe with`);
    const dataKey = await loadDataKey(client, svc.keyring, r.dataKeyId);
    try {
      const k = openKeysets(dataKey, r.iccid, r.pendingKeysets).find((x) => x.index === r.keysetIndex)!;
      keyset = { index: k.index, kic: createOtaKey(k.kicAlg as OtaAlgorithm, Buffer.from(k.kic, 'hex')), kid: createOtaKey(k.kidAlg as OtaAlgorithm, Buffer.from(k.kid, 'hex')) };
    } finally {
      dataKey.fill(0);
    }
  }
  const prepared = await ota.prepare(client, [{ iccid: r.iccid, keysetIndex: r.keysetIndex, commands: [getStatusApdu()], jobId: r.jobId, ...(keyset ? { keyset } : {}) }]);
  const id = prepared.ids[0]!;
  if (keys === 'new') await markProbingNew(client, r.id, id);
  else await markProbingOld(client, r.id, id);
  return { step: { kind: 'wait', messageId: id }, after: () => prepared.dispatch() };
}

async function switchKeys(client: PoolClient, r: SealedRotation, provenBy: 'por' | 'probe', m: OtaMessage): Promise<{ step: Step }> {
  const sw = compactOf(m)?.sw ?? null;
  if (!r.pendingKeysets || !r.previousKeysets || !(await switchSimKeysets(client, r.iccid, r.pendingKeysets, r.previousKeysets))) {
    await failRotation(client, r.id, {
      code: 'KEYSETS_CHANGED', porStatus: m.porStatus, sw, keepPendingKeys: true,
      reason: `the card took the new keys but SIM ${r.iccid}'s stored keysets changed meanwhile; the new keyset stays sealed on the rotation`,
    });
    return { step: { kind: 'again' } };
  }
  await completeRotation(client, r.id, { provenBy, porStatus: m.porStatus, sw });
  return { step: { kind: 'again' } };
}

async function messageOf(client: PoolClient, id: string | null): Promise<OtaMessage> {
  const m = id === null ? null : await getOtaMessage(client, id);
  if (!m) throw new Error(`OTA message ${id} of a keyset rotation does not exist`);
  return m;
}

function compactOf(m: OtaMessage): CompactResponse | null {
  if (!m.porData || m.porData.length < 3) return null;
  return decodeCompactResponse(m.porData);
}

/** New random keys of the algorithms and lengths of `current`. */
function freshKeyset(current: InventoryKeyset): InventoryKeyset {
  const like = (hex: string): string => randomBytes(hex.length >> 1).toString('hex');
  return { ...current, kic: like(current.kic), kid: like(current.kid), kik: like(current.kik) };
}

/** What the job shows: where the rotation stands and which OTA messages carried it (never keys). */
export function summary(r: KeysetRotation): Record<string, unknown> {
  return {
    rotationId: r.id, iccid: r.iccid, keysetIndex: r.keysetIndex, state: r.state, provenBy: r.provenBy, recovers: r.recovers,
    otaMessageIds: r.otaMessageIds, probeRounds: r.probeRounds,
    porStatus: r.porStatus, sw: r.sw === null ? null : swHex(r.sw).toLowerCase(),
    failureCode: r.failureCode, failureReason: r.failureReason,
  };
}

// Waiting for a PoR: the database is the truth (any process may have received it); the
// gateway's watch only wakes the wait early.

/** Whether OTA message `id` is closed (PoR, expired, failed) before `deadline` (epoch ms). */
async function waitUntilClosed(svc: Services, id: string, deadline: number): Promise<boolean> {
  let wake: () => void = () => undefined;
  const off = svc.ota ? svc.ota.watch(id, () => wake()) : () => undefined;
  try {
    for (;;) {
      const m = await getOtaMessage(svc.pool, id);
      if (!m || !OPEN_OTA_STATES.includes(m.state)) return true;
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, rotationSettings.pollMs));
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  } finally {
    off();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, ms)));
}
