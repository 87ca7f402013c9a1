/**
 * A messages-per-second cap per bind (SMSC contracts sell a throughput per bind): a token
 * bucket holding at most one second's worth, so a burst never exceeds the cap by more than
 * that. `take` resolves when a token is available.
 */
export class RateLimit {
  private tokens: number;
  private last = performance.now();
  private queue: Promise<void> = Promise.resolve();

  constructor(readonly perSecond: number) {
    if (!(perSecond > 0)) throw new RangeError('the rate must be positive');
    this.tokens = Math.min(perSecond, 1);
  }

  take(): Promise<void> {
    // Chained so that waiters are served in order.
    this.queue = this.queue.then(() => this.wait());
    return this.queue;
  }

  private async wait(): Promise<void> {
    for (;;) {
      const now = performance.now();
      this.tokens = Math.min(this.perSecond, this.tokens + ((now - this.last) / 1000) * this.perSecond);
      this.last = now;
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      await new Promise((r) => setTimeout(r, Math.max(1, ((1 - this.tokens) / this.perSecond) * 1000)));
    }
  }
}
