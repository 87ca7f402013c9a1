/**
 * The send window of one bind (SMPP 3.4 §2.8: an ESME may have several requests outstanding
 * before their responses come back; the SMSC decides how many it accepts). `acquire` waits for
 * a free slot; the limit shrinks by half when the SMSC throttles (ESME_RTHROTTLED,
 * ESME_RMSGQFUL) and grows back by one per window's worth of accepted requests, as TCP's
 * congestion window does, up to the configured size.
 */
export class SendWindow {
  private outstanding = 0;
  private current: number;
  private credit = 0;
  private readonly waiters: Array<() => void> = [];

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError('the window size must be a positive integer');
    this.current = size;
  }

  get limit(): number {
    return this.current;
  }

  get inFlight(): number {
    return this.outstanding;
  }

  get free(): number {
    return Math.max(0, this.current - this.outstanding);
  }

  /** Resolves once a slot is taken; pair every call with one `release`. */
  acquire(): Promise<void> {
    if (this.outstanding < this.current && this.waiters.length === 0) {
      this.outstanding++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiters.push(() => {
      this.outstanding++;
      resolve();
    }));
  }

  release(): void {
    this.outstanding--;
    this.wake();
  }

  /** The SMSC took a request: grow back towards the configured size. */
  accepted(): void {
    if (this.current >= this.size) return;
    this.credit += 1 / this.current;
    if (this.credit >= 1) {
      this.credit = 0;
      this.current++;
      this.wake();
    }
  }

  /** The SMSC throttled: halve the window (never below one). */
  throttled(): void {
    this.current = Math.max(1, Math.floor(this.current / 2));
    this.credit = 0;
  }

  private wake(): void {
    while (this.waiters.length > 0 && this.outstanding < this.current) this.waiters.shift()!();
  }
}
