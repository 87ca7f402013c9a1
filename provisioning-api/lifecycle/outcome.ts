/**
 * What an OTA message or a chain outbox entry says about a lifecycle action's side, pure: the
 * executor reads the rows, these decide, the executor acts.
 *
 * The card. A LOCK/UNLOCK/TERMINATE is confirmed by its PoR: status 00 (TS 102 225 §5.2.2) with
 * the compact response's last SW 9000 (TS 102 226). The applet answers 6985 when its lifecycle
 * does not allow the instruction, which is also what a card that already took it answers to a
 * resend (a lost PoR): a GET STATUS probe then tells which. A command whose PoR never came
 * (expired, or the SMSC refused it) may or may not have run: probe before sending it again.
 * Any other answer, or a PoR error status (security error, counter, unknown TAR...), is the card
 * refusing, reported as what it is.
 *
 * The chain. DeviceRegistry.setStatus reverts StatusUnchanged when the device already has the
 * status, and DeviceIsRevoked once it is revoked: both mean the registry is where we want it
 * (a retried action, a compensation of what never changed), so they count as confirmed.
 */
import {
  decodeCompactResponse,
  parseStatus,
  porStatusName,
  statusWordName,
  swHex,
  type Lifecycle,
} from '../../sim-applet/index.js';
import { DEVICE_STATUSES, type DeviceStatus } from '../../contracts/index.js';
import { describeRevert, type OutboxEntry } from '../chain/index.js';
import type { OtaMessageState } from '../db/repositories/ota-messages.js';

export const OTA_PURPOSES = ['command', 'probe-lost', 'probe-refused'] as const;
/** Why an OTA message of a lifecycle action was sent: the instruction, or a GET STATUS after a lost PoR or a 6985. */
export type OtaPurpose = (typeof OTA_PURPOSES)[number];

export interface ObservedOtaMessage {
  state: OtaMessageState;
  porStatus: number | null;
  porData: Uint8Array | null;
  lastError: string | null;
}

export type CardVerdict =
  | { kind: 'wait' }
  | { kind: 'confirmed'; how: string }
  /** Send GET STATUS to learn the card's lifecycle. */
  | { kind: 'probe'; purpose: 'probe-lost' | 'probe-refused'; why: string }
  /** Send the instruction (again). */
  | { kind: 'send-command'; why: string }
  /** The same probe again: it got no answer. */
  | { kind: 'resend-probe'; why: string }
  | { kind: 'refused'; reason: string };

const SW_OK = 0x9000;
const SW_CONDITIONS_NOT_SATISFIED = 0x6985;

function swText(sw: number): string {
  return `${swHex(sw)} (${statusWordName(sw)})`;
}

