import t from 'tap';
import fc from 'fast-check';
import { fromHex, toHex } from '../../../sim-applet/bytes.js';
import { decodeScts, encodeScts, sctsFromDate, sctsToDate, type Scts } from '../../../sim-applet/protocol/sms/timestamp.js';
import { vectorsOfKind } from '../../helpers/vectors.js';
import { onlyProtocolErrors, throwsCode } from './expect-error.js';

t.test('the TP-SCTS of the command vectors', async (t) => {
  const withSms = vectorsOfKind('command').filter((v) => v.sms_deliver !== undefined);
  t.ok(withSms.length > 0);
  for (const v of withSms) {
    const hex = (v.sms_deliver as { tp_scts: string }).tp_scts;
    const scts = decodeScts(fromHex(hex));
    t.same(scts, { year: 22, month: 7, day: 25, hour: 0, minute: 0, second: 0, tzQuarterHours: 0 }, `${v.id}: 2022-07-25 00:00:00 GMT`);
    t.equal(toHex(encodeScts(scts)), hex);
  }
});

t.test('TS 23.040 §9.2.3.11: swapped digits, time zone in quarter hours with a sign bit', async (t) => {
  const scts: Scts = { year: 21, month: 12, day: 31, hour: 23, minute: 59, second: 58, tzQuarterHours: -20 };
  // -5 h = -20 quarters: tens digit 2 with the sign bit (0x08) in the low nibble, units 0 in the high.
  t.equal(toHex(encodeScts(scts)), '1221133295850a');
  t.same(decodeScts(fromHex('1221133295850a')), scts);
  t.equal(toHex(encodeScts({ ...scts, tzQuarterHours: 32 })).slice(-2), '23', '+8 h');
  t.equal(toHex(encodeScts({ ...scts, tzQuarterHours: 23 })).slice(-2), '32', '+5:45 (Nepal)');
  t.equal(toHex(encodeScts({ ...scts, tzQuarterHours: -79 })).slice(-2), '9f', 'the widest negative zone');
  t.equal(decodeScts(fromHex('12211332958508')).tzQuarterHours, 0, 'a negative zero reads as 0');
  t.equal(decodeScts(fromHex('ffff1221133295850a'), 2).hour, 23, 'read at an offset');
});

t.test('to and from Date, without reading the clock', async (t) => {
  const scts: Scts = { year: 24, month: 2, day: 29, hour: 1, minute: 30, second: 0, tzQuarterHours: 8 };
  t.equal(sctsToDate(scts).toISOString(), '2024-02-28T23:30:00.000Z', 'local 01:30 at +2 h');
  t.same(sctsFromDate(new Date('2024-02-28T23:30:00Z'), 8), scts);
  t.same(sctsFromDate(new Date('2024-02-28T23:30:00Z')).day, 28);
  throwsCode(t, () => sctsFromDate(new Date('1999-12-31T00:00:00Z')), 'INVALID_ARGUMENT', 'date');
  throwsCode(t, () => sctsFromDate(new Date(Number.NaN)), 'INVALID_ARGUMENT', 'date');
  throwsCode(t, () => sctsFromDate(new Date(0), 100), 'INVALID_ARGUMENT', 'tzQuarterHours');
});

t.test('bad timestamps give typed errors', async (t) => {
  throwsCode(t, () => decodeScts(fromHex('122113329585')), 'TRUNCATED', 'scts');
  throwsCode(t, () => decodeScts(fromHex('1231133295850a')), 'MALFORMED', 'scts.month', 'month 13');
  throwsCode(t, () => decodeScts(fromHex('1221003295850a')), 'MALFORMED', 'scts.day', 'day 0');
  throwsCode(t, () => decodeScts(fromHex('1a21133295850a')), 'MALFORMED', 'scts.year', 'nibble A');
  throwsCode(t, () => decodeScts(fromHex('122113329585a0')), 'MALFORMED', 'scts.tzQuarterHours', 'zone units A');
  const ok: Scts = { year: 1, month: 1, day: 1, hour: 0, minute: 0, second: 0, tzQuarterHours: 0 };
  throwsCode(t, () => encodeScts({ ...ok, second: 60 }), 'INVALID_ARGUMENT', 'scts.second');
  throwsCode(t, () => encodeScts({ ...ok, year: 2024 }), 'INVALID_ARGUMENT', 'scts.year');
  throwsCode(t, () => encodeScts({ ...ok, tzQuarterHours: 80 }), 'INVALID_ARGUMENT', 'scts.tzQuarterHours');
  throwsCode(t, () => encodeScts({ ...ok, tzQuarterHours: 1.5 }), 'INVALID_ARGUMENT', 'scts.tzQuarterHours');
});

const sctsArb = fc.record({
  year: fc.integer({ min: 0, max: 99 }),
  month: fc.integer({ min: 1, max: 12 }),
  day: fc.integer({ min: 1, max: 31 }),
  hour: fc.integer({ min: 0, max: 23 }),
  minute: fc.integer({ min: 0, max: 59 }),
  second: fc.integer({ min: 0, max: 59 }),
  tzQuarterHours: fc.integer({ min: -79, max: 79 }),
});

t.test('property: encode → decode is the identity; random octets raise only ProtocolError', async (t) => {
  fc.assert(fc.property(sctsArb, (s) => JSON.stringify(decodeScts(encodeScts(s))) === JSON.stringify(s)));
  fc.assert(fc.property(fc.uint8Array({ minLength: 7, maxLength: 7 }), (b) => onlyProtocolErrors(() => decodeScts(b))), { numRuns: 2000 });
  t.pass('round trip holds');
});
