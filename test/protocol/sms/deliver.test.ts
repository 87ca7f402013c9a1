import t from 'tap';
import fc from 'fast-check';
import { fromHex, toHex } from '../../../sim-applet/bytes.js';
import { type Address } from '../../../sim-applet/protocol/sms/address.js';
import { decodeSmsDeliver, encodeSmsDeliver } from '../../../sim-applet/protocol/sms/deliver.js';
import { decodeGsm7Text, encodeGsm7Text } from '../../../sim-applet/protocol/sms/gsm7.js';
import { decodeScts } from '../../../sim-applet/protocol/sms/timestamp.js';
import { findConcat, packetIdentifierIe, packetKindOf } from '../../../sim-applet/protocol/sms/udh.js';
import { vectorById, vectorsOfKind } from '../../helpers/vectors.js';
import { addressArb, sameIes, sctsArb, userDataArb } from './arbitraries.js';
import { onlyProtocolErrors, throwsCode } from './expect-error.js';

interface SmsDeliverFields {
  tp_oa: Address;
  tp_pid: string;
  tp_dcs: string;
  tp_scts: string;
  tp_udhi: boolean;
  tp_udl_in_source: number;
}

t.test('vector sms-deliver-sim-dl: PID 7F, DCS F6, alphanumeric OA', async (t) => {
  const v = vectorById('sms-deliver-sim-dl');
  const want = v.expected as Record<string, number | boolean>;
  const extra = v.decoded_extra_by_pysim as Record<string, string>;
  const tpdu = fromHex(v.input_hex as string);
  const d = decodeSmsDeliver(tpdu);
  t.same(
    { tp_mti: 0, tp_mms: d.mms, tp_lp: d.lp, tp_rp: d.rp, tp_udhi: d.udhi, tp_sri: d.sri, tp_pid: d.pid, tp_dcs: d.dcs, tp_udl: d.udl },
    want,
  );
  t.equal(toHex(d.ud), extra.tp_ud);
  t.equal(toHex(d.payload), extra.tp_ud, 'no UDH: the payload is the UD');
  t.equal(d.udh, undefined);
  t.same(d.scts, decodeScts(fromHex(extra.tp_scts!)));
  const [, ton, npi, bcd] = /TON=(\w+), NPI=(\w+), (\w+)\)/.exec(extra.tp_oa!)!;
  t.same([d.oa.ton, d.oa.npi], [ton, npi]);
  // pySim shows the OA value as swapped BCD; the same octets read as 7-bit text give the sender's name.
  const swapped = toHex(tpdu.subarray(3, 3 + bcd!.length / 2)).replace(/(.)(.)/g, '$2$1');
  t.equal(swapped, bcd);
  t.equal(d.oa.digits, 'ekit');
});

t.test('command vectors: SMS-DELIVER from their fields reproduces the spec UDL TPDU', async (t) => {
  const vs = vectorsOfKind('command').filter((v) => v.sms_deliver !== undefined);
  t.ok(vs.length > 0, 'vectors with sms_deliver present');
  for (const v of vs) {
    const f = v.sms_deliver as SmsDeliverFields;
    const header = { oa: f.tp_oa, pid: parseInt(f.tp_pid, 16), dcs: parseInt(f.tp_dcs, 16), scts: decodeScts(fromHex(f.tp_scts)) };
    const raw = encodeSmsDeliver({ ...header, ud: fromHex(v.expected_user_data_hex as string), udhi: f.tp_udhi });
    t.equal(toHex(raw), v.expected_sms_deliver_tpdu_spec_udl, `${v.id}: from the user data`);
    const structured = encodeSmsDeliver({ ...header, udh: [packetIdentifierIe('command')], payload: fromHex(v.expected_packet_hex_spec as string) });
    t.equal(toHex(structured), v.expected_sms_deliver_tpdu_spec_udl, `${v.id}: from UDH and packet`);
    const d = decodeSmsDeliver(fromHex(v.expected_sms_deliver_tpdu_spec_udl as string));
    t.same([d.oa.digits, d.oa.ton, d.oa.npi, d.pid, d.dcs, d.udhi, d.mms], [f.tp_oa.digits, f.tp_oa.ton, f.tp_oa.npi, 0x7f, 0xf6, true, false]);
    t.equal(packetKindOf(d.udh!), 'command');
    t.equal(toHex(d.payload), v.expected_packet_hex_spec);
    // The source's TPDU says UDL 3 yet carries every octet: TS 23.040 reads the rest as trailing bytes.
    t.equal(f.tp_udl_in_source, 3);
    throwsCode(t, () => decodeSmsDeliver(fromHex(v.expected_sms_deliver_tpdu_as_in_source as string)), 'TRAILING_BYTES', 'ud', `${v.id} as in source`);
  }
});

