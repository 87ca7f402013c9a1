import t from 'tap';
import fc from 'fast-check';
import { concatBytes, fromHex, toHex } from '../../../sim-applet/bytes.js';
import { encodeGsm7Text } from '../../../sim-applet/protocol/sms/gsm7.js';
import { concatIe, packetIdentifierIe, type InformationElement } from '../../../sim-applet/protocol/sms/udh.js';
import { decodeUserData, encodeUserData } from '../../../sim-applet/protocol/sms/user-data.js';
import { onlyProtocolErrors, throwsCode } from './expect-error.js';

/** A TPDU tail: one filler byte, then TP-UDL and the UD. */
function tail(udl: number, ud: string): Uint8Array {
  return concatBytes(Uint8Array.of(0xee, udl), fromHex(ud));
}

t.test('8-bit: TP-UDL counts every UD octet, header included', async (t) => {
  const enc = encodeUserData(0xf6, { udh: [packetIdentifierIe('command')], payload: fromHex('0011223344') });
  t.same([enc.udhi, enc.udl, toHex(enc.ud)], [true, 8, '0270000011223344']);
  const dec = decodeUserData(tail(8, '0270000011223344'), 1, 0xf6, true);
  t.same([dec.udl, toHex(dec.payload), dec.udh?.[0]?.iei], [8, '0011223344', 0x70]);
  const raw = encodeUserData(0xf6, { ud: fromHex('0270000011'), udhi: true });
  t.same([raw.udhi, raw.udl, toHex(raw.ud)], [true, 5, '0270000011'], 'raw UD as it goes on the air');
  const ucs2 = encodeUserData(0x08, { payload: fromHex('00480069') });
  t.same([ucs2.udhi, ucs2.udl], [false, 4], 'UCS2 counts octets');
  t.equal(decodeUserData(tail(0, ''), 1, 0xf6, false).payload.length, 0, 'empty user data');
});

t.test('GSM 7-bit: TP-UDL counts septets; a UDH is counted in septets with its fill bits', async (t) => {
  const plain = encodeUserData(0x00, { payload: encodeGsm7Text('hellohello') });
  t.same([plain.udl, toHex(plain.ud)], [10, 'e8329bfd4697d9ec37']);
  // A 6-octet UDH is 48 bits: one fill bit makes it 7 septets, so 'H' starts at bit 49.
  const udh = [concatIe({ ref: 0xcc, total: 2, seq: 1, refBits: 8 })];
  const withUdh = encodeUserData(0x00, { udh, payload: encodeGsm7Text('Hi') });
  t.same([withUdh.udhi, withUdh.udl, toHex(withUdh.ud)], [true, 9, '050003cc02019069']);
  const back = decodeUserData(tail(9, '050003cc02019069'), 1, 0x00, true);
  t.same([toHex(back.payload), back.udh?.length], [toHex(encodeGsm7Text('Hi')), 1]);
  // A 7-octet header is exactly 8 septets: no fill bits.
  const seven = encodeUserData(0x00, { udh: [{ iei: 0x24, value: fromHex('01020304') }], payload: encodeGsm7Text('A') });
  t.same([seven.udl, toHex(seven.ud)], [9, '06240401020304' + '41']);
  // An 8-octet header is 64 bits: six fill bits make it 10 septets.
  const eight = encodeUserData(0x00, { udh: [{ iei: 0x24, value: fromHex('0102030405') }], payload: encodeGsm7Text('A') });
  t.same([eight.udl, toHex(eight.ud)], [11, '0724050102030405' + '4010']);
  const maxed = encodeUserData(0x00, { udh, payload: new Uint8Array(153) });
  t.same([maxed.udl, maxed.ud.length], [160, 140], '153 septets after a concatenation header fill one SMS');
});

