/**
 * Store and forward towards an ESME account (the operator): receipts and MOs wait here until
 * a receiver or transceiver of that system_id is bound, then go out over whichever of its
 * sessions has room. A message leaves the queue only when the ESME answered it with
 * ESME_ROK; a temporary error, a timeout or a lost session puts it back for a later try.
 */
import type smppTypes from 'smpp';
import type { Peer } from './peer.js';

interface Item {
  fields: smppTypes.PduFields;
  attempts: number;
}

export class EsmeQueue {
  private readonly items: Item[] = [];
  private head = 0;
  private inFlight = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  delivered = 0;

  constructor(private readonly peers: () => Peer[], private readonly retryMs = 200) {}

  get waiting(): number {
    return this.items.length - this.head + this.inFlight;
  }

  push(fields: smppTypes.PduFields): void {
    this.items.push({ fields, attempts: 0 });
    this.pump();
  }

  pump(): void {
    for (;;) {
      if (this.head >= this.items.length) {
        if (this.head > 0) {
          this.items.length = 0;
          this.head = 0;
        }
        return;
      }
      let best: Peer | null = null;
      for (const p of this.peers()) if (p.free > 0 && (best === null || p.free > best.free)) best = p;
      if (best === null) return;
      const item = this.items[this.head++]!;
      this.send(best, item);
    }
  }

  private send(peer: Peer, item: Item): void {
    this.inFlight++;
    item.attempts++;
    peer.deliver(item.fields).then(
      (status) => {
        this.inFlight--;
        if (status === 0) {
          this.delivered++;
          this.pump();
        } else this.later(item);
      },
      () => {
        this.inFlight--;
        this.later(item);
      },
    );
  }

  private later(item: Item): void {
    this.items.push(item);
    if (this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.pump();
    }, this.retryMs);
    this.retryTimer.unref();
  }

  stop(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
  }
}
