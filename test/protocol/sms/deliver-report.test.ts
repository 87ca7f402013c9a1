import t from 'tap';
import fc from 'fast-check';
import { fromHex, toHex } from '../../../sim-applet/bytes.js';
import { decodeSmsDeliverReport, encodeSmsDeliverReport } from '../../../sim-applet/protocol/sms/deliver-report.js';
import { packetKindOf } from '../../../sim-applet/protocol/sms/udh.js';
import { vectorById } from '../../helpers/vectors.js';
import { sameIes, userDataArb } from './arbitraries.js';
import { onlyProtocolErrors, throwsCode } from './expect-error.js';

t.test('RP-ACK carrying the PoR of frame-envelope-smspp-download', async (t) => {
  const por = fromHex(vectorById('frame-envelope-smspp-download').response_por_user_data_hex as string);
  const tpdu = encodeSmsDeliverReport({ pid: 0x7f, dcs: 0xf6, ud: por, udhi: true });
  t.equal(toHex(tpdu.subarray(0, 5)), '40077ff6' + por.length.toString(16).padStart(2, '0'), 'UDHI, TP-PI 07, PID, DCS, UDL');
  t.equal(toHex(tpdu.subarray(5)), toHex(por));
  const r = decodeSmsDeliverReport(tpdu);
  t.same([r.type, r.udhi, r.failureCause, r.pid, r.dcs, r.udl], ['deliver-report', true, undefined, 0x7f, 0xf6, por.length]);
  t.equal(packetKindOf(r.udh!), 'response');
  t.equal(toHex(r.payload!), toHex(por.subarray(3)));
});

t.test('RP-ERROR form with TP-FCS (D5: (U)SIM data download error)', async (t) => {
  const tpdu = encodeSmsDeliverReport({ failureCause: 0xd5, pid: 0x7f, dcs: 0xf6, ud: fromHex('027100aa'), udhi: true });
  t.equal(toHex(tpdu), '40d5077ff604027100aa');
  const r = decodeSmsDeliverReport(tpdu, { error: true });
  t.same([r.failureCause, r.pid, r.dcs, toHex(r.payload!)], [0xd5, 0x7f, 0xf6, 'aa']);
  t.same(decodeSmsDeliverReport(fromHex('00d5'), { error: true }), { type: 'deliver-report', udhi: false, failureCause: 0xd5 });
});

t.test('optional parameters, TP-PI extension, DCS default', async (t) => {
  t.same(decodeSmsDeliverReport(fromHex('00')), { type: 'deliver-report', udhi: false }, 'no TP-PI at all');
  t.same(decodeSmsDeliverReport(fromHex('0000')), { type: 'deliver-report', udhi: false }, 'TP-PI with nothing announced');
  t.equal(toHex(encodeSmsDeliverReport({})), '0000');
  t.equal(decodeSmsDeliverReport(fromHex('00817f' + '7f')).pid, 0x7f, 'an extension TP-PI octet is skipped');
  const gsm = decodeSmsDeliverReport(fromHex('0004' + '0a' + 'e8329bfd4697d9ec37'));
  t.same([gsm.dcs, gsm.udl, gsm.payload?.length], [undefined, 10, 10], 'without TP-DCS the UD reads as GSM 7-bit');
  t.equal(toHex(encodeSmsDeliverReport({ pid: 0 })), '000100');
});

t.test('malformed SMS-DELIVER-REPORT gives typed errors', async (t) => {
  throwsCode(t, () => decodeSmsDeliverReport(new Uint8Array(0)), 'TRUNCATED', 'tpdu');
  throwsCode(t, () => decodeSmsDeliverReport(fromHex('01')), 'MALFORMED', 'mti');
  throwsCode(t, () => decodeSmsDeliverReport(fromHex('00'), { error: true }), 'TRUNCATED', 'failureCause');
  throwsCode(t, () => decodeSmsDeliverReport(fromHex('0001')), 'TRUNCATED', 'pid');
  throwsCode(t, () => decodeSmsDeliverReport(fromHex('0002')), 'TRUNCATED', 'dcs');
  throwsCode(t, () => decodeSmsDeliverReport(fromHex('0004')), 'TRUNCATED', 'udl');
  throwsCode(t, () => decodeSmsDeliverReport(fromHex('0080')), 'TRUNCATED', 'pi');
  throwsCode(t, () => decodeSmsDeliverReport(fromHex('0006f60501')), 'LENGTH_MISMATCH', 'udl');
  throwsCode(t, () => decodeSmsDeliverReport(fromHex('00017f00')), 'TRAILING_BYTES', 'tpdu');
  throwsCode(t, () => decodeSmsDeliverReport(fromHex('4000')), 'MALFORMED', 'udhi', 'UDHI without user data');
  throwsCode(t, () => encodeSmsDeliverReport({ failureCause: 300 }), 'INVALID_ARGUMENT', 'failureCause');
  throwsCode(t, () => encodeSmsDeliverReport({ udh: [] } as never), 'INVALID_ARGUMENT', 'udh');
});

t.test('property: encode → decode is the identity; random bytes raise only ProtocolError', async (t) => {
  const fields = fc.record({
    failureCause: fc.option(fc.integer({ min: 0, max: 255 }), { nil: undefined }),
    pid: fc.option(fc.integer({ min: 0, max: 255 }), { nil: undefined }),
    ud: fc.option(userDataArb, { nil: undefined }),
  });
  fc.assert(
    fc.property(fields, ({ failureCause, pid, ud }) => {
      const tpdu = encodeSmsDeliverReport(ud === undefined ? { failureCause, pid } : { failureCause, pid, dcs: ud.dcs, udh: ud.udh, payload: ud.payload });
      const r = decodeSmsDeliverReport(tpdu, { error: failureCause !== undefined });
      return (
        r.failureCause === failureCause && r.pid === pid &&
        (ud === undefined ? r.udl === undefined && r.dcs === undefined : r.dcs === ud.dcs && sameIes(r.udh, ud.udh) && toHex(r.payload!) === toHex(ud.payload))
      );
    }),
    { numRuns: 500 },
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 160 }), fc.boolean(), (b, error) => onlyProtocolErrors(() => decodeSmsDeliverReport(b, { error }))),
    { numRuns: 3000 },
  );
  t.pass('round trip holds');
});
