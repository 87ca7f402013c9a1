import t from 'tap';
import fc from 'fast-check';
import { fromHex, toHex } from '../../../sim-applet/bytes.js';
import { decodeSmsSubmit, encodeSmsSubmit } from '../../../sim-applet/protocol/sms/submit.js';
import { findConcat, IEI, packetIdentifierIe } from '../../../sim-applet/protocol/sms/udh.js';
import type { ValidityPeriod } from '../../../sim-applet/protocol/sms/validity.js';
import { vectorById } from '../../helpers/vectors.js';
import { addressArb, sameIes, sctsArb, userDataArb } from './arbitraries.js';
import { onlyProtocolErrors, throwsCode } from './expect-error.js';

t.test('vector sms-submit-vcard: relative VP, port and concatenation IEs', async (t) => {
  const v = vectorById('sms-submit-vcard');
  const want = v.expected as Record<string, unknown>;
  const extra = v.decoded_extra_by_pysim as Record<string, unknown>;
  const tpdu = fromHex(v.input_hex as string);
  const s = decodeSmsSubmit(tpdu);
  t.same(
    { tp_mti: 1, tp_rd: s.rd, tp_vpf: s.vp.format, tp_rp: s.rp, tp_udhi: s.udhi, tp_srr: s.srr, tp_pid: s.pid, tp_dcs: s.dcs, tp_udl: s.udl },
    want,
  );
  t.equal(s.mr, extra.tp_mr);
  const [, ton, npi, digits] = /TON=(\w+), NPI=(\w+), (\w+)\)/.exec(extra.tp_da as string)!;
  t.same([s.da.ton, s.da.npi, s.da.digits], [ton, npi, digits]);
  t.same(s.vp, { format: 'relative', value: parseInt(extra.tp_vp as string, 16) });
  t.same(s.udh!.map((ie) => ie.iei), [IEI.PORT_16BIT, IEI.CONCAT_8BIT]);
  t.same(findConcat(s.udh!), { ref: 1, total: 2, seq: 1, refBits: 8 });
  t.ok(Buffer.from(s.payload).toString('latin1').startsWith('BEGIN:VCARD'), 'the payload is the vCard text');
  t.equal(toHex(encodeSmsSubmit(s)), toHex(tpdu), 're-encodes byte for byte');
});

t.test('every TP-VPF and the PoR by SMS-SUBMIT', async (t) => {
  const da = { ton: 'international', npi: 'isdn_e164', digits: '4915' } as const;
  const vps: ValidityPeriod[] = [
    { format: 'none' },
    { format: 'relative', value: 0xff },
    { format: 'enhanced', octets: fromHex('01000000000000') },
    { format: 'absolute', timestamp: { year: 30, month: 6, day: 15, hour: 12, minute: 0, second: 0, tzQuarterHours: -8 } },
  ];
  const firsts = [0x41, 0x51, 0x49, 0x59];
  vps.forEach((vp, i) => {
    const tpdu = encodeSmsSubmit({ mr: 7, da, pid: 0x7f, dcs: 0xf6, vp, udh: [packetIdentifierIe('response')], payload: fromHex('0012') });
    t.equal(tpdu[0], firsts[i], `${vp.format}: first octet`);
    const back = decodeSmsSubmit(tpdu);
    t.same([back.vp.format, back.mr, back.pid, back.dcs, toHex(back.ud)], [vp.format, 7, 0x7f, 0xf6, '0271000012']);
  });
  t.equal(toHex(encodeSmsSubmit({ da, payload: new Uint8Array(0) })), '0100' + '04919451' + '0000' + '00', 'defaults: MR 0, PID 0, DCS 0, no VP');
  const flags = decodeSmsSubmit(encodeSmsSubmit({ da, rd: true, srr: true, rp: true, payload: new Uint8Array(0) }));
  t.same([flags.rd, flags.srr, flags.rp], [true, true, true]);
});

