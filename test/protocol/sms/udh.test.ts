import t from 'tap';
import fc from 'fast-check';
import { fromHex, toHex } from '../../../sim-applet/bytes.js';
import {
  concatIe,
  decodeConcatIe,
  encodeUdh,
  findConcat,
  IEI,
  packetIdentifierIe,
  packetKindOf,
  splitUdh,
  udhLength,
  type InformationElement,
} from '../../../sim-applet/protocol/sms/udh.js';
import { vectorById, vectorsOfKind } from '../../helpers/vectors.js';
import { onlyProtocolErrors, throwsCode } from './expect-error.js';

interface UdhExpected {
  ies: Array<{ iei: number; length: number; value: string }>;
  tail: string;
}

t.test('vectors sms-udh-*: IEs kept as read, unknown or not, and the tail', async (t) => {
  const parses = vectorsOfKind('sms').filter((v) => v.id.startsWith('sms-udh-') && v.expected !== undefined);
  t.ok(parses.length >= 4, 'parse vectors present');
  for (const v of parses) {
    const want = v.expected as UdhExpected;
    const { ies, payload } = splitUdh(fromHex(v.input_hex as string));
    t.same(
      ies.map((ie) => ({ iei: ie.iei, length: ie.value.length, value: toHex(ie.value) })),
      want.ies,
      v.id,
    );
    t.equal(toHex(payload), want.tail, `${v.id} tail`);
  }
  const rt = vectorById('sms-udh-roundtrip');
  t.equal(toHex(encodeUdh(splitUdh(fromHex(rt.input_hex as string)).ies)), rt.expected_build_hex);
});

t.test('TS 23.040 concatenation IEs 00 (8-bit reference) and 08 (16-bit)', async (t) => {
  const ie8 = concatIe({ ref: 0xcc, total: 3, seq: 2, refBits: 8 });
  t.same([ie8.iei, toHex(ie8.value)], [0x00, 'cc0302']);
  t.equal(toHex(encodeUdh([ie8])), '050003cc0302', 'the classic 6-octet header');
  const ie16 = concatIe({ ref: 0x1234, total: 2, seq: 1, refBits: 16 });
  t.equal(toHex(encodeUdh([ie16])), '06080412340201');
  t.same(decodeConcatIe(ie8), { ref: 0xcc, total: 3, seq: 2, refBits: 8 });
  t.same(decodeConcatIe(ie16), { ref: 0x1234, total: 2, seq: 1, refBits: 16 });
  const ies = splitUdh(fromHex('0b' + '0003010201' + '080400070201')).ies;
  t.same(findConcat(ies), { ref: 7, total: 2, seq: 1, refBits: 16 }, 'the last concatenation IE counts');
  t.equal(findConcat([packetIdentifierIe('command')]), undefined);
});

t.test('bad concatenation IEs are MALFORMED', async (t) => {
  const cases: Array<[string, string]> = [
    ['000301 00 01', 'total 0'],
    ['000301 02 00', 'seq 0'],
    ['000301 02 03', 'seq over total'],
    ['0002 0102', 'short 8-bit IE'],
    ['0803 000102', 'short 16-bit IE'],
    ['0804 0001 00 01', '16-bit total 0'],
  ];
  for (const [hex, what] of cases) {
    const ie = splitUdh(fromHex(((hex.replace(/ /g, '').length / 2).toString(16).padStart(2, '0')) + hex.replace(/ /g, ''))).ies[0]!;
    t.throws(() => decodeConcatIe(ie), { code: 'MALFORMED' }, what);
  }
  throwsCode(t, () => findConcat(splitUdh(fromHex('050003010001')).ies), 'MALFORMED', 'concat.total');
  throwsCode(t, () => concatIe({ ref: 256, total: 1, seq: 1, refBits: 8 }), 'INVALID_ARGUMENT', 'ref');
  throwsCode(t, () => concatIe({ ref: 1, total: 2, seq: 3, refBits: 8 }), 'INVALID_ARGUMENT', 'concat.seq');
  throwsCode(t, () => concatIe({ ref: 1, total: 1, seq: 1, refBits: 12 as 8 }), 'INVALID_ARGUMENT', 'refBits');
  throwsCode(t, () => decodeConcatIe({ iei: 0x70, value: new Uint8Array(0) }), 'INVALID_ARGUMENT', 'iei');
});

