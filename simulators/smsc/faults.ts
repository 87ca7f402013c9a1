/**
 * Fault injection on the operator's submit_sm, for tests: what a real SMSC and network do on
 * a bad day. Rates are probabilities per submit_sm; `disconnectAfter` is a one-shot: the
 * Nth submit_sm from now is taken (routed to the handset) but never answered, and the
 * session is cut, so the ESME cannot know whether it went through.
 */
import { STATUS } from './raw-mode.js';

export interface SmscFaults {
  /** Taken by nobody: no response, not delivered. */
  dropRate?: number;
  /** Answered after `delayMs` (still taken). */
  delayRate?: number;
  delayMs?: number;
  /** Refused with `refuseStatus` (default ESME_RSYSERR). */
  refuseRate?: number;
  refuseStatus?: number;
  disconnectAfter?: number;
}

export type FaultDecision = { kind: 'none' } | { kind: 'drop' } | { kind: 'delay'; ms: number } | { kind: 'refuse'; status: number } | { kind: 'disconnect' };

export class FaultInjector {
  private faults: SmscFaults = {};
  private countdown: number | null = null;

  constructor(private readonly random: () => number = Math.random) {}

  set(faults: SmscFaults): void {
    this.faults = { ...faults };
    this.countdown = faults.disconnectAfter ?? null;
  }

  decide(): FaultDecision {
    const f = this.faults;
    if (this.countdown !== null && --this.countdown <= 0) {
      this.countdown = null;
      return { kind: 'disconnect' };
    }
    if (f.dropRate && this.random() < f.dropRate) return { kind: 'drop' };
    if (f.refuseRate && this.random() < f.refuseRate) return { kind: 'refuse', status: f.refuseStatus ?? STATUS.ESME_RSYSERR };
    if (f.delayRate && this.random() < f.delayRate) return { kind: 'delay', ms: f.delayMs ?? 1000 };
    return { kind: 'none' };
  }
}