t.test('malformed SMS-SUBMIT gives typed errors', async (t) => {
  const good = fromHex(vectorById('sms-submit-vcard').input_hex as string);
  throwsCode(t, () => decodeSmsSubmit(Uint8Array.of(good[0]! & 0xfc, ...good.subarray(1))), 'MALFORMED', 'mti', 'SMS-DELIVER MTI');
  // 55 | MR | 0b 91 + 6 octets (2..9) | PID 10 | DCS 11 | VP 12 | UDL 13
  throwsCode(t, () => decodeSmsSubmit(good.subarray(0, 1)), 'TRUNCATED', 'mr');
  throwsCode(t, () => decodeSmsSubmit(good.subarray(0, 9)), 'TRUNCATED', 'da');
  throwsCode(t, () => decodeSmsSubmit(good.subarray(0, 11)), 'TRUNCATED', 'pid');
  throwsCode(t, () => decodeSmsSubmit(good.subarray(0, 12)), 'TRUNCATED', 'vp');
  throwsCode(t, () => decodeSmsSubmit(good.subarray(0, good.length - 1)), 'LENGTH_MISMATCH', 'udl');
  throwsCode(t, () => decodeSmsSubmit(Uint8Array.of(...good, 0)), 'TRAILING_BYTES', 'ud');
  for (let n = 0; n < good.length; n++) {
    try {
      decodeSmsSubmit(good.subarray(0, n));
      t.fail(`prefix ${n} decoded`);
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code !== 'TRUNCATED' && code !== 'LENGTH_MISMATCH') t.fail(`prefix ${n}: ${String(e)}`);
    }
  }
  throwsCode(t, () => encodeSmsSubmit({ da: { ton: 'unknown', npi: 'unknown', digits: '' }, mr: -1, payload: new Uint8Array(0) }), 'INVALID_ARGUMENT', 'mr');
});

const vpArb: fc.Arbitrary<ValidityPeriod> = fc.oneof(
  fc.constant<ValidityPeriod>({ format: 'none' }),
  fc.integer({ min: 0, max: 255 }).map((value): ValidityPeriod => ({ format: 'relative', value })),
  fc.uint8Array({ minLength: 7, maxLength: 7 }).map((octets): ValidityPeriod => ({ format: 'enhanced', octets })),
  sctsArb.map((timestamp): ValidityPeriod => ({ format: 'absolute', timestamp })),
);

t.test('property: SMS-SUBMIT encode → decode is the identity', async (t) => {
  const fields = fc.record({
    rd: fc.boolean(),
    srr: fc.boolean(),
    rp: fc.boolean(),
    mr: fc.integer({ min: 0, max: 255 }),
    da: addressArb,
    pid: fc.integer({ min: 0, max: 255 }),
    vp: vpArb,
    ud: userDataArb,
  });
  fc.assert(
    fc.property(fields, ({ ud, ...f }) => {
      const s = decodeSmsSubmit(encodeSmsSubmit({ ...f, dcs: ud.dcs, udh: ud.udh, payload: ud.payload }));
      const vpSame =
        f.vp.format === 'enhanced' && s.vp.format === 'enhanced' ? toHex(s.vp.octets) === toHex(f.vp.octets) : JSON.stringify(s.vp) === JSON.stringify(f.vp);
      return (
        s.rd === f.rd && s.srr === f.srr && s.rp === f.rp && s.mr === f.mr && s.pid === f.pid && s.dcs === ud.dcs && vpSame &&
        JSON.stringify(s.da) === JSON.stringify(f.da) && sameIes(s.udh, ud.udh) && toHex(s.payload) === toHex(ud.payload)
      );
    }),
    { numRuns: 500 },
  );
  fc.assert(fc.property(fc.uint8Array({ maxLength: 180 }), (b) => onlyProtocolErrors(() => decodeSmsSubmit(b))), { numRuns: 3000 });
  t.pass('round trip holds');
});
