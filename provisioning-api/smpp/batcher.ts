/**
 * Group writes that arrive one by one (a receipt, a PoR, a submit_sm_resp) into one
 * statement per batch: the database sees a few statements a second per kind instead of
 * thousands. `add` resolves when the batch holding the item is committed; the SMPP layer
 * answers deliver_sm only then, so nothing acknowledged to the SMSC is unrecorded. A batch
 * that dies in a deadlock or serialization failure is run again.
 */
import { sqlState } from '../db/pool.js';

export interface BatcherOptions {
  /** Items per statement at most. Default 500. */
  maxItems?: number;
  /** Wait this long for company before writing. Default 2 ms. */
  delayMs?: number;
}

const RETRYABLE = new Set(['40P01', '40001']);

export class Batcher<T, R = void> {
  private queue: Array<{ item: T; resolve(r: R): void; reject(e: unknown): void }> = [];
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private readonly maxItems: number;
  private readonly delayMs: number;

  constructor(private readonly write: (items: T[]) => Promise<R[]>, options: BatcherOptions = {}) {
    this.maxItems = options.maxItems ?? 500;
    this.delayMs = options.delayMs ?? 2;
  }

  add(item: T): Promise<R> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  /** Resolves when everything added so far is written. */
  async drain(): Promise<void> {
    while (this.queue.length > 0 || this.running) await new Promise((r) => setTimeout(r, 5));
  }

  private schedule(): void {
    if (this.running || this.timer !== null) return;
    if (this.queue.length >= this.maxItems) {
      void this.flush();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, this.delayMs);
  }

  private async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.running || this.queue.length === 0) return;
    this.running = true;
    const batch = this.queue.splice(0, this.maxItems);
    try {
      const results = await this.writeWithRetry(batch.map((b) => b.item));
      batch.forEach((b, i) => b.resolve(results[i] as R));
    } catch (e) {
      for (const b of batch) b.reject(e);
    } finally {
      this.running = false;
      if (this.queue.length > 0) this.schedule();
    }
  }

  private async writeWithRetry(items: T[]): Promise<R[]> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.write(items);
      } catch (e) {
        const state = sqlState(e);
        if (state === undefined || !RETRYABLE.has(state) || attempt >= 5) throw e;
        await new Promise((r) => setTimeout(r, 5 * 2 ** attempt * Math.random()));
      }
    }
  }
}
