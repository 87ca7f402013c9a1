/**
 * Reading an inventory file for an import, streaming: bytes to lines to the vendor-file
 * reader, the file hashed on the way (the same file is the same import), the valid rows
 * sealed and handed over as binary COPY bytes while the file is clean (./row-encoder.ts:
 * bytes, not strings, from the file to the COPY). After the first problem the rest is still
 * read, for the report (every problem counted, the first ones kept), but nothing more is
 * handed over: the import will write nothing. Memory is a few source chunks and one batch.
 *
 * With `worker`, the lines after the header are read, sealed and encoded on a worker
 * thread (./row-worker.ts) while this thread reads the file, hashes it and writes the COPY:
 * on two cores a million-row import keeps both busy (the database server's share included)
 * instead of one. The worker's reader is fed this reader's header lines first and its
 * counts and problems are merged back, so the outcome is the same either way.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import type { Worker } from 'node:worker_threads';
import { inventory } from '../../sim-applet/index.js';
import { startWorker } from '../runtime/worker-thread.js';
import { RowEncoder, type CopyTarget } from './row-encoder.js';
import type { RowWorkerData, RowWorkerReply } from './row-worker.js';

export type ByteSource = AsyncIterable<Buffer | Uint8Array | string> | Iterable<Buffer | Uint8Array | string>;

export interface ReadInventoryOptions {
  source: ByteSource;
  reader: inventory.VendorFileReader;
  /** Where the rows go (their sealing key and constant columns). */
  target: CopyTarget;
  /** Takes the COPY bytes of the rows, in file order (awaited: a slow consumer slows the reading). */
  onCopy: (copy: Buffer) => Promise<void> | void;
  /** Called every few thousand rows with the bytes and rows read so far. */
  onProgress?: ((bytes: number, rows: number) => void) | undefined;
  /** Read, seal and encode the data lines on a worker thread (for large files). Default false. */
  worker?: boolean | undefined;
}

export interface ReadInventoryResult {
  bytes: number;
  sha256: Buffer;
  /** Whether the data lines were read on a worker thread. */
  worker: boolean;
}

const LF = 10;

