/**
 * Mobile-terminated messages towards the radio network (the handset fleet's bind), with
 * store and forward: one FIFO per destination MSISDN, so the parts of a concatenated message
 * reach the handset in order and one offline handset holds up nobody else. The network
 * answers deliver_sm_resp ESME_ROK when the handset took the SMS, ESME_RX_T_APPN (SMPP 3.4
 * §5.1.3) when it is absent: the SMSC tries again with a growing pause until the validity
 * period ends (§5.2.15), then reports EXPIRED. Other refusals are final (UNDELIV).
 */
import type smppTypes from 'smpp';
import { DeliveryFailed, type Peer } from './peer.js';
import { STATUS } from './raw-mode.js';
import type { ReceiptStat } from './receipt.js';

export interface MtMessage {
  messageId: string;
  /** Destination digits. */
  dest: string;
  /** deliver_sm fields without the user data. */
  fields: smppTypes.PduFields;
  /** User data of each SMS, delivered in order. */
  parts: Buffer[];
  next: number;
  submittedAt: Date;
  expiresAt: number;
  attempts: number;
}

interface Destination {
  items: MtMessage[];
  busy: boolean;
  backoffMs: number;
  timer: NodeJS.Timeout | null;
}

const TEMPORARY = new Set<number>([STATUS.ESME_RX_T_APPN, STATUS.ESME_RTHROTTLED, STATUS.ESME_RMSGQFUL, STATUS.ESME_RSYSERR]);

export class MtRouter {
  private readonly destinations = new Map<string, Destination>();
  private readonly ready = new Set<string>();
  private pumping = false;
  stored = 0;

  constructor(
    private readonly peers: () => Peer[],
    private readonly final: (m: MtMessage, stat: ReceiptStat, err: number) => void,
    private readonly retry: { initialMs: number; maxMs: number },
  ) {}

  /** Messages held (waiting or in flight). */
  get held(): number {
    let n = 0;
    for (const d of this.destinations.values()) n += d.items.length;
    return n;
  }

  submit(m: MtMessage): void {
    let d = this.destinations.get(m.dest);
    if (!d) {
      d = { items: [], busy: false, backoffMs: this.retry.initialMs, timer: null };
      this.destinations.set(m.dest, d);
    }
    d.items.push(m);
    if (!d.busy && d.timer === null) this.ready.add(m.dest);
    this.pump();
  }

  pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.ready.size > 0) {
        let peer: Peer | null = null;
        for (const p of this.peers()) if (p.free > 0 && (peer === null || p.free > peer.free)) peer = p;
        if (peer === null) return;
        const dest = this.ready.values().next().value as string;
        this.ready.delete(dest);
        const d = this.destinations.get(dest);
        if (!d || d.items.length === 0 || d.busy) continue;
        this.attempt(peer, dest, d);
      }
    } finally {
      this.pumping = false;
    }
  }

  private attempt(peer: Peer, dest: string, d: Destination): void {
    const m = d.items[0]!;
    if (Date.now() >= m.expiresAt) {
      this.finish(dest, d, 'EXPIRED', 0);
      return;
    }
    d.busy = true;
    m.attempts++;
    peer.deliver({ ...m.fields, short_message: m.parts[m.next]! }).then(
      (status) => {
        d.busy = false;
        if (status === STATUS.ESME_ROK) {
          d.backoffMs = this.retry.initialMs;
          m.next++;
          if (m.next >= m.parts.length) this.finish(dest, d, 'DELIVRD', 0);
          else this.again(dest);
        } else if (TEMPORARY.has(status)) this.later(dest, d);
        else this.finish(dest, d, 'UNDELIV', status);
        queueMicrotask(() => this.pump());
      },
      (e: unknown) => {
        d.busy = false;
        if (e instanceof DeliveryFailed) this.later(dest, d);
        else this.finish(dest, d, 'UNDELIV', STATUS.ESME_RSYSERR);
        queueMicrotask(() => this.pump());
      },
    );
  }

  private finish(dest: string, d: Destination, stat: ReceiptStat, err: number): void {
    const m = d.items.shift()!;
    this.final(m, stat, err);
    if (d.items.length === 0) {
      if (d.timer) clearTimeout(d.timer);
      this.destinations.delete(dest);
    } else this.again(dest);
  }

  private again(dest: string): void {
    this.ready.add(dest);
  }

  /** Absent handset: keep it, try again later (never after its validity). */
  private later(dest: string, d: Destination): void {
    this.stored++;
    const m = d.items[0]!;
    const wait = Math.max(0, Math.min(d.backoffMs, m.expiresAt - Date.now()));
    d.backoffMs = Math.min(this.retry.maxMs, d.backoffMs * 2);
    d.timer = setTimeout(() => {
      d.timer = null;
      this.ready.add(dest);
      this.pump();
    }, wait);
    d.timer.unref();
  }

  stop(): void {
    for (const d of this.destinations.values()) if (d.timer) clearTimeout(d.timer);
  }
}
