/**
 * Where each card of the vendor file is, by MSISDN: the card factory's file is the one the
 * operator imports, and a handset's card is personalised from its row. For a million cards
 * the index is two typed arrays (MSISDN digits as a number, byte offset of the line), sorted
 * for binary search: about 16 MB, no row objects held. A row is read back from the file and
 * parsed again when its card is first needed.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { inventory } from '../../sim-applet/index.js';

export class VendorFileError extends Error {
  override readonly name = 'VendorFileError';
  readonly code = 'VENDOR_FILE_INVALID';
}

export class VendorIndex {
  private constructor(
    private readonly file: FileHandle,
    private readonly header: string[],
    private readonly msisdns: Float64Array,
    private readonly offsets: Float64Array,
  ) {}

  get size(): number {
    return this.msisdns.length;
  }

  /** Read the whole file once, checking every row as the importer does. */
  static async build(path: string): Promise<VendorIndex> {
    const reader = new inventory.VendorFileReader();
    const header: string[] = [];
    let msisdns = new Float64Array(1024);
    let offsets = new Float64Array(1024);
    let count = 0;
    let offset = 0;
    let rest = Buffer.alloc(0);
    const take = (line: Buffer, at: number): void => {
      const text = line.toString('utf8');
      const row = reader.push(text);
      if (row === null) {
        if (count === 0) header.push(text);
        return;
      }
      if (count === msisdns.length) {
        msisdns = grow(msisdns);
        offsets = grow(offsets);
      }
      msisdns[count] = Number(row.msisdn.replace('+', ''));
      offsets[count] = at;
      count++;
    };
    for await (const chunk of createReadStream(path)) {
      const buf = rest.length > 0 ? Buffer.concat([rest, chunk as Buffer]) : (chunk as Buffer);
      let start = 0;
      for (let nl = buf.indexOf(10, start); nl !== -1; nl = buf.indexOf(10, start)) {
        take(buf.subarray(start, nl), offset + start);
        start = nl + 1;
      }
      offset += start;
      rest = Buffer.from(buf.subarray(start));
    }
    if (rest.length > 0) take(rest, offset);
    reader.end();
    if (reader.problemCount > 0) {
      const first = reader.problems[0]!;
      throw new VendorFileError(`${path}: ${reader.problemCount} problem(s); line ${first.line}: ${first.message}`);
    }
    const order = Array.from({ length: count }, (_, i) => i).sort((a, b) => msisdns[a]! - msisdns[b]!);
    const m = new Float64Array(count);
    const o = new Float64Array(count);
    order.forEach((from, to) => {
      m[to] = msisdns[from]!;
      o[to] = offsets[from]!;
    });
    return new VendorIndex(await open(path, 'r'), header, m, o);
  }

  has(msisdnDigits: string): boolean {
    return this.find(Number(msisdnDigits)) >= 0;
  }

  /** The card's position in the index (stable for a given file), or -1. */
  slotOf(msisdnDigits: string): number {
    return this.find(Number(msisdnDigits));
  }

  /** The MSISDN digits of the card at `slot` (0 ≤ slot < size). */
  msisdnAt(slot: number): string {
    return String(this.msisdns[slot]);
  }

  slotOfNumber(msisdn: number): number {
    return this.find(msisdn);
  }

  /** The card's row, or null when the file has no such MSISDN. */
  async row(msisdnDigits: string): Promise<inventory.InventoryRow | null> {
    const i = this.find(Number(msisdnDigits));
    if (i < 0) return null;
    const buf = Buffer.alloc(8192);
    const { bytesRead } = await this.file.read(buf, 0, buf.length, this.offsets[i]!);
    const end = buf.subarray(0, bytesRead).indexOf(10);
    const line = buf.subarray(0, end === -1 ? bytesRead : end).toString('utf8');
    const reader = new inventory.VendorFileReader();
    for (const h of this.header) reader.push(h);
    return reader.push(line);
  }

  async close(): Promise<void> {
    await this.file.close();
  }

  private find(value: number): number {
    let lo = 0;
    let hi = this.msisdns.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = this.msisdns[mid]!;
      if (v === value) return mid;
      if (v < value) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }
}

function grow(a: Float64Array<ArrayBuffer>): Float64Array<ArrayBuffer> {
  const b = new Float64Array(a.length * 2);
  b.set(a);
  return b;
}
