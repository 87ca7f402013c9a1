/**
 * Attestation checks off the event loop. Checking a generated key costs two P-256 verifies
 * and the import of the card's key (about 350 µs a SIM under load, half the backend's key
 * generation work): run inline, a collector pass of 1,000 PoRs held the event loop for a
 * third of a second, while the gateway could neither read the SMSC's PDUs nor answer them,
 * and it left the machine's other core to whatever else was runnable. Here they run on
 * worker threads (node:worker_threads), the collector awaiting them like any other I/O.
 *
 * A worker that dies fails the checks it held (the collector's transaction rolls back and
 * its next pass does them again) and is replaced on the next call.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { asBuffer, type VendorAuthority } from '../../sim-applet/index.js';
import { attestGeneratedKey, type AttestOutcome } from './attest.js';

/** What the collector knows of one SIM whose PoR carries a generated key. */
export interface AttestInput {
  iccid: string;
  imsi: string;
  porData: Buffer;
  heldCertificate: Buffer | null;
}

/** Check `items` against the vendor CA `ca` at time `at`; outcomes in the order of `items`. */
export type Attest = (ca: Buffer | VendorAuthority, at: Date, items: AttestInput[]) => Promise<AttestOutcome[]>;

/** On the calling thread, one after the other. */
export const attestInline: Attest = async (ca, at, items) =>
  items.map((i) => attestGeneratedKey({ iccid: i.iccid, imsi: i.imsi, porData: i.porData, heldCertificate: i.heldCertificate, caCertificate: ca, at }));

/** The worker threads a process starts when none are configured: one beside the event loop where there is a core for it. */
export function defaultAttestWorkers(): number {
  return availableParallelism() > 1 ? 1 : 0;
}

/** The message a worker gets, and what it answers. */
export interface AttestRequest {
  id: number;
  ca: Buffer | VendorAuthority;
  at: number;
  items: AttestInput[];
}
export type AttestReply = { id: number; outcomes: AttestOutcome[] } | { id: number; error: string };

interface Slot {
  worker: Worker;
  pending: Map<number, { resolve(o: AttestOutcome[]): void; reject(e: Error): void }>;
}

/** Fewer checks than this go to one worker, as the messages would cost more than sharing saves. */
const MIN_SHARE = 64;

export class AttestationPool {
  readonly #slots: Array<Slot | null>;
  #next = 1;
  #closed = false;

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError('an attestation pool has at least one worker');
    this.#slots = new Array<Slot | null>(size).fill(null);
  }

  readonly attest: Attest = async (ca, at, items) => {
    if (items.length === 0) return [];
    if (this.#closed) throw new Error('the attestation pool is closed');
    const parts = Math.max(1, Math.min(this.size, Math.floor(items.length / MIN_SHARE)));
    const per = Math.ceil(items.length / parts);
    const answers = await Promise.all(Array.from({ length: parts }, (_, k) => this.#ask(k, { ca, at: at.getTime(), items: items.slice(k * per, (k + 1) * per) })));
    return answers.flat();
  };

  /**
   * Start every worker now, so the first checks do not wait for a worker to load its modules
   * (about a second under load: until then a batch's first PoRs piled up, the window of
   * commands in flight filled, and key generation stood still). Idle, they keep no process alive.
   */
  warm(): void {
    if (this.#closed) return;
    for (let k = 0; k < this.size; k++) if (!this.#slots[k]) this.#start(k);
  }

  /** Workers running now. */
  get started(): number {
    return this.#slots.filter((s) => s !== null).length;
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#slots.map((s) => s?.worker.terminate()));
    this.#slots.fill(null);
  }

  #ask(k: number, request: Omit<AttestRequest, 'id'>): Promise<AttestOutcome[]> {
    const slot = this.#slots[k] ?? this.#start(k);
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      slot.worker.ref();
      slot.worker.postMessage({ id, ...request } satisfies AttestRequest);
    });
  }

  #start(k: number): Slot {
    // The worker runs TypeScript as this process does: its entry registers tsx, then loads attest-worker.ts.
    const worker = new Worker(new URL('./attest-worker-entry.mjs', import.meta.url), {
      workerData: { main: new URL('./attest-worker.ts', import.meta.url).href },
    });
    const slot: Slot = { worker, pending: new Map() };
    const fail = (e: Error) => {
      if (this.#slots[k] === slot) this.#slots[k] = null;
      for (const p of slot.pending.values()) p.reject(e);
      slot.pending.clear();
    };
    worker.on('message', (reply: AttestReply) => {
      const p = slot.pending.get(reply.id);
      if (!p) return;
      slot.pending.delete(reply.id);
      if (slot.pending.size === 0) worker.unref();
      if ('error' in reply) p.reject(new Error(`attestation worker: ${reply.error}`));
      else p.resolve(reply.outcomes.map(asBuffers));
    });
    worker.on('error', (e) => fail(e));
    worker.on('exit', (code) => fail(new Error(`attestation worker exited (${code})`)));
    worker.unref();
    this.#slots[k] = slot;
    return slot;
  }
}

/** Buffers come back from a worker as plain Uint8Arrays: views again, no copy. */
function asBuffers(o: AttestOutcome): AttestOutcome {
  if (!o.ok) return o;
  return { ok: true, key: { ...o.key, publicKey: asBuffer(o.key.publicKey), salt: asBuffer(o.key.salt), imsiCommitment: asBuffer(o.key.imsiCommitment) } };
}
