/**
 * Reading an inventory file for an import, streaming: bytes to lines to the vendor-file
 * reader, the file hashed on the way (the same file is the same import), the valid rows
 * handed over packed in batches while the file is clean (sim-applet/inventory/packed-rows.ts:
 * bytes, not strings, from the file to the COPY). After the first problem the rest is still
 * read, for the report (every problem counted, the first ones kept), but no row is handed
 * over: the import will write nothing. Memory is one source chunk and one batch.
 */
import { createHash } from 'node:crypto';
// The inventory module alone: the import needs none of the applet's cryptography.
import * as inventory from '../../sim-applet/inventory/index.js';

export type ByteSource = AsyncIterable<Buffer | Uint8Array | string> | Iterable<Buffer | Uint8Array | string>;

export interface ReadInventoryOptions {
  source: ByteSource;
  reader: inventory.VendorFileReader;
  /** Takes each batch (awaited: a slow consumer slows the reading); the batch is reused afterwards. */
  onRows: (batch: inventory.PackedRows) => Promise<void> | void;
  /** Called every few thousand rows with the bytes and rows read so far. */
  onProgress?: ((bytes: number, rows: number) => void) | undefined;
  /** Rows per batch (the last one may be smaller). Default 4096. */
  batchRows?: number;
}

export interface ReadInventoryResult {
  bytes: number;
  sha256: Buffer;
}

const LF = 10;

function asBuffer(chunk: Buffer | Uint8Array | string): Buffer {
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

export async function readInventory(options: ReadInventoryOptions): Promise<ReadInventoryResult> {
  const { reader, onRows, onProgress } = options;
  const batchRows = options.batchRows ?? 4096;
  const hash = createHash('sha256');
  const rows = new inventory.PackedRows();
  let bytes = 0;
  let lastReport = 0;
  // The unfinished last line of the chunks so far.
  let tail: Buffer | null = null;
  const flush = async (): Promise<void> => {
    if (rows.count > 0 && reader.problemCount === 0) await onRows(rows);
    rows.clear();
  };
  try {
    for await (const chunk of options.source) {
      const buf = asBuffer(chunk);
      hash.update(buf);
      bytes += buf.length;
      let pos = 0;
      if (tail !== null) {
        const lf = buf.indexOf(LF);
        if (lf === -1) {
          tail = Buffer.concat([tail, buf]);
          continue;
        }
        const line = Buffer.concat([tail, buf.subarray(0, lf)]);
        tail = null;
        reader.pushBytes(line, 0, line.length, rows);
        pos = lf + 1;
      }
      for (;;) {
        const lf = buf.indexOf(LF, pos);
        if (lf === -1) break;
        reader.pushBytes(buf, pos, lf, rows);
        pos = lf + 1;
        if (rows.count >= batchRows || (reader.problemCount > 0 && rows.count > 0)) await flush();
      }
      // A copy: the source may reuse its chunk.
      if (pos < buf.length) tail = Buffer.from(buf.subarray(pos));
      if (onProgress && reader.rowCount - lastReport >= 5000) {
        lastReport = reader.rowCount;
        onProgress(bytes, reader.rowCount);
      }
    }
    if (tail !== null) reader.pushBytes(tail, 0, tail.length, rows);
    reader.end();
    await flush();
  } finally {
    rows.clear();
  }
  onProgress?.(bytes, reader.rowCount);
  return { bytes, sha256: hash.digest() };
}
