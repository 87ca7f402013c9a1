/**
 * The SMSC's throughput cap per bind: a token bucket refilled at `perSecond` holding a tenth
 * of a second's worth. A submit_sm without a token is answered ESME_RTHROTTLED (SMPP 3.4
 * §5.1.3) and not taken; the ESME is expected to slow down and send it again.
 */
export class ThroughputCap {
  private tokens: number;
  private last = performance.now();
  private readonly capacity: number;

  constructor(readonly perSecond: number) {
    this.capacity = Math.max(1, perSecond / 10);
    this.tokens = this.capacity;
  }

  take(): boolean {
    const now = performance.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
