import t from 'tap';
import fc from 'fast-check';
import { fromHex, toHex } from '../../../sim-applet/bytes.js';
import {
  decodeValidityPeriod,
  encodeValidityPeriod,
  relativeVpFor,
  relativeVpMinutes,
  vpFormatOf,
  type ValidityPeriod,
} from '../../../sim-applet/protocol/sms/validity.js';
import { throwsCode } from './expect-error.js';

t.test('TS 23.040 §9.2.3.12.1 relative validity period', async (t) => {
  t.equal(relativeVpMinutes(0), 5);
  t.equal(relativeVpMinutes(143), 12 * 60);
  t.equal(relativeVpMinutes(144), 12 * 60 + 30);
  t.equal(relativeVpMinutes(167), 24 * 60, 'A7: one day (the vCard vector)');
  t.equal(relativeVpMinutes(168), 2 * 1440);
  t.equal(relativeVpMinutes(196), 30 * 1440);
  t.equal(relativeVpMinutes(197), 5 * 7 * 1440);
  t.equal(relativeVpMinutes(255), 63 * 7 * 1440);
  for (let v = 0; v < 256; v++) t.equal(relativeVpFor(relativeVpMinutes(v)), v, `octet ${v} is the smallest for its duration`);
  t.equal(relativeVpFor(1e9), 255, 'longer than 63 weeks saturates');
  throwsCode(t, () => relativeVpMinutes(256), 'INVALID_ARGUMENT', 'vp');
  throwsCode(t, () => relativeVpFor(-1), 'INVALID_ARGUMENT', 'minutes');
});

t.test('the four TP-VPF formats', async (t) => {
  t.same([vpFormatOf(0), vpFormatOf(1), vpFormatOf(2), vpFormatOf(3)], ['none', 'enhanced', 'relative', 'absolute']);
  const cases: Array<[ValidityPeriod, string]> = [
    [{ format: 'none' }, ''],
    [{ format: 'relative', value: 0xa7 }, 'a7'],
    [{ format: 'enhanced', octets: fromHex('01020304050607') }, '01020304050607'],
    [{ format: 'absolute', timestamp: { year: 25, month: 1, day: 2, hour: 3, minute: 4, second: 5, tzQuarterHours: 4 } }, '52102030405040'],
  ];
  for (const [vp, hex] of cases) {
    t.equal(toHex(encodeValidityPeriod(vp)), hex, vp.format);
    const { vp: back, next } = decodeValidityPeriod(fromHex('ff' + hex), 1, vp.format);
    t.equal(next, 1 + hex.length / 2);
    t.equal(JSON.stringify({ ...back, octets: undefined }), JSON.stringify({ ...vp, octets: undefined }));
  }
  throwsCode(t, () => decodeValidityPeriod(fromHex('01'), 1, 'relative'), 'TRUNCATED', 'vp');
  throwsCode(t, () => decodeValidityPeriod(fromHex('0102'), 0, 'enhanced'), 'TRUNCATED', 'vp');
  throwsCode(t, () => decodeValidityPeriod(fromHex('0102'), 0, 'absolute'), 'TRUNCATED', 'vp.timestamp');
  throwsCode(t, () => encodeValidityPeriod({ format: 'relative', value: 300 }), 'INVALID_ARGUMENT', 'vp.value');
  throwsCode(t, () => encodeValidityPeriod({ format: 'enhanced', octets: new Uint8Array(6) }), 'INVALID_ARGUMENT', 'vp.octets');
  throwsCode(t, () => encodeValidityPeriod({ format: 'weekly' } as unknown as ValidityPeriod), 'INVALID_ARGUMENT', 'vp.format');
});

t.test('property: relativeVpFor covers the duration asked', async (t) => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 63 * 7 * 1440 }), (m) => relativeVpMinutes(relativeVpFor(m)) >= m));
  t.pass('covers');
});
