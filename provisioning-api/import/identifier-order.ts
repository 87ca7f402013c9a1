/**
 * Whether a file's IMSIs and MSISDNs come in strictly increasing order (byte order, the
 * "C" collation of `sims`), as a vendor batch's consecutive numbers do, watched row by row
 * while the rows are encoded. Strictly increasing values are all different, and the first
 * and last are the least and greatest: the load then needs no unique index to find
 * duplicates inside the file, nor a scan for its bounds (./inventory-partition.ts).
 */
import * as inventory from '../../sim-applet/inventory/index.js';

const { ROW_FIELDS, ROW_START, ROW_ICCID, ROW_IMSI, ROW_MSISDN } = inventory;

class Increasing {
  sorted = true;
  first: string | null = null;
  #last = new Uint8Array(32);
  #lastLength = -1;

  see(src: Uint8Array, at: number, n: number): void {
    if (this.#lastLength < 0) {
      this.first = String.fromCharCode(...src.subarray(at, at + n));
    } else if (this.sorted && compare(src, at, n, this.#last, this.#lastLength) <= 0) {
      this.sorted = false;
    }
    if (n > this.#last.length) this.#last = new Uint8Array(n);
    this.#last.set(src.subarray(at, at + n));
    this.#lastLength = n;
  }

  /** The bounds when every value was greater than the one before. */
  bounds(): { min: string; max: string } | undefined {
    if (!this.sorted || this.first === null) return undefined;
    return { min: this.first, max: String.fromCharCode(...this.#last.subarray(0, this.#lastLength)) };
  }
}

function compare(a: Uint8Array, at: number, n: number, b: Uint8Array, m: number): number {
  const k = Math.min(n, m);
  for (let i = 0; i < k; i++) {
    const d = a[at + i]! - b[i]!;
    if (d !== 0) return d;
  }
  return n - m;
}

export class IdentifierOrder {
  readonly #imsi = new Increasing();
  readonly #msisdn = new Increasing();

  observe(rows: inventory.PackedRows): void {
    const x = rows.index;
    const src = rows.bytes;
    for (let r = 0; r < rows.count; r++) {
      const i = r * ROW_FIELDS;
      const imsiAt = x[i + ROW_START]! + x[i + ROW_ICCID]!;
      const imsi = x[i + ROW_IMSI]!;
      this.#imsi.see(src, imsiAt, imsi);
      this.#msisdn.see(src, imsiAt + imsi, x[i + ROW_MSISDN]!);
    }
  }

  /** What the load may rely on (inventory-partition.ts LoadFacts). */
  facts(): { imsi?: { min: string; max: string }; msisdn?: { min: string; max: string } } {
    const imsi = this.#imsi.bounds();
    const msisdn = this.#msisdn.bounds();
    return { ...(imsi ? { imsi } : {}), ...(msisdn ? { msisdn } : {}) };
  }
}
