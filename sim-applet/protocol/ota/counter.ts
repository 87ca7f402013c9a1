/**
 * The 5-byte replay counter CNTR (TS 102 225 §5.1.1) as a JS number: 40 bits fit a double
 * exactly. `checkCounter` is the receiver's rule, pure: the card keeps the stored value.
 */
import { fail } from '../../errors.js';
import { PorStatus } from './por-status.js';
import type { CounterMode } from './spi.js';

export const COUNTER_LENGTH = 5;
export const MAX_COUNTER = 2 ** 40 - 1;

export type CounterCheck =
  | { ok: true; next: number }
  | {
      ok: false;
      status: typeof PorStatus.COUNTER_LOW | typeof PorStatus.COUNTER_HIGH | typeof PorStatus.COUNTER_BLOCKED;
    };

export function checkCounterValue(value: number, field: string): void {
  if (!Number.isSafeInteger(value) || value < 0 || value > MAX_COUNTER) {
    fail('INVALID_ARGUMENT', `${field} must be an integer from 0 to 2^40-1`, { field, value });
  }
}

/**
 * TS 102 225 §5.1.1 (SPI1 b5b4), the counter `received` in a packet against `stored`:
 * - 'none': not checked, stored unchanged;
 * - 'no-replay-check': counter present but not checked, stored unchanged;
 * - 'higher': must exceed stored (else 02 counter low), then becomes stored;
 * - 'one-higher': must be stored+1 (lower or equal 02, higher 03), then becomes stored.
 * A stored value at 2^40-1 can never be exceeded: checking modes answer 04 counter blocked.
 */
export function checkCounter(mode: CounterMode, received: number, stored: number): CounterCheck {
  checkCounterValue(received, 'received');
  checkCounterValue(stored, 'stored');
  switch (mode) {
    case 'none':
    case 'no-replay-check':
      return { ok: true, next: stored };
    case 'higher':
      if (stored === MAX_COUNTER) return { ok: false, status: PorStatus.COUNTER_BLOCKED };
      return received > stored ? { ok: true, next: received } : { ok: false, status: PorStatus.COUNTER_LOW };
    case 'one-higher':
      if (stored === MAX_COUNTER) return { ok: false, status: PorStatus.COUNTER_BLOCKED };
      if (received <= stored) return { ok: false, status: PorStatus.COUNTER_LOW };
      return received === stored + 1 ? { ok: true, next: received } : { ok: false, status: PorStatus.COUNTER_HIGH };
    default:
      return fail('INVALID_ARGUMENT', 'counter mode must be none, no-replay-check, higher or one-higher', {
        field: 'mode',
        value: mode,
      });
  }
}