t.test('vector frame-proactive-comment: the TPDU parses', async (t) => {
  const v = vectorById('frame-proactive-comment');
  const fields = v.tpdu_fields as Record<string, string>;
  const d = decodeSmsDeliver(fromHex(v.tpdu_hex as string));
  t.same([d.oa.digits, d.oa.ton, d.oa.npi], ['1122', 'unknown', 'isdn_e164']);
  t.same([d.pid, d.dcs, d.udl], [parseInt(fields.tp_pid!, 16), parseInt(fields.tp_dcs!, 16), 0x4d]);
  t.same(d.scts, decodeScts(fromHex(fields.tp_scts!)));
  t.equal(toHex(d.ud.subarray(0, 3)), fields.udh);
  t.equal(packetKindOf(d.udh!), 'command');
  t.equal(toHex(d.payload.subarray(0, 2)), fields.cpl);
  t.equal((d.payload[0]! << 8) | d.payload[1]!, d.payload.length - 2, 'CPL counts the bytes after itself');
  t.equal(toHex(encodeSmsDeliver(d)), v.tpdu_hex, 're-encodes byte for byte');
});

t.test('GSM 7-bit with a concatenation UDH and its fill bit (gammu tests, part 1 of 8)', async (t) => {
  // From gammu's PDU decoder test (gammu/gammu tests/), SMSC address prefix removed.
  const hex =
    '400b918406290000f4000002219221351140a005000363080140ccb7bcdc06a5e1f37a1b447eb3df72d03c4d0785db653a0b347ebbe7e531bd4cafcb4161721a9e9e8fd3ee33a8cc4ed35d206899cd2ebbe9e579bc5e06d9d3f47019e42ec7eb6550f95c9ed3c37316c81cae8fd3e2fa1c5496bfe7a0b49b054a87c775767a0e4ac3e7f5b60b34adcfe16537393d9f9741e4f4d99d9ecfd36d10fc2da7d3d3';
  const d = decodeSmsDeliver(fromHex(hex));
  t.same([d.oa.ton, d.oa.digits, d.udl, d.payload.length], ['international', '48609200004', 160, 153]);
  t.same(findConcat(d.udh!), { ref: 0x63, total: 8, seq: 1, refBits: 8 });
  t.equal(
    decodeGsm7Text(d.payload),
    ' Lorem ipsum dolor sit amet, consectetur adipiscing elit. Pellentesque vitae neque egestas, faucibus eros in, iaculis ipsum. Suspendisse dignissim portti',
  );
  t.equal(toHex(encodeSmsDeliver({ oa: d.oa, scts: d.scts, udh: d.udh, payload: encodeGsm7Text(decodeGsm7Text(d.payload)) })), hex);
});

t.test('flags and defaults', async (t) => {
  const base = { oa: { ton: 'international', npi: 'isdn_e164', digits: '12' } as Address, scts: decodeScts(fromHex('22705200000000')) };
  const plain = encodeSmsDeliver({ ...base, payload: new Uint8Array(0) });
  t.equal(toHex(plain), '0002912100002270520000000000', 'PID 0, DCS 0, empty UD');
  const all = decodeSmsDeliver(encodeSmsDeliver({ ...base, mms: true, lp: true, sri: true, rp: true, payload: new Uint8Array(0) }));
  t.same([all.mms, all.lp, all.sri, all.rp, all.udhi], [true, true, true, true, false]);
  t.equal(encodeSmsDeliver({ ...base, mms: true, lp: true, sri: true, rp: true, payload: new Uint8Array(0) })[0], 0xac);
});