function asBuffer(chunk: Buffer | Uint8Array | string): Buffer {
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/** Where the data lines go once the header is read: this thread or a worker. */
interface LineSink {
  /** Whole lines (the last may end at `end` only at the end of the file). */
  feed(buf: Buffer, start: number, end: number): Promise<void>;
  /** After the last line: the last rows handed over, the counts in `reader`. */
  finish(): Promise<void>;
  rowCount(): number;
  close(): Promise<void>;
}

class ThreadSink implements LineSink {
  readonly #encoder: RowEncoder;

  constructor(private readonly reader: inventory.VendorFileReader, target: CopyTarget, private readonly onCopy: ReadInventoryOptions['onCopy']) {
    this.#encoder = new RowEncoder(reader, target);
  }

  async feed(buf: Buffer, start: number, end: number): Promise<void> {
    const copy = this.#encoder.feed(buf, start, end);
    if (copy !== null) await this.onCopy(copy);
  }

  async finish(): Promise<void> {
    const copy = this.#encoder.finish();
    if (copy !== null) await this.onCopy(copy);
  }

  rowCount(): number {
    return this.reader.rowCount;
  }

  async close(): Promise<void> {}
}

/** Segments in flight to the worker at most: a few MB of the file, and the worker never waits. */
const IN_FLIGHT = 4;

class WorkerSink implements LineSink {
  readonly #worker: Worker;
  /** Replies awaited, in the order of the messages sent. */
  readonly #pending: { resolve: (r: RowWorkerReply) => void; reject: (e: unknown) => void }[] = [];
  readonly #replies: Promise<RowWorkerReply>[] = [];
  #failed: unknown = null;
  #rows = 0;
  #problems = 0;

  constructor(private readonly reader: inventory.VendorFileReader, header: string[], target: CopyTarget, private readonly onCopy: ReadInventoryOptions['onCopy']) {
    const data: RowWorkerData = { header, maxProblems: reader.maxProblemsKept, target };
    this.#worker = startWorker(new URL(`./row-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url), data);
    this.#worker.on('message', (r: RowWorkerReply) => this.#pending.shift()?.resolve(r));
    const fail = (e: unknown) => {
      this.#failed ??= e;
      for (const p of this.#pending.splice(0)) p.reject(e);
    };
    this.#worker.on('error', fail);
    this.#worker.on('exit', (code) => fail(new Error(`the import's worker thread stopped (exit code ${code})`)));
  }

  #send(message: unknown, transfer: ArrayBuffer[]): void {
    if (this.#failed !== null) throw this.#failed;
    this.#replies.push(new Promise<RowWorkerReply>((resolve, reject) => this.#pending.push({ resolve, reject })));
    this.#worker.postMessage(message, transfer);
  }

  async #settle(r: RowWorkerReply): Promise<void> {
    this.#rows = r.rowCount;
    this.#problems = r.problemCount;
    // Once a problem is known nothing more is written: the import will be refused.
    if (r.copy !== null && r.problemCount === 0 && this.reader.problemCount === 0) {
      await this.onCopy(Buffer.from(r.copy, r.copyOffset, r.copyLength));
    }
  }

  async feed(buf: Buffer, start: number, end: number): Promise<void> {
    // A copy of its own, moved to the worker: the source may reuse its chunk.
    const bytes = new Uint8Array(end - start);
    bytes.set(buf.subarray(start, end));
    this.#send({ bytes: bytes.buffer }, [bytes.buffer]);
    while (this.#replies.length >= IN_FLIGHT) await this.#settle(await this.#replies.shift()!);
  }

  async finish(): Promise<void> {
    this.#send({ end: true }, []);
    let last: RowWorkerReply | undefined;
    while (this.#replies.length > 0) {
      last = await this.#replies.shift()!;
      await this.#settle(last);
    }
    this.reader.merge({ rowCount: last!.rowCount, problemCount: last!.problemCount, problems: last!.problems ?? [], line: last!.line ?? 0 });
  }

  rowCount(): number {
    return this.#rows;
  }

  async close(): Promise<void> {
    this.#worker.removeAllListeners('exit');
    await this.#worker.terminate();
  }
}

export async function readInventory(options: ReadInventoryOptions): Promise<ReadInventoryResult> {
  const { reader, onProgress } = options;
  const hash = createHash('sha256');
  const text = new TextDecoder('utf-8', { ignoreBOM: true });
  let sink: LineSink | null = null;
  const header: string[] = [];
  let bytes = 0;
  let lastReport = 0;
  // The unfinished last line of the chunks so far.
  let tail: Buffer | null = null;

  /** Whole lines: the header's, one at a time on this reader; the data lines, to the sink. */
  const lines = async (buf: Buffer, start: number, end: number): Promise<void> => {
    let p = start;
    while (p < end && !reader.headerDone) {
      let lf = buf.indexOf(LF, p);
      if (lf === -1 || lf > end) lf = end;
      const line = text.decode(buf.subarray(p, lf));
      header.push(line);
      reader.push(line);
      p = lf + 1;
    }
    if (p >= end) return;
    sink ??= options.worker === true && reader.columnLayout !== null
      ? new WorkerSink(reader, header, options.target, options.onCopy)
      : new ThreadSink(reader, options.target, options.onCopy);
    await sink.feed(buf, p, end);
  };

  try {
    for await (const chunk of options.source) {
      const buf = asBuffer(chunk);
      hash.update(buf);
      bytes += buf.length;
      const last = buf.lastIndexOf(LF);
      if (last === -1) {
        tail = tail === null ? Buffer.from(buf) : Buffer.concat([tail, buf]);
        continue;
      }
      if (tail !== null) {
        const first = buf.indexOf(LF);
        const line = Buffer.concat([tail, buf.subarray(0, first + 1)]);
        tail = null;
        await lines(line, 0, line.length);
        await lines(buf, first + 1, last + 1);
      } else {
        await lines(buf, 0, last + 1);
      }
      // A copy: the source may reuse its chunk.
      if (last + 1 < buf.length) tail = Buffer.from(buf.subarray(last + 1));
      const rows = (sink as LineSink | null)?.rowCount() ?? 0;
      if (onProgress && rows - lastReport >= 5000) {
        lastReport = rows;
        onProgress(bytes, rows);
      }
    }
    if (tail !== null) await lines(tail, 0, tail.length);
    await (sink as LineSink | null)?.finish();
    reader.end();
  } finally {
    await (sink as LineSink | null)?.close();
  }
  onProgress?.(bytes, reader.rowCount);
  return { bytes, sha256: hash.digest(), worker: (sink as LineSink | null) instanceof WorkerSink };
}
