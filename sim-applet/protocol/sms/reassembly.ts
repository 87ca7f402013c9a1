/**
 * Reassembly of concatenated SMS (TS 23.040 §9.2.3.24.1/.8) for OTA (TS 31.115): parts
 * are grouped by originator and reference, arrive in any order, exact duplicates (the
 * network may deliver a part twice) are ignored, and a part that cannot belong is
 * CONCAT_CONFLICT. State is explicit and bounded: no timers, no clock; the caller gives up
 * on a message with `finish()` (CONCAT_INCOMPLETE listing the missing parts), and opening
 * more than `maxOpen` messages drops the oldest, which the result reports.
 *
 * A single SMS without concatenation IE has no reference: it completes at once, every copy
 * of it too (the OTA counter is what rejects a replayed packet).
 *
 * A completed message is remembered (up to `maxRecent`) so that late copies of its parts are
 * duplicates, not a new message. §9.2.3.24.1 has the sender use a new reference for each
 * message; a message resent identically under a reference still remembered is taken as copies.
 */
import { equalBytes } from '../../bytes.js';
import { fail } from '../../errors.js';
import { findConcat, isConcatIe, packetKindOf, splitUdh, type InformationElement, type PacketKind } from './udh.js';

export interface ConcatPart {
  /** Whose message this is (the TP-OA digits, or any caller key); parts of different originators never mix. Default ''. */
  originator?: string;
  /** The part's UDH IEs (TP-UDHI set), with the concatenation IE when it is one of several. */
  udh?: readonly InformationElement[] | undefined;
  /** The part's user data after the UDH (for GSM 7-bit, its septets). */
  payload: Uint8Array;
}

export interface ReassembledMessage {
  originator: string;
  /** The concatenation the message came in; absent for a message sent as one SMS without concatenation IE. */
  concat?: { ref: number; refBits: 8 | 16; total: number };
  /** The payloads of the parts in order: for OTA, the secured packet. */
  data: Uint8Array;
  /** The TS 31.115 packet identifier of the first part: 0x70 command, 0x71 response. */
  kind: PacketKind | undefined;
  /** The first part's IEs, concatenation IEs left out. */
  ies: InformationElement[];
}

export interface PendingMessage {
  key: string;
  originator: string;
  ref: number;
  refBits: 8 | 16;
  total: number;
  received: number[];
  missing: number[];
}

export type AcceptResult =
  | { status: 'complete'; message: ReassembledMessage; dropped: PendingMessage[] }
  | { status: 'pending'; pending: PendingMessage; dropped: PendingMessage[] }
  /** An exact copy of a part already held, or of a part of a message just completed. */
  | { status: 'duplicate'; key: string; dropped: PendingMessage[] };

interface StoredPart {
  ies: InformationElement[];
  payload: Uint8Array;
}

interface Entry {
  originator: string;
  ref: number;
  refBits: 8 | 16;
  total: number;
  parts: Map<number, StoredPart>;
}

/** Plain data a reassembler can be rebuilt from (e.g. kept by a simulator across restarts). */
export interface ReassemblerState {
  open: ReadonlyArray<{ originator: string; parts: ReadonlyArray<{ udh: readonly InformationElement[]; payload: Uint8Array }> }>;
}

export interface ReassemblerOptions {
  /** Most messages held incomplete at once; opening one more drops the oldest. */
  maxOpen: number;
  /** Most completed messages remembered to recognise late duplicates. Default `maxOpen`. */
  maxRecent?: number;
  state?: ReassemblerState;
}

/** The key of a concatenated message: reference size, reference, originator. */
export function concatKey(originator: string, refBits: 8 | 16, ref: number): string {
  return `${refBits}:${ref}:${originator}`;
}

function copyPart(ies: readonly InformationElement[], payload: Uint8Array): StoredPart {
  return { ies: ies.map((ie) => ({ iei: ie.iei, value: Uint8Array.from(ie.value) })), payload: Uint8Array.from(payload) };
}

function samePart(a: StoredPart, b: StoredPart): boolean {
  return (
    equalBytes(a.payload, b.payload) &&
    a.ies.length === b.ies.length &&
    a.ies.every((ie, i) => ie.iei === b.ies[i]!.iei && equalBytes(ie.value, b.ies[i]!.value))
  );
}

