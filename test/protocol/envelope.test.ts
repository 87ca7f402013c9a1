import t from 'tap';
import fc from 'fast-check';
import { concatBytes, fromHex, toHex } from '../../sim-applet/bytes.js';
import {
  decodeSmsPpDownload,
  decodeSmsPpDownloadApdu,
  DEVICE,
  encodeSmsPpDownload,
  encodeSmsPpDownloadApdu,
} from '../../sim-applet/protocol/envelope.js';
import type { Address } from '../../sim-applet/protocol/sms/address.js';
import { decodeSmsDeliver } from '../../sim-applet/protocol/sms/deliver.js';
import { decodeScts } from '../../sim-applet/protocol/sms/timestamp.js';
import { packetKindOf } from '../../sim-applet/protocol/sms/udh.js';
import { encodeBerTlv, encodeComprehensionTlv } from '../../sim-applet/protocol/tlv.js';
import { vectorById } from '../helpers/vectors.js';
import { onlyProtocolErrors, throwsCode } from './sms/expect-error.js';

interface Breakdown {
  tpdu: string;
  tpdu_fields: Record<string, string>;
  [part: string]: unknown;
}

t.test('vector frame-envelope-smspp-download: parse, rebuild byte for byte, TPDU inside', async (t) => {
  const v = vectorById('frame-envelope-smspp-download');
  const bytes = fromHex(v.envelope_hex as string);
  const b = v.breakdown as Breakdown;
  const e = decodeSmsPpDownload(bytes);
  t.same(e.deviceIdentities, { source: DEVICE.NETWORK, destination: DEVICE.UICC }, 'network → UICC');
  // 86 04 00 103254: TON/NPI 00 (ext bit clear, as pySim sends it), then the digits 012345.
  t.same(e.address, { ton: 'unknown', npi: 'unknown', ext: false, digits: '012345' });
  t.equal(toHex(e.tpdu), b.tpdu);
  t.same(e.unknown, []);
  t.equal(toHex(encodeSmsPpDownload({ address: e.address!, tpdu: e.tpdu })), v.envelope_hex, 'rebuilt byte for byte');

  const d = decodeSmsDeliver(e.tpdu);
  const f = b.tpdu_fields;
  t.same([d.oa.digits, d.oa.ton, d.udhi, d.pid, d.dcs, d.udl], ['12', 'international', true, parseInt(f.tp_pid!, 16), parseInt(f.tp_dcs!, 16), 0x2d]);
  t.same(d.scts, decodeScts(fromHex(f.tp_scts!)));
  t.equal(toHex(d.ud.subarray(0, 3)), f.udh, 'UDH 027000');
  t.equal(packetKindOf(d.udh!), 'command');
  t.equal(toHex(d.payload.subarray(0, 2)), f.cpl);
  t.equal(toHex(d.payload.subarray(3, 5)), f.spi);
  t.equal(toHex(d.payload.subarray(7, 10)), f.tar);
});

t.test('vector frame-proactive-comment: its TPDU in an envelope and back', async (t) => {
  const tpdu = fromHex(vectorById('frame-proactive-comment').tpdu_hex as string);
  const env = encodeSmsPpDownload({ tpdu });
  t.equal(toHex(env.subarray(0, 6)), `d1${(4 + 2 + tpdu.length).toString(16)}82028381`);
  const e = decodeSmsPpDownload(env);
  t.equal(e.address, undefined, 'the address is optional');
  t.equal(toHex(e.tpdu), toHex(tpdu));
  t.equal(decodeSmsDeliver(e.tpdu).oa.digits, '1122');
});

t.test('the ENVELOPE C-APDU: CLA C2 00 00 Lc data', async (t) => {
  const v = vectorById('frame-envelope-smspp-download');
  const e = decodeSmsPpDownload(fromHex(v.envelope_hex as string));
  const apdu = encodeSmsPpDownloadApdu({ address: e.address!, tpdu: e.tpdu });
  t.equal(toHex(apdu), '80c2000049' + (v.envelope_hex as string), 'UICC class 80, Lc 0x49');
  t.equal(encodeSmsPpDownloadApdu({ tpdu: e.tpdu, cla: 0xa0 })[0], 0xa0, 'GSM SIM class A0');
  const back = decodeSmsPpDownloadApdu(apdu);
  t.same([back.cla, back.le, toHex(back.tpdu)], [0x80, undefined, toHex(e.tpdu)]);
  t.equal(decodeSmsPpDownloadApdu(concatBytes(apdu, Uint8Array.of(0))).le, 0, 'a case 4 Le is accepted');
  throwsCode(t, () => encodeSmsPpDownloadApdu({ tpdu: e.tpdu, cla: 0x00 }), 'INVALID_ARGUMENT', 'cla');
  throwsCode(t, () => encodeSmsPpDownloadApdu({ tpdu: new Uint8Array(250) }), 'TOO_LONG', 'envelope');
  throwsCode(t, () => decodeSmsPpDownloadApdu(fromHex('80c200')), 'TRUNCATED', 'apdu');
  throwsCode(t, () => decodeSmsPpDownloadApdu(fromHex('80a4000002d100')), 'MALFORMED', 'ins');
  throwsCode(t, () => decodeSmsPpDownloadApdu(fromHex('80c2010002d100')), 'MALFORMED', 'p1p2');
  throwsCode(t, () => decodeSmsPpDownloadApdu(fromHex('80c2000000')), 'MALFORMED', 'lc');
  throwsCode(t, () => decodeSmsPpDownloadApdu(fromHex('80c2000005d100')), 'LENGTH_MISMATCH', 'lc');
  throwsCode(t, () => decodeSmsPpDownloadApdu(concatBytes(apdu, fromHex('0000'))), 'TRAILING_BYTES', 'apdu');
});

