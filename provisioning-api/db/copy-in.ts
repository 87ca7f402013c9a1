/**
 * One COPY ... FROM STDIN on a client, fed with whole buffers. Up to `highWaterMark` bytes
 * wait in the process before a write waits for the socket, so that the server always has
 * rows to work on while this process prepares the next ones (the two run on different
 * cores). A server error (a unique violation, say) fails the next write and `end()`;
 * `abort()` sends CopyFail, after which the transaction can only roll back.
 */
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import copyStreams from 'pg-copy-streams';
import type { PoolClient } from './pool.js';

export class CopyIn {
  private readonly stream: ReturnType<typeof copyStreams.from>;
  private readonly done: Promise<void>;
  private failure: unknown = null;

  constructor(client: PoolClient, sql: string, highWaterMark = 4 << 20) {
    this.stream = client.query(copyStreams.from(sql, { highWaterMark }));
    this.done = finished(this.stream).catch((e: unknown) => {
      this.failure ??= e;
      throw e;
    });
    this.done.catch(() => undefined);
  }

  /** The server's error, once the COPY has failed. */
  get error(): unknown {
    return this.failure;
  }

  async write(chunk: Buffer): Promise<void> {
    if (this.failure !== null) throw this.failure;
    if (!this.stream.write(chunk)) await Promise.race([once(this.stream, 'drain'), this.done]);
  }

  /** Finish the COPY; resolves with the rows the server took. */
  async end(): Promise<number> {
    if (this.failure !== null) throw this.failure;
    this.stream.end();
    await this.done;
    return this.stream.rowCount;
  }

  /** Give the COPY up (CopyFail): the server discards it and the transaction must roll back. */
  async abort(reason: string): Promise<void> {
    if (this.failure === null) this.stream.destroy(new Error(reason));
    await this.done.catch(() => undefined);
  }
}
