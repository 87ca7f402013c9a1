/**
 * Concatenated MO joined in the SMSC before it goes to the application (an option of the
 * SMSC simulator, as of many real SMSCs towards their ESMEs): the parts of one message
 * (TS 23.040 §9.2.3.24.1, matched by originator and reference) are held until the last one
 * arrives, and the application gets one deliver_sm whose message_payload (SMPP 3.4 §5.3.2.32)
 * is the first part's other IEs (for a PoR, the response packet identifier, TS 31.115) and
 * every part's payload in order. A PoR of GENERATE KEY PAIR is 4 SMS over the air; the
 * application then reads, answers and reassembles one PDU instead of four.
 *
 * What cannot be joined goes on as it came: a part whose message is still incomplete after
 * `holdMs` (each held part is forwarded then), a part the reassembler refuses (malformed,
 * contradicting what is held). An exact copy of a part already held is dropped.
 */
import type smppTypes from 'smpp';
import { ConcatReassembler, encodeUdh, findConcat, splitUdh } from '../../sim-applet/index.js';

export type Forward = (fields: smppTypes.PduFields) => void;

function keyOf(originator: string, refBits: number, ref: number): string {
  return `${originator}|${refBits}|${ref}`;
}

const UDHI = 0x40;

export class MoJoiner {
  private readonly reassembler = new ConcatReassembler({ maxOpen: 10_000, maxRecent: 10_000 });
  /** By originator and reference: the parts forwarded as they came if the message is never whole. */
  private readonly held = new Map<string, { reassemblerKey: string; parts: smppTypes.PduFields[]; timer: NodeJS.Timeout }>();
  joined = 0;

  constructor(private readonly forward: Forward, private readonly holdMs = 5_000) {}

  /** An MO from the network, as the fields of its deliver_sm; `userData` is its short_message or payload. */
  accept(fields: smppTypes.PduFields, userData: Buffer): void {
    let part;
    try {
      part = ((fields.esm_class ?? 0) & UDHI) !== 0 ? splitUdh(userData) : undefined;
    } catch {
      part = undefined;
    }
    const concat = part ? findConcat(part.ies) : undefined;
    if (!part || !concat) return this.forward(fields);
    const originator = String(fields.source_addr ?? '');
    let result;
    try {
      result = this.reassembler.accept({ originator, udh: part.ies, payload: part.payload });
    } catch {
      return this.forward(fields);
    }
    // Messages the reassembler had to let go of (too many open) go on as they came.
    for (const d of result.dropped) this.release(keyOf(d.originator, d.refBits, d.ref));
    if (result.status === 'duplicate') return;
    const key = keyOf(originator, concat.refBits, concat.ref);
    if (result.status === 'pending') {
      let h = this.held.get(key);
      if (!h) {
        const reassemblerKey = result.pending.key;
        h = { reassemblerKey, parts: [], timer: setTimeout(() => this.expire(key), this.holdMs) };
        h.timer.unref();
        this.held.set(key, h);
      }
      h.parts.push(fields);
      return;
    }
    const m = result.message;
    this.forget(key);
    this.joined++;
    // The first part's other IEs (for a PoR, 71 00) head the message; with none, no UDH at all.
    const withUdh = m.ies.length > 0;
    const joined = withUdh ? Buffer.concat([encodeUdh(m.ies), m.data]) : Buffer.from(m.data);
    const esmClass = withUdh ? (fields.esm_class ?? 0) | UDHI : (fields.esm_class ?? 0) & ~UDHI;
    const { short_message: _s, message_payload: _p, ...rest } = fields;
    this.forward({ ...rest, esm_class: esmClass, short_message: Buffer.alloc(0), message_payload: joined });
  }

  stop(): void {
    for (const h of this.held.values()) clearTimeout(h.timer);
    this.held.clear();
  }

  /** Held longer than holdMs: the parts go on as they came. */
  private expire(key: string): void {
    const h = this.held.get(key);
    if (h) this.reassembler.drop(h.reassemblerKey);
    this.release(key);
  }

  private release(key: string): void {
    const h = this.held.get(key);
    if (!h) return;
    this.forget(key);
    for (const f of h.parts) this.forward(f);
  }

  private forget(key: string): void {
    const h = this.held.get(key);
    if (!h) return;
    clearTimeout(h.timer);
    this.held.delete(key);
  }
}