const DI = encodeComprehensionTlv(0x02, fromHex('8381'), true);
const TPDU = encodeComprehensionTlv(0x0b, fromHex('00'), true);
const d1 = (...tlvs: Uint8Array[]): Uint8Array => encodeBerTlv(0xd1, concatBytes(...tlvs));

t.test('elements with or without the CR bit, unknown ones, any order', async (t) => {
  const noCr = d1(fromHex('02028381'), fromHex('0602' + '91' + '21'), fromHex('0b0100'));
  const e = decodeSmsPpDownload(noCr);
  t.same([e.deviceIdentities, e.address, toHex(e.tpdu)], [{ source: 0x83, destination: 0x81 }, { ton: 'international', npi: 'isdn_e164', ext: true, digits: '12' }, '00']);
  const withUnknown = decodeSmsPpDownload(d1(TPDU, fromHex('3f01aa'), DI));
  t.same(withUnknown.unknown.map((u) => [u.tag, u.comprehensionRequired, toHex(u.value)]), [[0x3f, false, 'aa']], 'unknown, not comprehension-required: kept');
  t.same(decodeSmsPpDownload(d1(TPDU)).deviceIdentities, undefined, 'device identities missing: tolerated');
  t.equal(toHex(encodeSmsPpDownload({ address: { ton: 'international', npi: 'isdn_e164', digits: '447' }, tpdu: fromHex('00') })), 'd10c' + '82028381' + '86039144f7' + '8b0100');
});

t.test('malformed envelopes give typed errors', async (t) => {
  throwsCode(t, () => decodeSmsPpDownload(d1(DI)), 'MALFORMED', 'tpdu', 'no 8B');
  throwsCode(t, () => decodeSmsPpDownload(encodeBerTlv(0xd2, concatBytes(DI, TPDU))), 'MALFORMED', 'tag', 'not D1');
  throwsCode(t, () => decodeSmsPpDownload(d1(DI, TPDU, TPDU)), 'MALFORMED', 'envelope.tlv', '8B twice');
  throwsCode(t, () => decodeSmsPpDownload(d1(fromHex('820183'), TPDU)), 'MALFORMED', 'deviceIdentities');
  throwsCode(t, () => decodeSmsPpDownload(d1(DI, fromHex('8600'), TPDU)), 'MALFORMED', 'address', 'address without TON/NPI');
  throwsCode(t, () => decodeSmsPpDownload(d1(DI, fromHex('86029f21'), TPDU)), 'MALFORMED', 'address.npi', 'reserved NPI');
  throwsCode(t, () => decodeSmsPpDownload(d1(DI, fromHex('8602911f'), TPDU)), 'MALFORMED', 'address.digits', 'digit after the filler');
  throwsCode(t, () => decodeSmsPpDownload(d1(DI, fromHex('bf01aa'), TPDU)), 'UNSUPPORTED', 'envelope.tlv', 'unknown comprehension-required element');
  throwsCode(t, () => decodeSmsPpDownload(fromHex('d10582028381')), 'LENGTH_MISMATCH', 'tlv.value', 'BER length overrun');
  throwsCode(t, () => decodeSmsPpDownload(fromHex('d1048202838100')), 'TRAILING_BYTES', 'tlv', 'bytes after D1');
  throwsCode(t, () => decodeSmsPpDownload(fromHex('d10482058381')), 'LENGTH_MISMATCH', 'tlv.value', 'inner length overrun');
  throwsCode(t, () => decodeSmsPpDownload(new Uint8Array(0)), 'TRUNCATED', 'tag');
  throwsCode(t, () => encodeSmsPpDownload({ tpdu: 'x' as unknown as Uint8Array }), 'INVALID_ARGUMENT', 'tpdu');
  throwsCode(t, () => encodeSmsPpDownload({ address: { ton: 'alphanumeric', npi: 'unknown', digits: 'A' }, tpdu: fromHex('00') }), 'INVALID_ARGUMENT', 'address.ton');
});

const addressArb: fc.Arbitrary<Address | undefined> = fc.option(
  fc.record({
    ton: fc.constantFrom('unknown', 'international', 'national'),
    npi: fc.constantFrom('unknown', 'isdn_e164', 'private'),
    digits: fc.string({ unit: fc.constantFrom(...'0123456789*#abc'), maxLength: 20 }),
    ext: fc.boolean(),
  }) as fc.Arbitrary<Address>,
  { nil: undefined },
);

t.test('property: encode → decode is the identity; random bytes raise only ProtocolError', async (t) => {
  fc.assert(
    fc.property(addressArb, fc.uint8Array({ maxLength: 200 }), (address, tpdu) => {
      const e = decodeSmsPpDownloadApdu(encodeSmsPpDownloadApdu({ address, tpdu }));
      const sameAddress =
        address === undefined
          ? e.address === undefined
          : e.address !== undefined && e.address.ton === address.ton && e.address.npi === address.npi && e.address.digits === address.digits && e.address.ext === address.ext;
      return sameAddress && toHex(e.tpdu) === toHex(tpdu);
    }),
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 80 }), (b) =>
      onlyProtocolErrors(() => decodeSmsPpDownload(b)) && onlyProtocolErrors(() => decodeSmsPpDownload(concatBytes(Uint8Array.of(0xd1, b.length), b))) && onlyProtocolErrors(() => decodeSmsPpDownloadApdu(b)),
    ),
    { numRuns: 3000 },
  );
  t.pass('round trip holds');
});