t.test('TS 31.115 packet identifiers 70 and 71', async (t) => {
  t.same([IEI.COMMAND_PACKET, IEI.RESPONSE_PACKET], [0x70, 0x71]);
  t.equal(toHex(encodeUdh([packetIdentifierIe('command')])), '027000');
  t.equal(toHex(encodeUdh([packetIdentifierIe('response')])), '027100');
  t.equal(packetKindOf(splitUdh(fromHex('027000')).ies), 'command');
  t.equal(packetKindOf(splitUdh(fromHex('027100')).ies), 'response');
  t.equal(packetKindOf(splitUdh(fromHex('050003010201')).ies), undefined);
  t.equal(packetKindOf(splitUdh(fromHex('0700030102017000')).ies), 'command', 'after a concatenation IE');
  throwsCode(t, () => packetKindOf(splitUdh(fromHex('03710110')).ies), 'MALFORMED', 'udh.packetIdentifier', 'identifier with data');
  throwsCode(t, () => packetKindOf(splitUdh(fromHex('0470007100')).ies), 'MALFORMED', 'udh.packetIdentifier', 'both identifiers');
  throwsCode(t, () => packetIdentifierIe('other' as 'command'), 'INVALID_ARGUMENT', 'kind');
});

t.test('malformed headers give typed errors', async (t) => {
  throwsCode(t, () => splitUdh(new Uint8Array(0)), 'TRUNCATED', 'udhl', 'no UDHL');
  throwsCode(t, () => splitUdh(fromHex('057000')), 'LENGTH_MISMATCH', 'udhl', 'UDHL beyond the user data');
  throwsCode(t, () => splitUdh(fromHex('03700500aa')), 'LENGTH_MISMATCH', 'udh.ie', 'IE overruns the header');
  throwsCode(t, () => splitUdh(fromHex('037000ff')), 'LENGTH_MISMATCH', 'udh.ie', 'IE header cut by the UDHL');
  throwsCode(t, () => encodeUdh([{ iei: 0x05, value: new Uint8Array(140) }]), 'TOO_LONG', 'udh');
  throwsCode(t, () => encodeUdh([{ iei: 256, value: new Uint8Array(0) }]), 'INVALID_ARGUMENT', 'udh.iei');
  throwsCode(t, () => encodeUdh([{ iei: 1, value: [1] as unknown as Uint8Array }]), 'INVALID_ARGUMENT', 'udh.value');
  throwsCode(t, () => splitUdh('027000' as unknown as Uint8Array), 'INVALID_ARGUMENT', 'ud');
  t.equal(splitUdh(fromHex('00abcd')).ies.length, 0, 'an empty header is allowed');
});

const ieArb = fc.record({ iei: fc.integer({ min: 0, max: 255 }), value: fc.uint8Array({ maxLength: 20 }) });

t.test('property: build → parse is the identity; random bytes raise only ProtocolError', async (t) => {
  fc.assert(
    fc.property(fc.array(ieArb, { maxLength: 6 }), fc.uint8Array({ maxLength: 10 }), (ies: InformationElement[], tail) => {
      const header = encodeUdh(ies);
      const ud = new Uint8Array(header.length + tail.length);
      ud.set(header);
      ud.set(tail, header.length);
      const split = splitUdh(ud);
      return (
        header.length === udhLength(ies) &&
        split.headerLength === header.length &&
        toHex(split.payload) === toHex(tail) &&
        split.ies.length === ies.length &&
        split.ies.every((ie, i) => ie.iei === ies[i]!.iei && toHex(ie.value) === toHex(ies[i]!.value))
      );
    }),
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 40 }), (b) =>
      onlyProtocolErrors(() => {
        const { ies } = splitUdh(b);
        findConcat(ies);
        packetKindOf(ies);
      }),
    ),
    { numRuns: 3000 },
  );
  t.pass('round trip holds');
});
