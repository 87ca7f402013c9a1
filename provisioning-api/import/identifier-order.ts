/**
 * Whether a file's IMSIs and MSISDNs come in strictly increasing order (byte order, the
 * "C" collation of `sims`), as a vendor batch's consecutive numbers do, watched row by row
 * while the rows are encoded. Strictly increasing values are all different, and the first
 * and last are the least and greatest: the load then needs no unique index to find
 * duplicates inside the file, nor a scan for its bounds (./inventory-partition.ts).
 */
import * as inventory from '../../sim-applet/inventory/index.js';

const { ROW_FIELDS, ROW_START, ROW_ICCID, ROW_IMSI, ROW_MSISDN } = inventory;

/** a[at, at+n) against b[bt, bt+m) in byte order. */
function compare(a: Uint8Array, at: number, n: number, b: Uint8Array, bt: number, m: number): number {
  const k = Math.min(n, m);
  for (let i = 0; i < k; i++) {
    const d = a[at + i]! - b[bt + i]!;
    if (d !== 0) return d;
  }
  return n - m;
}

function text(src: Uint8Array, at: number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(src[at + i]!);
  return s;
}

class Increasing {
  sorted = true;
  #first: string | null = null;
  /** The last value of the previous batch (the batch's bytes are reused). */
  #last = new Uint8Array(0);

  /** The values of one batch: value r at starts[r], lengths[r]. */
  see(src: Uint8Array, starts: Int32Array, lengths: Int32Array, count: number): void {
    if (count === 0) return;
    if (this.#first === null) this.#first = text(src, starts[0]!, lengths[0]!);
    else if (this.sorted && compare(src, starts[0]!, lengths[0]!, this.#last, 0, this.#last.length) <= 0) this.sorted = false;
    for (let r = 1; this.sorted && r < count; r++) {
      if (compare(src, starts[r]!, lengths[r]!, src, starts[r - 1]!, lengths[r - 1]!) <= 0) this.sorted = false;
    }
    this.#last = src.slice(starts[count - 1]!, starts[count - 1]! + lengths[count - 1]!);
  }

  /** The bounds when every value was greater than the one before. */
  bounds(): { min: string; max: string } | undefined {
    if (!this.sorted || this.#first === null) return undefined;
    return { min: this.#first, max: text(this.#last, 0, this.#last.length) };
  }
}

export class IdentifierOrder {
  readonly #imsi = new Increasing();
  readonly #msisdn = new Increasing();
  #starts = new Int32Array(0);
  #lengths = new Int32Array(0);

  observe(rows: inventory.PackedRows): void {
    const x = rows.index;
    const n = rows.count;
    if (this.#starts.length < n * 2) {
      this.#starts = new Int32Array(n * 2);
      this.#lengths = new Int32Array(n * 2);
    }
    const imsiAt = this.#starts.subarray(0, n), imsiLen = this.#lengths.subarray(0, n);
    const msisdnAt = this.#starts.subarray(n, 2 * n), msisdnLen = this.#lengths.subarray(n, 2 * n);
    for (let r = 0; r < n; r++) {
      const i = r * ROW_FIELDS;
      imsiAt[r] = x[i + ROW_START]! + x[i + ROW_ICCID]!;
      imsiLen[r] = x[i + ROW_IMSI]!;
      msisdnAt[r] = imsiAt[r]! + imsiLen[r]!;
      msisdnLen[r] = x[i + ROW_MSISDN]!;
    }
    this.#imsi.see(rows.bytes, imsiAt, imsiLen, n);
    this.#msisdn.see(rows.bytes, msisdnAt, msisdnLen, n);
  }

  /** What the load may rely on (inventory-partition.ts LoadFacts). */
  facts(): { imsi?: { min: string; max: string }; msisdn?: { min: string; max: string } } {
    const imsi = this.#imsi.bounds();
    const msisdn = this.#msisdn.bounds();
    return { ...(imsi ? { imsi } : {}), ...(msisdn ? { msisdn } : {}) };
  }
}