/** What the card's answer to `purpose` means for reaching `target`. */
export function judgeCard(m: ObservedOtaMessage, purpose: OtaPurpose, instruction: string, target: Lifecycle): CardVerdict {
  switch (m.state) {
    case 'queued':
    case 'submitted':
    case 'delivered':
      return { kind: 'wait' };
    case 'expired':
    case 'failed': {
      const why = `no PoR (${m.state}${m.lastError ? `: ${m.lastError}` : ''})`;
      // The instruction may have run: ask the card before sending it again.
      return purpose === 'command' ? { kind: 'probe', purpose: 'probe-lost', why } : { kind: 'resend-probe', why };
    }
    case 'por-error': {
      const status = m.porStatus ?? -1;
      return { kind: 'refused', reason: `the card refused the OTA packet: PoR status 0x${status.toString(16).padStart(2, '0')} (${porStatusName(status)})` };
    }
    case 'por-received':
      break;
  }
  if (m.porData === null || m.porData.length < 3) {
    // A PoR with no response data says nothing about the applet's answer.
    return purpose === 'command' ? { kind: 'probe', purpose: 'probe-lost', why: 'a PoR without the response' } : { kind: 'resend-probe', why: 'a PoR without the response' };
  }
  const response = decodeCompactResponse(m.porData);
  if (purpose === 'command') {
    if (response.sw === SW_OK) return { kind: 'confirmed', how: `${instruction} answered ${swText(SW_OK)}` };
    if (response.sw === SW_CONDITIONS_NOT_SATISFIED) return { kind: 'probe', purpose: 'probe-refused', why: `${instruction} answered ${swText(response.sw)}` };
    return { kind: 'refused', reason: `the card answered ${instruction} with ${swText(response.sw)}` };
  }
  if (response.sw !== SW_OK) return { kind: 'refused', reason: `the card answered GET STATUS with ${swText(response.sw)}` };
  let lifecycle: Lifecycle;
  try {
    lifecycle = parseStatus(response.data).lifecycle;
  } catch (e) {
    return { kind: 'refused', reason: `the card's GET STATUS answer is not a status template: ${e instanceof Error ? e.message : String(e)}` };
  }
  if (lifecycle === target) return { kind: 'confirmed', how: `GET STATUS: the card is ${lifecycle}` };
  if (purpose === 'probe-lost') return { kind: 'send-command', why: `GET STATUS: the card is ${lifecycle}, not ${target}` };
  return { kind: 'refused', reason: `the card is ${lifecycle}: ${instruction} is not allowed there (${swText(SW_CONDITIONS_NOT_SATISFIED)})` };
}

export type ChainVerdict =
  | { kind: 'wait'; state: string }
  | { kind: 'confirmed'; how: string; txHash: string | null; blockNumber: number | null }
  | { kind: 'failed'; reason: string; txHash: string | null };

/** What the setStatus entry's state means for the device reaching `target`. */
export function judgeChain(entry: OutboxEntry | undefined, target: DeviceStatus): ChainVerdict {
  if (entry === undefined) return { kind: 'failed', reason: 'the setStatus transaction is missing from the chain outbox', txHash: null };
  const txHash = entry.receipt?.hash ?? entry.attempts.at(-1)?.hash ?? null;
  switch (entry.state) {
    case 'planned':
    case 'sent':
    case 'mined':
      return { kind: 'wait', state: entry.state };
    case 'confirmed':
      return { kind: 'confirmed', how: `setStatus(${target}) confirmed`, txHash, blockNumber: entry.receipt?.blockNumber ?? null };
    case 'failed':
    case 'replaced':
      break;
  }
  const revert = entry.failure?.revert ?? null;
  if (revert?.kind === 'custom') {
    if (revert.name === 'StatusUnchanged' && Number(revert.args.status) === DEVICE_STATUSES.indexOf(target)) {
      return { kind: 'confirmed', how: `the device already was ${target} (StatusUnchanged)`, txHash: null, blockNumber: null };
    }
    if (revert.name === 'DeviceIsRevoked' && target === 'Revoked') {
      return { kind: 'confirmed', how: 'the device already was Revoked (DeviceIsRevoked)', txHash: null, blockNumber: null };
    }
  }
  const why = revert === null ? (entry.failure?.message ?? entry.state) : describeRevert(revert);
  return { kind: 'failed', reason: `setStatus(${target}) ${entry.state === 'replaced' ? 'was replaced' : 'failed'}: ${why}`, txHash };
}

/** Seconds until the next check of a waiting action: quick at first (a PoR takes seconds), then every 15 s. */
export function checkDelaySeconds(checks: number): number {
  return Math.min(15, Math.max(1, Math.floor(1.5 ** checks)));
}

/** Seconds to wait before sending again after `sends` OTA messages that got no answer. */
export function resendDelaySeconds(sends: number): number {
  return Math.min(60, 2 ** Math.max(0, sends - 1));
}

/** The registry's status name for the domain's lower-case one. */
export function deviceStatusOf(status: 'active' | 'suspended' | 'revoked'): DeviceStatus {
  return (status.charAt(0).toUpperCase() + status.slice(1)) as DeviceStatus;
}
