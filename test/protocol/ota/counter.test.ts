import fc from 'fast-check';
import t from 'tap';
import { checkCounter, MAX_COUNTER, PorStatus, type CounterMode } from '../../../sim-applet/protocol/ota/index.js';

t.test('TS 102 225 §5.1.1 counter rules', async (t) => {
  const cases: [CounterMode, number, number, ReturnType<typeof checkCounter>][] = [
    ['none', 0, 5, { ok: true, next: 5 }],
    ['none', 99, 5, { ok: true, next: 5 }],
    ['no-replay-check', 3, 5, { ok: true, next: 5 }],
    ['no-replay-check', 9, 5, { ok: true, next: 5 }],
    ['higher', 6, 5, { ok: true, next: 6 }],
    ['higher', 100, 5, { ok: true, next: 100 }],
    ['higher', 5, 5, { ok: false, status: PorStatus.COUNTER_LOW }],
    ['higher', 4, 5, { ok: false, status: PorStatus.COUNTER_LOW }],
    ['higher', MAX_COUNTER, MAX_COUNTER - 1, { ok: true, next: MAX_COUNTER }],
    ['one-higher', 6, 5, { ok: true, next: 6 }],
    ['one-higher', 5, 5, { ok: false, status: PorStatus.COUNTER_LOW }],
    ['one-higher', 0, 5, { ok: false, status: PorStatus.COUNTER_LOW }],
    ['one-higher', 7, 5, { ok: false, status: PorStatus.COUNTER_HIGH }],
    ['one-higher', 1, 0, { ok: true, next: 1 }],
    ['higher', MAX_COUNTER, MAX_COUNTER, { ok: false, status: PorStatus.COUNTER_BLOCKED }],
    ['one-higher', 0, MAX_COUNTER, { ok: false, status: PorStatus.COUNTER_BLOCKED }],
    ['none', 0, MAX_COUNTER, { ok: true, next: MAX_COUNTER }],
    ['no-replay-check', 0, MAX_COUNTER, { ok: true, next: MAX_COUNTER }],
  ];
  for (const [mode, received, stored, expected] of cases) {
    t.same(checkCounter(mode, received, stored), expected, `${mode} received ${received} stored ${stored}`);
  }
  t.equal(PorStatus.COUNTER_LOW, 0x02);
  t.equal(PorStatus.COUNTER_HIGH, 0x03);
  t.equal(PorStatus.COUNTER_BLOCKED, 0x04);
});

t.test('properties over the whole 40-bit range', async (t) => {
  const counter = fc.integer({ min: 0, max: MAX_COUNTER });
  fc.assert(
    fc.property(counter, counter, (received, stored) => {
      const higher = checkCounter('higher', received, stored);
      const one = checkCounter('one-higher', received, stored);
      if (stored === MAX_COUNTER) return !higher.ok && higher.status === 4 && !one.ok && one.status === 4;
      const higherOk = higher.ok === received > stored && (!higher.ok || higher.next === received);
      const oneOk = one.ok ? received === stored + 1 && one.next === received : one.status === (received <= stored ? 2 : 3);
      const passive = (['none', 'no-replay-check'] as const).every((m) => {
        const r = checkCounter(m, received, stored);
        return r.ok && r.next === stored;
      });
      return higherOk && oneOk && passive;
    }),
  );
  t.pass('property holds');
});

t.test('bad arguments', async (t) => {
  t.throws(() => checkCounter('higher', -1, 0), { name: 'ProtocolError', code: 'INVALID_ARGUMENT', details: { field: 'received' } });
  t.throws(() => checkCounter('higher', 2 ** 40, 0), { code: 'INVALID_ARGUMENT', details: { field: 'received' } });
  t.throws(() => checkCounter('higher', 1, 1.5), { code: 'INVALID_ARGUMENT', details: { field: 'stored' } });
  t.throws(() => checkCounter('lower' as CounterMode, 1, 0), { code: 'INVALID_ARGUMENT', details: { field: 'mode' } });
});
