/**
 * Lines of an inventory file to COPY rows: each line through the vendor-file reader
 * (sim-applet/inventory: a clean CSV line is read on its bytes and packed), the valid rows
 * sealed and written as binary COPY rows a batch at a time. One RowEncoder serves a whole
 * file, on the importing thread or on a worker thread (./row-worker.ts); nothing in it
 * touches the database.
 */
import { inventory } from '../../sim-applet/index.js';
import { KeysetSealer } from '../secrets/keyset-cipher.js';
import { BinaryCopyWriter } from './copy-binary.js';
import { writeRows, type ImportConstants } from './copy-rows.js';

/** Where the rows go: what a worker thread needs to encode them too (structured-cloneable). */
export interface CopyTarget {
  /** The import's data key: each row's keysets are sealed under it. */
  dataKey: Uint8Array;
  /** For `sims`: the import's constants on every row. null: rows for a staging table. */
  constants: ImportConstants | null;
}

const LF = 10;

export class RowEncoder {
  readonly #rows = new inventory.PackedRows();
  readonly #out = new BinaryCopyWriter();
  readonly #sealer: KeysetSealer;

  constructor(
    private readonly reader: inventory.VendorFileReader,
    private readonly target: CopyTarget,
    private readonly batchRows = 4096,
  ) {
    this.#sealer = new KeysetSealer(Buffer.from(target.dataKey));
  }

  /**
   * Feed whole lines, `buf[start, end)`: each ends with a line feed, but the last one may
   * end at `end` (the end of the file). Returns the COPY bytes of the rows they completed,
   * or null: none yet, or the file has a problem (then no row is written again).
   */
  feed(buf: Uint8Array, start: number, end: number): Buffer | null {
    const reader = this.reader;
    const rows = this.#rows;
    let p = start;
    while (p < end) {
      let lf = buf.indexOf(LF, p);
      if (lf === -1 || lf > end) lf = end;
      reader.pushBytes(buf, p, lf, rows);
      p = lf + 1;
      if (rows.count >= this.batchRows) this.#write();
    }
    return this.#take();
  }

  /** What is left: the last rows of the file. */
  finish(): Buffer | null {
    this.#write();
    return this.#take();
  }

  #write(): void {
    if (this.reader.problemCount === 0 && this.#rows.count > 0) writeRows(this.#out, this.#rows, this.#sealer, this.target.constants);
    this.#rows.clear();
  }

  #take(): Buffer | null {
    if (this.#out.length === 0) return null;
    const copy = this.#out.take();
    return this.reader.problemCount === 0 ? copy : null;
  }
}