function pendingOf(key: string, e: Entry): PendingMessage {
  const received: number[] = [];
  const missing: number[] = [];
  for (let seq = 1; seq <= e.total; seq++) (e.parts.has(seq) ? received : missing).push(seq);
  return { key, originator: e.originator, ref: e.ref, refBits: e.refBits, total: e.total, received, missing };
}

function messageOf(e: Entry): ReassembledMessage {
  let length = 0;
  for (const p of e.parts.values()) length += p.payload.length;
  const data = new Uint8Array(length);
  let o = 0;
  for (let seq = 1; seq <= e.total; seq++) {
    const p = e.parts.get(seq)!;
    data.set(p.payload, o);
    o += p.payload.length;
  }
  const first = e.parts.get(1)!;
  return {
    originator: e.originator,
    concat: { ref: e.ref, refBits: e.refBits, total: e.total },
    data,
    kind: packetKindOf(first.ies),
    ies: first.ies.filter((ie) => !isConcatIe(ie)),
  };
}

function checkPart(part: ConcatPart): { originator: string; ies: readonly InformationElement[] } {
  if (part === null || typeof part !== 'object') fail('INVALID_ARGUMENT', 'part must be an object', { field: 'part' });
  if (!(part.payload instanceof Uint8Array)) fail('INVALID_ARGUMENT', 'part.payload must be a Uint8Array', { field: 'payload' });
  const originator = part.originator ?? '';
  if (typeof originator !== 'string') fail('INVALID_ARGUMENT', 'part.originator must be a string', { field: 'originator' });
  const ies = part.udh ?? [];
  if (!Array.isArray(ies)) fail('INVALID_ARGUMENT', 'part.udh must be an array of IEs', { field: 'udh' });
  return { originator, ies };
}

export class ConcatReassembler {
  readonly maxOpen: number;
  readonly maxRecent: number;
  /** Insertion order is age: the first entry is the oldest. */
  readonly #open = new Map<string, Entry>();
  readonly #recent = new Map<string, Entry>();

  constructor(options: ReassemblerOptions) {
    const { maxOpen, maxRecent = maxOpen } = options;
    if (!Number.isInteger(maxOpen) || maxOpen < 1) fail('INVALID_ARGUMENT', 'maxOpen must be a positive integer', { field: 'maxOpen', value: maxOpen });
    if (!Number.isInteger(maxRecent) || maxRecent < 0) fail('INVALID_ARGUMENT', 'maxRecent must be a non-negative integer', { field: 'maxRecent', value: maxRecent });
    this.maxOpen = maxOpen;
    this.maxRecent = maxRecent;
    for (const m of options.state?.open ?? []) for (const p of m.parts) this.accept({ originator: m.originator, udh: p.udh, payload: p.payload });
  }

  /** Take one part. Bad IEs are MALFORMED; a part that contradicts what is held is CONCAT_CONFLICT and changes nothing. */
  accept(part: ConcatPart): AcceptResult {
    const { originator, ies } = checkPart(part);
    const concat = findConcat(ies);
    packetKindOf(ies);
    if (concat === undefined) {
      return {
        status: 'complete',
        message: { originator, data: Uint8Array.from(part.payload), kind: packetKindOf(ies), ies: copyPart(ies, part.payload).ies },
        dropped: [],
      };
    }
    const key = concatKey(originator, concat.refBits, concat.ref);
    const stored = copyPart(ies, part.payload);
    const dropped: PendingMessage[] = [];
    let entry = this.#open.get(key);
    if (entry === undefined) {
      const done = this.#recent.get(key);
      if (done !== undefined) {
        const held = done.parts.get(concat.seq);
        if (done.total === concat.total && held !== undefined && samePart(held, stored)) return { status: 'duplicate', key, dropped };
        // Not a copy: the reference has come round again for a new message.
        this.#recent.delete(key);
      }
      while (this.#open.size >= this.maxOpen) {
        const [oldKey, oldEntry] = this.#open.entries().next().value as [string, Entry];
        this.#open.delete(oldKey);
        dropped.push(pendingOf(oldKey, oldEntry));
      }
      entry = { originator, ref: concat.ref, refBits: concat.refBits, total: concat.total, parts: new Map() };
      this.#open.set(key, entry);
    } else {
      if (entry.total !== concat.total) {
        fail('CONCAT_CONFLICT', `part says ${concat.total} parts, the message held has ${entry.total}`, { field: 'concat.total', key, total: concat.total, heldTotal: entry.total });
      }
      const held = entry.parts.get(concat.seq);
      if (held !== undefined) {
        if (samePart(held, stored)) return { status: 'duplicate', key, dropped };
        fail('CONCAT_CONFLICT', `part ${concat.seq} already held with different content`, { field: 'concat.seq', key, seq: concat.seq });
      }
    }
    entry.parts.set(concat.seq, stored);
    if (entry.parts.size < entry.total) return { status: 'pending', pending: pendingOf(key, entry), dropped };
    this.#open.delete(key);
    this.#remember(key, entry);
    return { status: 'complete', message: messageOf(entry), dropped };
  }

