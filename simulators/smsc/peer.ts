/**
 * One bound ESME session as the SMSC sees it: deliver_sm towards it with a window of
 * outstanding requests and a timeout per PDU (SMPP 3.4 §2.8, §7.2). When the session
 * closes every outstanding delivery fails, and the caller keeps the message for later.
 */
import type smppTypes from 'smpp';
import { smppRawMode } from './raw-mode.js';

const smpp = smppRawMode();

export type PeerRole = 'operator' | 'network';

export class DeliveryFailed extends Error {
  constructor(readonly reason: 'closed' | 'timeout') {
    super(`deliver_sm ${reason}`);
  }
}

export class Peer {
  private outstanding = new Map<number, { reject(e: Error): void; timer: NodeJS.Timeout }>();
  closed = false;

  constructor(
    readonly session: smppTypes.Session,
    readonly systemId: string,
    readonly role: PeerRole,
    /** Receives deliver_sm (receiver and transceiver binds, §4.1). */
    readonly receives: boolean,
    private readonly window: number,
    private readonly timeoutMs: number,
  ) {}

  get free(): number {
    return this.closed || !this.receives ? 0 : this.window - this.outstanding.size;
  }

  /** deliver_sm; resolves with the response's command_status, rejects DeliveryFailed. */
  deliver(fields: smppTypes.PduFields): Promise<number> {
    return new Promise((resolve, reject) => {
      if (this.closed) {
        reject(new DeliveryFailed('closed'));
        return;
      }
      const pdu = new smpp.PDU('deliver_sm', fields);
      const ok = this.session.send(pdu, (resp) => {
        const o = this.outstanding.get(pdu.sequence_number);
        if (!o) return;
        clearTimeout(o.timer);
        this.outstanding.delete(pdu.sequence_number);
        resolve(resp.command_status);
      });
      if (!ok) {
        reject(new DeliveryFailed('closed'));
        return;
      }
      const timer = setTimeout(() => {
        this.outstanding.delete(pdu.sequence_number);
        reject(new DeliveryFailed('timeout'));
      }, this.timeoutMs);
      this.outstanding.set(pdu.sequence_number, { reject, timer });
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const o of this.outstanding.values()) {
      clearTimeout(o.timer);
      o.reject(new DeliveryFailed('closed'));
    }
    this.outstanding.clear();
  }
}
