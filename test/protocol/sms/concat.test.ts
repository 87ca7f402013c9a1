import t from 'tap';
import fc from 'fast-check';
import { fromHex, toHex } from '../../../sim-applet/bytes.js';
import { MAX_PARTS, segmentOtaPacket, segmentUserData } from '../../../sim-applet/protocol/sms/concat.js';
import { splitUdh, type InformationElement } from '../../../sim-applet/protocol/sms/udh.js';
import { vectorsOfKind } from '../../helpers/vectors.js';
import { throwsCode } from './expect-error.js';

const hex2 = (n: number): string => n.toString(16).padStart(2, '0');

function packet(length: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => i & 0xff);
}

t.test('a command packet that fits is one SMS: 02 70 00 | packet (the command vectors)', async (t) => {
  for (const v of vectorsOfKind('command')) {
    const parts = segmentOtaPacket(fromHex(v.expected_packet_hex_spec as string), 'command', 0x42);
    t.same(parts.map(toHex), [v.expected_user_data_hex], v.id);
  }
  t.equal(segmentOtaPacket(packet(137), 'command', 0).length, 1, '137 bytes still fit');
  t.equal(toHex(segmentOtaPacket(new Uint8Array(0), 'response', 0)[0]!), '027100', 'a response packet, and an empty one');
});

t.test('TS 31.115 concatenation: 07 | 00 03 ref N 01 | 70 00 | 132 bytes, then 05 | 00 03 ref N k | up to 134', async (t) => {
  const p = packet(138);
  const parts = segmentOtaPacket(p, 'command', 0xab);
  t.equal(parts.length, 2, '138 bytes need two parts');
  t.equal(toHex(parts[0]!.subarray(0, 8)), '070003ab02017000');
  t.equal(parts[0]!.length, 140);
  t.equal(toHex(parts[0]!.subarray(8)), toHex(p.subarray(0, 132)));
  t.equal(toHex(parts[1]!.subarray(0, 6)), '050003ab0202');
  t.equal(toHex(parts[1]!.subarray(6)), toHex(p.subarray(132)));
  for (const [length, n] of [[132 + 134, 2], [132 + 134 + 1, 3], [132 + 134 * 2, 3], [1000, 8]] as const) {
    const ps = segmentOtaPacket(packet(length), 'command', 7);
    t.equal(ps.length, n, `${length} bytes: ${n} parts`);
    t.ok(ps.slice(0, -1).every((x) => x.length === 140), 'every part but the last is 140 octets');
    t.ok(ps.every((x, i) => toHex(x.subarray(1, 6)) === '000307' + hex2(n) + hex2(i + 1)), 'same reference, N and k in each');
  }
  const response = segmentOtaPacket(packet(300), 'response', 1);
  t.equal(toHex(response[0]!.subarray(0, 8)), '0700030103017100', 'a response packet carries 71 00');
});

t.test('limits', async (t) => {
  const most = 132 + 134 * (MAX_PARTS - 1);
  t.equal(segmentOtaPacket(packet(most), 'command', 0).length, 255, `${most} bytes take 255 parts`);
  throwsCode(t, () => segmentOtaPacket(packet(most + 1), 'command', 0), 'TOO_LONG', 'payload', '256 parts');
  throwsCode(t, () => segmentOtaPacket(packet(10), 'command', 256), 'INVALID_ARGUMENT', 'ref');
  throwsCode(t, () => segmentOtaPacket(packet(10), 'command', -1), 'INVALID_ARGUMENT', 'ref');
  throwsCode(t, () => segmentOtaPacket(packet(10), 'poll' as 'command', 0), 'INVALID_ARGUMENT', 'kind');
  throwsCode(t, () => segmentUserData(packet(10), { ref: 0, everyPartIes: [{ iei: 0x20, value: new Uint8Array(133) }] }), 'TOO_LONG', 'udh');
  throwsCode(t, () => segmentUserData('x' as unknown as Uint8Array, { ref: 0 }), 'INVALID_ARGUMENT', 'payload');
});

t.test('general segmentation: 16-bit reference, IEs in every part', async (t) => {
  const port: InformationElement = { iei: 0x05, value: fromHex('23f423f4') };
  const parts = segmentUserData(packet(300), { ref: 0xbeef, refBits: 16, everyPartIes: [port] });
  // 16-bit concatenation (6 octets) + port (6 octets) + UDHL: 127 octets of data per part.
  t.equal(parts.length, 3);
  for (const [i, part] of parts.entries()) {
    const { ies, payload } = splitUdh(part);
    t.same(ies.map((ie) => [ie.iei, toHex(ie.value)]), [[0x08, `beef03${(i + 1).toString(16).padStart(2, '0')}`], [0x05, '23f423f4']]);
    t.equal(payload.length, i < 2 ? 127 : 300 - 254);
  }
  t.same(segmentUserData(packet(5), { ref: 1, everyPartIes: [port] }).map(toHex), ['060504' + '23f423f4' + '0001020304'], 'fits: no concatenation IE');
  t.same(segmentUserData(packet(2), { ref: 1 }).map(toHex), ['000001'], 'no IEs: the empty header');
});

t.test('property: parts concatenate back to the packet, each at most 140 octets', async (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 4000 }), fc.integer({ min: 0, max: 255 }), (length, ref) => {
      const p = packet(length);
      const parts = segmentOtaPacket(p, 'command', ref);
      const joined = Buffer.concat(parts.map((x) => splitUdh(x).payload));
      return parts.every((x) => x.length <= 140) && parts.slice(0, -1).every((x) => x.length === 140) && joined.equals(p);
    }),
  );
  t.pass('segmentation holds');
});
