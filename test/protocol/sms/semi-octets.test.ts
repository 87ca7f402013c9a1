import t from 'tap';
import fc from 'fast-check';
import { fromHex, toHex } from '../../../sim-applet/bytes.js';
import { decodeBcdOctet, decodeSemiOctets, encodeBcdOctet, encodeSemiOctets } from '../../../sim-applet/protocol/sms/semi-octets.js';
import { onlyProtocolErrors, throwsCode } from './expect-error.js';

t.test('TS 23.040 §9.1.2.3: swapped nibbles, F filler for an odd count', async (t) => {
  t.equal(toHex(encodeSemiOctets('1234')), '2143');
  t.equal(toHex(encodeSemiOctets('12345')), '2143f5');
  t.equal(toHex(encodeSemiOctets('')), '');
  t.equal(toHex(encodeSemiOctets('*#abc')), 'badcfe', "'*' 1010, '#' 1011, a-c 1100-1110");
  t.equal(toHex(encodeSemiOctets('*#ABC')), 'badcfe', 'upper case letters accepted');
  t.equal(decodeSemiOctets(fromHex('badcfe'), 5), '*#abc');
  t.equal(decodeSemiOctets(fromHex('2143f5'), 5), '12345');
  t.equal(decodeSemiOctets(fromHex('214305'), 5), '12345', 'the count rules: the filler nibble is not checked');
});

t.test('without a count the digits run to the filler (TS 102 223 §8.1)', async (t) => {
  t.equal(decodeSemiOctets(fromHex('103254')), '012345');
  t.equal(decodeSemiOctets(fromHex('21f3')), '123');
  t.equal(decodeSemiOctets(fromHex('21ffff')), '12', 'only fillers after the end');
  t.equal(decodeSemiOctets(new Uint8Array(0)), '');
});

t.test('bad semi-octets give typed errors', async (t) => {
  throwsCode(t, () => decodeSemiOctets(fromHex('2f43'), 4), 'MALFORMED', 'digits', 'filler inside counted digits');
  throwsCode(t, () => decodeSemiOctets(fromHex('f143')), 'MALFORMED', 'digits', 'digit after the filler');
  throwsCode(t, () => decodeSemiOctets(fromHex('21'), 3), 'TRUNCATED', 'digits', 'count beyond the bytes');
  throwsCode(t, () => encodeSemiOctets('12+3'), 'INVALID_ARGUMENT', 'digits', 'plus sign');
  throwsCode(t, () => encodeSemiOctets(12 as unknown as string), 'INVALID_ARGUMENT', 'digits', 'not a string');
});

t.test('BCD octets (TP-SCTS fields)', async (t) => {
  t.equal(encodeBcdOctet(25, 'x'), 0x52);
  t.equal(encodeBcdOctet(7, 'x'), 0x70);
  t.equal(decodeBcdOctet(0x52, 'x'), 25);
  throwsCode(t, () => decodeBcdOctet(0xa0, 'x'), 'MALFORMED', 'x');
  throwsCode(t, () => decodeBcdOctet(0x0a, 'x'), 'MALFORMED', 'x');
  throwsCode(t, () => encodeBcdOctet(100, 'x'), 'INVALID_ARGUMENT', 'x');
});

const digits = fc.string({ unit: fc.constantFrom(...'0123456789*#abc'), maxLength: 40 });

t.test('property: encode → decode is the identity, with and without a count', async (t) => {
  fc.assert(fc.property(digits, (d) => decodeSemiOctets(encodeSemiOctets(d), d.length) === d && decodeSemiOctets(encodeSemiOctets(d)) === d));
  fc.assert(fc.property(fc.integer({ min: 0, max: 99 }), (v) => decodeBcdOctet(encodeBcdOctet(v, 'v'), 'v') === v));
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 12 }), fc.option(fc.integer({ min: 0, max: 30 }), { nil: undefined }), (bytes, count) =>
      onlyProtocolErrors(() => decodeSemiOctets(bytes, count)),
    ),
  );
  t.pass('round trips hold');
});