t.test('malformed user data gives typed errors', async (t) => {
  throwsCode(t, () => decodeUserData(Uint8Array.of(0xee), 1, 0xf6, false), 'TRUNCATED', 'udl', 'no TP-UDL');
  throwsCode(t, () => decodeUserData(tail(5, '0102'), 1, 0xf6, false), 'LENGTH_MISMATCH', 'udl', 'UDL beyond the bytes');
  throwsCode(t, () => decodeUserData(tail(1, '0102'), 1, 0xf6, false), 'TRAILING_BYTES', 'ud', 'bytes after the UD');
  throwsCode(t, () => decodeUserData(tail(141, '00'.repeat(141)), 1, 0xf6, false), 'TOO_LONG', 'udl', 'UDL 141 octets');
  throwsCode(t, () => decodeUserData(tail(161, '00'.repeat(141)), 1, 0x00, false), 'TOO_LONG', 'udl', 'UDL 161 septets');
  throwsCode(t, () => decodeUserData(tail(9, '00'.repeat(7)), 1, 0x00, false), 'LENGTH_MISMATCH', 'udl', '9 septets need 8 octets');
  throwsCode(t, () => decodeUserData(tail(0, ''), 1, 0xf6, true), 'LENGTH_MISMATCH', 'udhl', 'UDHI with no user data');
  throwsCode(t, () => decodeUserData(tail(3, '057000'), 1, 0xf6, true), 'LENGTH_MISMATCH', 'udhl', 'UDHL beyond TP-UDL');
  throwsCode(t, () => decodeUserData(tail(4, '03700500'), 1, 0xf6, true), 'LENGTH_MISMATCH', 'udh.ie', 'IE overruns the header');
  throwsCode(t, () => decodeUserData(tail(7, '06240401020304'), 1, 0x00, true), 'LENGTH_MISMATCH', 'udhl', '7-bit header longer than TP-UDL septets');
  throwsCode(t, () => encodeUserData(0xf6, { payload: new Uint8Array(138), udh: [packetIdentifierIe('command')] }), 'TOO_LONG', 'ud');
  throwsCode(t, () => encodeUserData(0x00, { payload: new Uint8Array(161) }), 'TOO_LONG', 'ud');
  throwsCode(t, () => encodeUserData(0x00, { ud: fromHex('00'), udhi: false }), 'INVALID_ARGUMENT', 'ud', 'raw UD with a 7-bit coding');
  throwsCode(t, () => encodeUserData(0xf6, { ud: fromHex('0570'), udhi: true }), 'LENGTH_MISMATCH', 'udhl', 'raw UD with a bad header');
  throwsCode(t, () => encodeUserData(0xf6, { ud: new Uint8Array(141), udhi: false }), 'TOO_LONG', 'ud');
  throwsCode(t, () => encodeUserData(0xf6, {} as { ud: Uint8Array; udhi: boolean }), 'INVALID_ARGUMENT', 'ud');
  throwsCode(t, () => encodeUserData(0x00, { payload: Uint8Array.of(0x80) }), 'INVALID_ARGUMENT', 'septets');
});

const ies = fc.option(fc.array(fc.record({ iei: fc.integer({ min: 0, max: 255 }), value: fc.uint8Array({ maxLength: 8 }) }), { maxLength: 3 }), { nil: undefined });

t.test('property: encode → decode is the identity for every coding', async (t) => {
  fc.assert(
    fc.property(fc.constantFrom(0x00, 0xf6, 0x08, 0xf0), ies, fc.uint8Array({ max: 127, maxLength: 160 }), (dcs, udh: InformationElement[] | undefined, payload) => {
      let enc;
      try {
        enc = encodeUserData(dcs, { udh, payload });
      } catch (e) {
        return (e as { code?: string }).code === 'TOO_LONG';
      }
      const dec = decodeUserData(concatBytes(Uint8Array.of(enc.udl), enc.ud), 0, dcs, enc.udhi);
      return (
        dec.udl === enc.udl &&
        toHex(dec.payload) === toHex(payload) &&
        (udh === undefined ? dec.udh === undefined : dec.udh?.length === udh.length)
      );
    }),
    { numRuns: 500 },
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 170 }), fc.integer({ min: 0, max: 255 }), fc.boolean(), (b, dcs, udhi) =>
      onlyProtocolErrors(() => decodeUserData(b, 0, dcs, udhi)),
    ),
    { numRuns: 2000 },
  );
  t.pass('round trip holds');
});
