/**
 * Reading an inventory file for an import, streaming: bytes to lines to the vendor-file
 * reader, the file hashed on the way (the same file is the same import), the valid rows
 * handed over in batches while the file is clean. After the first problem the rest is still
 * read, for the report (every problem counted, the first ones kept), but no row is handed
 * over: the import will write nothing. Memory is one source chunk and one batch.
 */
import { createHash } from 'node:crypto';
import type { inventory } from '../../sim-applet/index.js';
import { readLines } from './lines.js';

export type ByteSource = AsyncIterable<Buffer | Uint8Array | string> | Iterable<Buffer | Uint8Array | string>;

/** Valid rows and their line numbers in the file. */
export interface RowBatch {
  lines: number[];
  rows: inventory.InventoryRow[];
}

export interface ReadInventoryOptions {
  source: ByteSource;
  reader: inventory.VendorFileReader;
  /** Takes each batch (awaited: a slow consumer slows the reading). */
  onRows: (batch: RowBatch) => Promise<void> | void;
  /** Called every few thousand rows with the bytes and rows read so far. */
  onProgress?: ((bytes: number, rows: number) => void) | undefined;
  /** Rows per batch (the last one may be smaller). Default 4096. */
  batchRows?: number;
}

export interface ReadInventoryResult {
  bytes: number;
  sha256: Buffer;
}

export async function readInventory(options: ReadInventoryOptions): Promise<ReadInventoryResult> {
  const { reader, onRows, onProgress } = options;
  const batchRows = options.batchRows ?? 4096;
  const hash = createHash('sha256');
  let bytes = 0;
  let lastReport = 0;
  let batch: RowBatch = { lines: [], rows: [] };
  const counted = (async function* () {
    for await (const chunk of options.source) {
      hash.update(chunk);
      bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
      yield chunk;
    }
  })();
  for await (const lines of readLines(counted)) {
    for (const text of lines) {
      const row = reader.push(text);
      if (row === null || reader.problemCount > 0) continue;
      batch.lines.push(reader.line);
      batch.rows.push(row);
      if (batch.rows.length >= batchRows) {
        await onRows(batch);
        batch = { lines: [], rows: [] };
      }
    }
    if (onProgress && reader.rowCount - lastReport >= 5000) {
      lastReport = reader.rowCount;
      onProgress(bytes, reader.rowCount);
    }
  }
  reader.end();
  if (batch.rows.length > 0 && reader.problemCount === 0) await onRows(batch);
  onProgress?.(bytes, reader.rowCount);
  return { bytes, sha256: hash.digest() };
}
