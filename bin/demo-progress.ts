/**
 * The demo's progress bar on stderr: redrawn in place on a terminal, a line every few
 * seconds (and at each change of phase) otherwise, so a log stays readable.
 */
const WIDTH = 30;
const LINE_EVERY_MS = 3000;

/** GET /v1/provisioning-batches/{id}, the fields the demo reads. */
export interface BatchView {
  id: string;
  state: 'keygen' | 'anchoring' | 'identity' | 'completed' | 'failed';
  simCount: number;
  counts: Record<'queued' | 'keygen-sent' | 'keyed' | 'anchored' | 'identity-sent' | 'done' | 'failed' | 'push-failed', number>;
  finished: number;
  throughput: number;
  estimatedCompletion: string | null;
  chain: {
    batchId: string;
    merkleRoot: string | null;
    leafCount: number | null;
    chainId: string | null;
    registry: string | null;
    transactionHash: string | null;
    gasUsed: number | null;
  };
  failures: { iccid: string; state: string; code: string; reason: string }[];
  createdAt: string;
  keygenFinishedAt: string | null;
  anchoredAt: string | null;
  completedAt: string | null;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

export class BatchProgressBar {
  private readonly tty = process.stderr.isTTY === true;
  private readonly started = Date.now();
  private lastDraw = 0;
  private lastLine = '';
  private lastPhase = '';

  constructor(private readonly label: string, private readonly total: number) {}

  /** Rows read so far (an import). */
  rows(n: number): void {
    this.draw(this.label, n / this.total, `${fmt(n)}/${fmt(this.total)} rows`, n);
  }

  /** Items checked so far. */
  count(n: number): void {
    this.draw(this.label, n / this.total, `${fmt(n)}/${fmt(this.total)}`, n);
  }

  /**
   * A provisioning batch: half the bar for the keys (SIMs past key generation), half for the
   * identities (SIMs finished), so the bar moves through both OTA rounds.
   */
  batch(b: BatchView): void {
    const c = b.counts;
    const keyed = b.simCount - c.queued - c['keygen-sent'];
    const fraction = b.simCount > 0 ? (keyed + b.finished) / (2 * b.simCount) : 1;
    const eta = b.estimatedCompletion ? Math.max(0, Math.round((Date.parse(b.estimatedCompletion) - Date.now()) / 1000)) : null;
    const detail = `${b.state.padEnd(9)} keyed ${fmt(keyed)}, done ${fmt(c.done)}, failed ${fmt(c.failed + c['push-failed'])}` +
      `${b.throughput > 0 ? `, ${fmt(b.throughput)} SIMs/s` : ''}${eta !== null && b.state !== 'completed' ? `, ETA ${eta} s` : ''}`;
    this.draw(this.label, fraction, detail, null, b.state);
  }

  done(): void {
    if (this.tty) process.stderr.write('\n');
    else if (this.lastLine) process.stderr.write(`${this.lastLine}\n`);
    this.lastLine = '';
  }

  private draw(label: string, fraction: number, detail: string, perSecondOf: number | null, phase = ''): void {
    const f = Math.max(0, Math.min(1, fraction));
    const seconds = (Date.now() - this.started) / 1000;
    const rate = perSecondOf !== null && seconds > 0 ? `, ${fmt(perSecondOf / seconds)}/s` : '';
    const line = `${label.padEnd(9)} [${'#'.repeat(Math.round(f * WIDTH)).padEnd(WIDTH, '.')}] ${(f * 100).toFixed(0).padStart(3)}%  ${detail}${rate}  ${seconds.toFixed(0)} s`;
    const now = Date.now();
    if (this.tty) {
      if (now - this.lastDraw >= 100 || f === 1) {
        process.stderr.write(`\r${line}\x1b[K`);
        this.lastDraw = now;
      }
      this.lastLine = line;
      return;
    }
    if (now - this.lastDraw >= LINE_EVERY_MS || phase !== this.lastPhase) {
      process.stderr.write(`${line}\n`);
      this.lastDraw = now;
      this.lastLine = '';
    } else {
      this.lastLine = line;
    }
    this.lastPhase = phase;
  }
}