  #remember(key: string, entry: Entry): void {
    if (this.maxRecent === 0) return;
    this.#recent.delete(key);
    this.#recent.set(key, entry);
    while (this.#recent.size > this.maxRecent) this.#recent.delete(this.#recent.keys().next().value as string);
  }

  /** The incomplete messages, oldest first. */
  pending(): PendingMessage[] {
    return [...this.#open].map(([key, e]) => pendingOf(key, e));
  }

  /** The missing part numbers of an open message, or undefined when none is open under `key`. */
  missing(key: string): number[] | undefined {
    const e = this.#open.get(key);
    return e === undefined ? undefined : pendingOf(key, e).missing;
  }

  /** Forget an open message without raising; returns what it held. */
  drop(key: string): PendingMessage | undefined {
    const e = this.#open.get(key);
    if (e === undefined) return undefined;
    this.#open.delete(key);
    return pendingOf(key, e);
  }

  /** Give up on an open message: it is dropped and CONCAT_INCOMPLETE raised with `details.missing`. */
  finish(key: string): never {
    const p = this.drop(key);
    if (p === undefined) fail('INVALID_ARGUMENT', 'no open message under this key', { field: 'key', key });
    return fail('CONCAT_INCOMPLETE', `${p.missing.length} of ${p.total} parts missing`, { field: 'concat', ...p });
  }

  /** The open messages as plain data (copies), for `new ConcatReassembler({ ..., state })`. */
  snapshot(): ReassemblerState {
    return {
      open: [...this.#open.values()].map((e) => ({
        originator: e.originator,
        parts: [...e.parts.values()].map((p) => {
          const copy = copyPart(p.ies, p.payload);
          return { udh: copy.ies, payload: copy.payload };
        }),
      })),
    };
  }
}

/**
 * All the parts of one message at once (raw parts are UD octets starting with the UDH). Parts
 * of more than one message are CONCAT_CONFLICT, missing ones CONCAT_INCOMPLETE with
 * `details.missing`; exact duplicates are ignored.
 */
export function reassemble(parts: ReadonlyArray<ConcatPart | Uint8Array>): ReassembledMessage {
  if (!Array.isArray(parts) || parts.length === 0) fail('INVALID_ARGUMENT', 'no parts', { field: 'parts' });
  const normalised = parts.map((p): ConcatPart => {
    if (!(p instanceof Uint8Array)) return p;
    const { ies, payload } = splitUdh(p);
    return { udh: ies, payload };
  });
  const keys = new Set(
    normalised.map((p) => {
      const { originator, ies } = checkPart(p);
      const c = findConcat(ies);
      return c === undefined ? 'single' : `${concatKey(originator, c.refBits, c.ref)}/${c.total}`;
    }),
  );
  if (keys.size > 1) fail('CONCAT_CONFLICT', 'parts of more than one message', { field: 'parts', messages: [...keys] });
  const r = new ConcatReassembler({ maxOpen: 1 });
  let message: ReassembledMessage | undefined;
  for (const p of normalised) {
    const result = r.accept(p);
    if (result.status !== 'complete') continue;
    if (message !== undefined && !(result.message.concat === undefined && equalBytes(result.message.data, message.data))) {
      fail('CONCAT_CONFLICT', 'parts of more than one message', { field: 'parts' });
    }
    message = result.message;
  }
  const open = r.pending()[0];
  if (open !== undefined && message !== undefined) fail('CONCAT_CONFLICT', 'parts of more than one message', { field: 'parts', key: open.key });
  if (open !== undefined) r.finish(open.key);
  return message ?? fail('CONCAT_INCOMPLETE', 'no complete message', { field: 'parts', missing: [] });
}
