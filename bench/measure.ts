/**
 * Timing helpers for benchmarks: run an operation in rounds for a fixed time, report the
 * median rate. One core: nothing here spawns workers.
 */
export interface Rate {
  /** Median operations per second over the rounds. */
  median: number;
  rounds: number[];
}

/**
 * Rate of `op` (called `batch` times per timing sample) over `rounds` rounds of about
 * `roundMs` each, after a warm-up round.
 */
export function measureRate(op: () => void, options: { rounds?: number; roundMs?: number; batch?: number } = {}): Rate {
  const rounds = options.rounds ?? 7;
  const roundMs = options.roundMs ?? 400;
  const batch = options.batch ?? 100;
  const one = (): number => {
    let n = 0;
    const start = process.hrtime.bigint();
    const limit = start + BigInt(roundMs) * 1_000_000n;
    let now = start;
    while (now < limit) {
      for (let i = 0; i < batch; i++) op();
      n += batch;
      now = process.hrtime.bigint();
    }
    return n / (Number(now - start) / 1e9);
  };
  one();
  const results: number[] = [];
  for (let r = 0; r < rounds; r++) results.push(one());
  return { median: median(results), rounds: results };
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function fmtRate(perSecond: number): string {
  return `${Math.round(perSecond).toLocaleString('en-US')}/s`;
}
