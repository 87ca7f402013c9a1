/**
 * Concatenated mobile-originated messages (a PoR longer than one SMS, TS 31.115 §4 with
 * TS 23.040 §9.2.3.24.1 concatenation): parts are held until the last one arrives, and the
 * deliver_sm of every part is answered only when the whole message has been handled. The
 * SMSC keeps what it has not been answered for, so a restart of this process loses nothing:
 * the parts come again. Parts that stay incomplete are answered with a temporary error after
 * `holdMs`, which makes the SMSC send them again later.
 *
 * Holding is bounded (`maxHeld` messages): an SMSC sends parts of many messages interleaved,
 * and once its window towards us is full of held first parts whose later parts queue behind
 * them, nothing moves until the holds expire. Past the bound, a part is answered as soon as it
 * is buffered; if this process then dies before the last part, that PoR is lost, as one lost
 * in the network would be, and the command's owner recovers as for a missing PoR (it expires
 * and is sent again or probed).
 */
import { ConcatReassembler, concatKey, findConcat, splitUdh, type ReassembledMessage } from '../../sim-applet/index.js';
import { SMPP_STATUS } from './errors.js';

interface Held {
  waiters: Array<(status: number) => void>;
  timer: NodeJS.Timeout;
}

export class MoReassembly {
  private readonly reassembler = new ConcatReassembler({ maxOpen: 10_000, maxRecent: 10_000 });
  private readonly held = new Map<string, Held>();
  /** Keys of messages handled lately (insertion order is age), to answer late copies of their parts. */
  private readonly done = new Map<string, number>();

  constructor(private readonly holdMs = 30_000, private readonly maxHeld = 64) {}

  /** Whether this user data is one part of several. */
  static isPart(userData: Uint8Array): boolean {
    try {
      return findConcat(splitUdh(userData).ies) !== undefined;
    } catch {
      return false;
    }
  }

  /**
   * Take a part; `complete` runs once with the whole message, and every part's answer is
   * its result. Throws the protocol layer's error for a malformed or conflicting part.
   */
  accept(originator: string, userData: Uint8Array, complete: (message: ReassembledMessage) => Promise<number>): Promise<number> {
    const { ies, payload } = splitUdh(userData);
    const result = this.reassembler.accept({ originator, udh: ies, payload });
    for (const d of result.dropped) this.release(d.key, SMPP_STATUS.ESME_RX_T_APPN);
    if (result.status === 'duplicate') {
      const status = this.done.get(result.key);
      if (status !== undefined && !this.held.has(result.key)) return Promise.resolve(status);
      return this.hold(result.key);
    }
    if (result.status === 'pending') {
      if (!this.held.has(result.pending.key) && this.held.size >= this.maxHeld) return Promise.resolve(SMPP_STATUS.ESME_ROK);
      return this.hold(result.pending.key);
    }
    const message = result.message;
    const key = message.concat ? concatKey(originator, message.concat.refBits, message.concat.ref) : null;
    return complete(message).then(
      (status) => {
        if (key) this.finish(key, status);
        return status;
      },
      (e) => {
        if (key) this.release(key, SMPP_STATUS.ESME_RX_T_APPN);
        throw e;
      },
    );
  }

  private hold(key: string): Promise<number> {
    let held = this.held.get(key);
    if (!held) {
      held = { waiters: [], timer: setTimeout(() => this.expire(key), this.holdMs) };
      held.timer.unref();
      this.held.set(key, held);
    }
    const h = held;
    return new Promise((resolve) => h.waiters.push(resolve));
  }

  private finish(key: string, status: number): void {
    this.done.set(key, status);
    if (this.done.size > 10_000) this.done.delete(this.done.keys().next().value as string);
    this.release(key, status);
  }

  private expire(key: string): void {
    this.release(key, SMPP_STATUS.ESME_RX_T_APPN);
  }

  private release(key: string, status: number): void {
    const held = this.held.get(key);
    if (!held) return;
    clearTimeout(held.timer);
    this.held.delete(key);
    for (const w of held.waiters) w(status);
  }
}