t.test('malformed SMS-DELIVER gives typed errors', async (t) => {
  const good = fromHex(vectorById('frame-proactive-comment').tpdu_hex as string);
  throwsCode(t, () => decodeSmsDeliver(new Uint8Array(0)), 'TRUNCATED', 'tpdu', 'empty');
  throwsCode(t, () => decodeSmsDeliver(Uint8Array.of(good[0]! | 1, ...good.subarray(1))), 'MALFORMED', 'mti', 'SMS-SUBMIT MTI');
  throwsCode(t, () => decodeSmsDeliver(good.subarray(0, 5)), 'TRUNCATED', 'pid', 'cut after the OA');
  throwsCode(t, () => decodeSmsDeliver(good.subarray(0, 10)), 'TRUNCATED', 'scts', 'cut in the SCTS');
  throwsCode(t, () => decodeSmsDeliver(good.subarray(0, 14)), 'TRUNCATED', 'udl', 'cut before TP-UDL');
  throwsCode(t, () => decodeSmsDeliver(good.subarray(0, good.length - 1)), 'LENGTH_MISMATCH', 'udl', 'UD one octet short');
  // 40 | 04 81 1122 | PID | DCS | SCTS(7) | UDL at 14 | UDHL at 15
  const udl141 = Uint8Array.from(good);
  udl141[14] = 141;
  throwsCode(t, () => decodeSmsDeliver(udl141), 'TOO_LONG', 'udl');
  const badUdhl = Uint8Array.from(good);
  badUdhl[15] = 0x50;
  throwsCode(t, () => decodeSmsDeliver(badUdhl), 'LENGTH_MISMATCH', 'udhl', 'UDHL beyond the UD');
  for (let n = 0; n < good.length; n++) {
    try {
      decodeSmsDeliver(good.subarray(0, n));
      t.fail(`prefix ${n} decoded`);
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code !== 'TRUNCATED' && code !== 'LENGTH_MISMATCH') t.fail(`prefix ${n}: ${String(e)}`);
    }
  }
  throwsCode(t, () => encodeSmsDeliver({ oa: { ton: 'unknown', npi: 'unknown', digits: '1' }, scts: decodeScts(fromHex('22705200000000')), pid: 256, payload: new Uint8Array(0) }), 'INVALID_ARGUMENT', 'pid');
});

t.test('property: SMS-DELIVER encode → decode is the identity', async (t) => {
  const fields = fc.record({
    mms: fc.boolean(),
    lp: fc.boolean(),
    sri: fc.boolean(),
    rp: fc.boolean(),
    oa: addressArb,
    pid: fc.integer({ min: 0, max: 255 }),
    scts: sctsArb,
    ud: userDataArb,
  });
  fc.assert(
    fc.property(fields, ({ ud, ...f }) => {
      const d = decodeSmsDeliver(encodeSmsDeliver({ ...f, dcs: ud.dcs, udh: ud.udh, payload: ud.payload }));
      return (
        d.mms === f.mms && d.lp === f.lp && d.sri === f.sri && d.rp === f.rp && d.pid === f.pid && d.dcs === ud.dcs &&
        JSON.stringify(d.oa) === JSON.stringify(f.oa) && JSON.stringify(d.scts) === JSON.stringify(f.scts) &&
        d.udhi === (ud.udh !== undefined) && sameIes(d.udh, ud.udh) && toHex(d.payload) === toHex(ud.payload)
      );
    }),
    { numRuns: 500 },
  );
  t.pass('round trip holds');
});

t.test('property: random bytes and bit flips raise only ProtocolError', async (t) => {
  const good = fromHex(vectorById('frame-proactive-comment').tpdu_hex as string);
  fc.assert(fc.property(fc.uint8Array({ maxLength: 180 }), (b) => onlyProtocolErrors(() => decodeSmsDeliver(b))), { numRuns: 3000 });
  fc.assert(
    fc.property(fc.integer({ min: 0, max: good.length * 8 - 1 }), (bit) => {
      const flipped = Uint8Array.from(good);
      flipped[bit >> 3]! ^= 1 << (bit & 7);
      return onlyProtocolErrors(() => decodeSmsDeliver(flipped));
    }),
    { numRuns: 1000 },
  );
  t.pass('no foreign errors');
});
