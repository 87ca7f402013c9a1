/**
 * The worker thread of a large import (./rows.ts): it reads the file's lines after the
 * header, seals and encodes the rows, and hands back COPY bytes, while the importing thread
 * reads the file and writes to the database. Its reader is fed the header lines the
 * importing thread read, so that it judges every data line exactly as that one would
 * (same layout, same line numbers).
 *
 * Messages in: `{ bytes: ArrayBuffer }` (whole lines, in file order), then `{ end: true }`.
 * Out: one `RowWorkerReply` per message in, in order; after `end`, the reader's summary.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { inventory } from '../../sim-applet/index.js';
import { RowEncoder, type CopyTarget } from './row-encoder.js';

export interface RowWorkerData {
  header: string[];
  maxProblems: number;
  target: CopyTarget;
}

export interface RowWorkerReply {
  /** COPY bytes of the rows completed, if any (transferred). */
  copy: ArrayBuffer | null;
  copyOffset: number;
  copyLength: number;
  /** Data rows seen so far. */
  rowCount: number;
  problemCount: number;
  /** After `end`: the reader's problems (the first maxProblems) and last line number. */
  problems?: inventory.InventoryProblem[];
  line?: number;
}

const { header, maxProblems, target } = (workerData as { data: RowWorkerData }).data;
const reader = new inventory.VendorFileReader({ maxProblems });
for (const line of header) reader.push(line);
const encoder = new RowEncoder(reader, target);
const port = parentPort!;

function reply(copy: Buffer | null, last: boolean): void {
  const message: RowWorkerReply = {
    copy: copy === null ? null : (copy.buffer as ArrayBuffer),
    copyOffset: copy?.byteOffset ?? 0,
    copyLength: copy?.length ?? 0,
    rowCount: reader.rowCount,
    problemCount: reader.problemCount,
  };
  if (last) {
    message.problems = reader.problems;
    message.line = reader.line;
  }
  // The COPY buffer is this reply's alone (BinaryCopyWriter.take starts a new one): moved, not copied.
  port.postMessage(message, copy === null ? [] : [copy.buffer as ArrayBuffer]);
}

port.on('message', (m: { bytes?: ArrayBuffer; end?: true }) => {
  if (m.end) {
    reply(encoder.finish(), true);
    return;
  }
  const bytes = new Uint8Array(m.bytes!);
  reply(encoder.feed(bytes, 0, bytes.length), false);
});
