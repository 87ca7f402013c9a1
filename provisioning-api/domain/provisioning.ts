/**
 * Provisioning, the pure part: the states of a batch and of each of its SIMs, what an OTA
 * command's outcome means for the SIM (TS 102 225 §5.2 PoR status codes, delivery failures,
 * missing PoRs), when to retry, and a batch's progress figures. The database and the workers
 * consult it; it reads no clock and does no I/O.
 */
import { porStatusName } from '../../sim-applet/index.js';

export const BATCH_STATES = ['keygen', 'anchoring', 'identity', 'completed', 'failed'] as const;
export type BatchState = (typeof BATCH_STATES)[number];

export const ITEM_STATES = ['queued', 'keygen-sent', 'keyed', 'anchored', 'identity-sent', 'done', 'failed', 'push-failed'] as const;
export type ItemState = (typeof ITEM_STATES)[number];

/** Items still on their way to a key (the batch anchors when none is left, or at its deadline). */
export const KEYGEN_OPEN: readonly ItemState[] = ['queued', 'keygen-sent'];
/** Items whose card has not yet confirmed its identity (in a batch whose anchoring is confirmed: a keyed item waits for its first STORE DATA). */
export const IDENTITY_OPEN: readonly ItemState[] = ['keyed', 'anchored', 'identity-sent'];

/** How a settled OTA command ended, as the ota_messages row records it. */
export interface OtaOutcome {
  messageState: 'por-received' | 'por-error' | 'expired' | 'failed';
  porStatus: number | null;
  /** Status word of the last command the card ran (from the PoR's compact response). */
  sw: number | null;
  lastError: string | null;
}

export type StepDecision =
  | { kind: 'ok' }
  /** Send the command again after `delaySeconds`; `resync` first moves the OTA counter ahead. */
  | { kind: 'retry'; delaySeconds: number; resync: boolean; reason: string }
  | { kind: 'fail'; code: FailureCode; reason: string };

export const FAILURE_CODES = [
  'NO_POR', 'OTA_UNDELIVERABLE', 'POR_SECURITY_ERROR', 'POR_ERROR', 'COUNTER_DESYNC', 'CARD_REFUSED',
  'ATTESTATION_FAILED', 'DEADLINE', 'MALFORMED_RESPONSE',
] as const;
export type FailureCode = (typeof FAILURE_CODES)[number];

/** Attempts of one step (the first send included) before a missing PoR is a failure. */
export const MAX_ATTEMPTS = 4;

/** Backoff before attempt `attempt + 1`: 5 s, 20 s, 80 s... capped at 10 minutes. */
export function retryDelaySeconds(attempt: number, baseSeconds = 5): number {
  return Math.min(600, baseSeconds * 4 ** Math.max(0, attempt - 1));
}

/** The TS 102 225 name of a PoR status code (the protocol layer's table). */
export function porStatusText(status: number): string {
  const name = porStatusName(status);
  return name === 'reserved' ? `reserved status 0x${status.toString(16).padStart(2, '0')}` : name;
}

/**
 * What an OTA command's end means for the step that sent it (`attempts` sends so far).
 *  - PoR OK with SW 9000: done. PoR OK with another SW: the card refused the command (its
 *    state forbids it); no retry changes that.
 *  - counter low (02): our counter is behind the card's: resynchronise (move ahead) and retry.
 *  - more time (08): retry later.
 *  - any security status (01 RC/CC/DS, 05 ciphering, 06 security, 0A security level, 09 TAR
 *    unknown, 03/04 counter high/blocked): stop and report; retrying the same keys cannot help.
 *  - no PoR by the deadline (expired) or not deliverable (failed): retry with backoff, then fail.
 */
export function decideStep(o: OtaOutcome, attempts: number, policy: { retryBaseSeconds?: number; maxAttempts?: number } = {}): StepDecision {
  const maxAttempts = policy.maxAttempts ?? MAX_ATTEMPTS;
  const retryOr = (reason: string, failure: { code: FailureCode; reason: string }, resync = false): StepDecision =>
    attempts < maxAttempts
      ? { kind: 'retry', delaySeconds: resync ? 0 : retryDelaySeconds(attempts, policy.retryBaseSeconds), resync, reason }
      : { kind: 'fail', ...failure };
  if (o.messageState === 'por-received') {
    if (o.sw === 0x9000) return { kind: 'ok' };
    if (o.sw === null) return { kind: 'fail', code: 'MALFORMED_RESPONSE', reason: 'PoR OK without a response from the applet' };
    return { kind: 'fail', code: 'CARD_REFUSED', reason: `the applet answered SW ${o.sw.toString(16).padStart(4, '0').toUpperCase()}` };
  }
  if (o.messageState === 'por-error') {
    const status = o.porStatus ?? -1;
    const name = `PoR status ${status.toString(16).padStart(2, '0')} (${porStatusText(status)})`;
    if (status === 0x02) return retryOr(name, { code: 'COUNTER_DESYNC', reason: `${name} after ${attempts} attempts` }, true);
    if (status === 0x08) return retryOr(name, { code: 'POR_ERROR', reason: `${name} after ${attempts} attempts` });
    const security = [0x01, 0x03, 0x04, 0x05, 0x06, 0x09, 0x0a].includes(status);
    return { kind: 'fail', code: security ? 'POR_SECURITY_ERROR' : 'POR_ERROR', reason: name };
  }
  if (o.messageState === 'expired') {
    return retryOr('no PoR before the command expired', { code: 'NO_POR', reason: `no PoR after ${attempts} attempts` });
  }
  const why = o.lastError ?? 'the SMSC could not deliver it';
  return retryOr(why, { code: 'OTA_UNDELIVERABLE', reason: `${why} (${attempts} attempts)` });
}

/** A batch's progress, from its counts per item state. */
export interface BatchProgress {
  total: number;
  counts: Record<ItemState, number>;
  /** SIMs whose provisioning is over (done, failed or push-failed). */
  finished: number;
  /** SIMs per second since the batch was created. */
  throughput: number;
  /** When the rest should be finished at that rate; null when finished or nothing finished yet. */
  estimatedCompletion: Date | null;
}

export function batchProgress(counts: Partial<Record<ItemState, number>>, createdAt: Date, now: Date, finishedAt: Date | null): BatchProgress {
  const full = Object.fromEntries(ITEM_STATES.map((s) => [s, counts[s] ?? 0])) as Record<ItemState, number>;
  const total = ITEM_STATES.reduce((n, s) => n + full[s], 0);
  const finished = full.done + full.failed + full['push-failed'];
  const seconds = Math.max(0.001, ((finishedAt ?? now).getTime() - createdAt.getTime()) / 1000);
  const throughput = finished / seconds;
  const left = total - finished;
  const estimatedCompletion = left === 0 || throughput === 0 ? null : new Date(now.getTime() + (left / throughput) * 1000);
  return { total, counts: full, finished, throughput, estimatedCompletion };
}

/** The bytes32 batchRef (DeviceRegistry's batch id) of a backend batch id (a UUID): left-padded. */
export function batchRefOf(batchId: string): string {
  const hex = batchId.replace(/-/g, '').toLowerCase();
  if (!/^[0-9a-f]{32}$/.test(hex)) throw new Error(`not a UUID: ${batchId}`);
  return `0x${hex.padStart(64, '0')}`;
}
