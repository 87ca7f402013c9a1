import t from 'tap';
import fc from 'fast-check';
import { fromHex, toHex } from '../../../sim-applet/bytes.js';
import { decodeGsm7Text, encodeGsm7Text, packedLength, packSeptets, unpackSeptets } from '../../../sim-applet/protocol/sms/gsm7.js';
import { throwsCode } from './expect-error.js';

t.test('TS 23.038 §6.1.2.1 packing: the textbook "hellohello"', async (t) => {
  const packed = packSeptets(encodeGsm7Text('hellohello'));
  t.equal(toHex(packed), 'e8329bfd4697d9ec37');
  t.equal(decodeGsm7Text(unpackSeptets(fromHex('e8329bfd4697d9ec37'), 10)), 'hellohello');
  t.equal(toHex(packSeptets(encodeGsm7Text('ABC'))), '41e110');
  t.equal(packedLength(8), 7, 'eight septets fill seven octets');
  t.equal(packedLength(1, 1), 1, 'one fill bit and a septet fit one octet');
});

t.test('default alphabet and extension table', async (t) => {
  t.equal(toHex(encodeGsm7Text('@£$')), '000102');
  t.equal(toHex(encodeGsm7Text('€[]')), '1b651b3c1b3e', 'extension characters are escaped');
  t.equal(decodeGsm7Text(fromHex('1b651b3c')), '€[');
  t.equal(decodeGsm7Text(fromHex('1b41')), 'A', 'an undefined extension shows the default character');
  t.equal(decodeGsm7Text(fromHex('411b')), 'A', 'a lone trailing escape is dropped');
  const all = Uint8Array.from({ length: 128 }, (_, i) => i).filter((i) => i !== 0x1b);
  t.equal(toHex(encodeGsm7Text(decodeGsm7Text(all))), toHex(all), 'every default character maps back to its septet');
  throwsCode(t, () => encodeGsm7Text('ü✓'), 'INVALID_ARGUMENT', 'text', 'character outside the alphabet');
  throwsCode(t, () => packSeptets(Uint8Array.of(0x80)), 'INVALID_ARGUMENT', 'septets');
  throwsCode(t, () => unpackSeptets(fromHex('ff'), 2), 'TRUNCATED', 'septets');
});

t.test('property: pack → unpack is the identity at any bit offset', async (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ max: 127, maxLength: 170 }), fc.integer({ min: 0, max: 7 }), (septets, offset) => {
      const packed = packSeptets(septets, offset);
      return packed.length === packedLength(septets.length, offset) && toHex(unpackSeptets(packed, septets.length, offset)) === toHex(septets);
    }),
  );
  t.pass('round trip holds');
});
