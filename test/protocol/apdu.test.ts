import t from 'tap';
import fc from 'fast-check';
import {
  apduCase,
  decodeCommandApdu,
  decodeResponseApdu,
  encodeCommandApdu,
  encodeResponseApdu,
  type CommandApdu,
} from '../../sim-applet/protocol/apdu.js';
import { fromHex, toHex } from '../../sim-applet/bytes.js';
import { isProtocolError, ProtocolError } from '../../sim-applet/errors.js';

t.test('ISO 7816-4 cases, short form', async (t) => {
  const c1 = decodeCommandApdu(fromHex('00a40000'));
  t.same([c1.case, c1.extended, c1.data.length, c1.ne], [1, false, 0, undefined]);
  const c2 = decodeCommandApdu(fromHex('00c0000016'));
  t.same([c2.case, c2.ne], [2, 0x16]);
  t.equal(decodeCommandApdu(fromHex('00b0000000')).ne, 256, 'Le 00 means 256');
  const c3 = decodeCommandApdu(fromHex('a0a40000027f20'));
  t.same([c3.case, toHex(c3.data), c3.ne], [3, '7f20', undefined]);
  const c4 = decodeCommandApdu(fromHex('00a4040007a000000151000000'));
  t.same([c4.case, toHex(c4.data), c4.ne], [4, 'a0000001510000', 256]);
});

t.test('ISO 7816-4 cases, extended form', async (t) => {
  const c2 = decodeCommandApdu(fromHex('00b00000000000'));
  t.same([c2.case, c2.extended, c2.ne], [2, true, 65536]);
  const data = new Uint8Array(300).fill(7);
  const c3 = decodeCommandApdu(encodeCommandApdu({ cla: 0x80, ins: 0xe2, p1: 0, p2: 0, data }));
  t.same([c3.case, c3.extended, c3.data.length], [3, true, 300]);
  const enc4 = encodeCommandApdu({ cla: 0x80, ins: 0xe2, p1: 0, p2: 0, data, ne: 1000 });
  t.equal(toHex(enc4.subarray(4, 7)), '00012c', 'extended Lc');
  t.equal(toHex(enc4.subarray(enc4.length - 2)), '03e8', 'two-byte Le after data');
  const forced = encodeCommandApdu({ cla: 0, ins: 0xb0, p1: 0, p2: 0, data: new Uint8Array(0), ne: 16 }, { extended: true });
  t.equal(toHex(forced), '00b00000000010', 'extended case 2 has a three-byte Le');
});

t.test('encode → decode is the identity', async (t) => {
  const apdu = fc.record({
    cla: fc.integer({ min: 0, max: 255 }),
    ins: fc.integer({ min: 0, max: 255 }),
    p1: fc.integer({ min: 0, max: 255 }),
    p2: fc.integer({ min: 0, max: 255 }),
    data: fc.uint8Array({ maxLength: 600 }),
    ne: fc.option(fc.integer({ min: 1, max: 65536 }), { nil: undefined }),
  });
  fc.assert(
    fc.property(apdu, fc.boolean(), (a: CommandApdu, extended) => {
      const d = decodeCommandApdu(encodeCommandApdu(a, { extended }));
      return (
        d.cla === a.cla && d.ins === a.ins && d.p1 === a.p1 && d.p2 === a.p2 &&
        toHex(d.data) === toHex(a.data) && d.ne === a.ne && d.case === apduCase(a)
      );
    }),
  );
  t.pass('round trip holds');
});

t.test('malformed command APDUs give typed errors', async (t) => {
  const cases: [string, string][] = [
    ['00a400', 'TRUNCATED'],
    ['00a4000002aa', 'LENGTH_MISMATCH'],
    ['00a400000201020304', 'LENGTH_MISMATCH'],
    ['00a4000000aa', 'TRUNCATED'],
    ['00a40000000000aa', 'MALFORMED'],
    ['00a4000000000301', 'LENGTH_MISMATCH'],
  ];
  for (const [hex, code] of cases) {
    t.throws(() => decodeCommandApdu(fromHex(hex)), { code }, hex);
  }
  t.throws(() => encodeCommandApdu({ cla: 256, ins: 0, p1: 0, p2: 0, data: new Uint8Array(0) }), { code: 'INVALID_ARGUMENT' });
  t.throws(() => encodeCommandApdu({ cla: 0, ins: 0, p1: 0, p2: 0, data: new Uint8Array(0), ne: 0 }), { code: 'INVALID_ARGUMENT' });
});

t.test('any bytes decode or fail with a ProtocolError only', async (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      try {
        decodeCommandApdu(bytes);
        return true;
      } catch (e) {
        return e instanceof ProtocolError;
      }
    }),
  );
  t.pass();
});

t.test('response APDUs', async (t) => {
  const r = decodeResponseApdu(fromHex('0000ffff7f2002000000000009b106350400838a838a9000'));
  t.equal(r.sw, 0x9000);
  t.equal(toHex(r.data), '0000ffff7f2002000000000009b106350400838a838a');
  t.equal(toHex(encodeResponseApdu(r)), '0000ffff7f2002000000000009b106350400838a838a9000');
  t.equal(decodeResponseApdu(fromHex('6a82')).data.length, 0);
  t.ok(isProtocolError((() => { try { decodeResponseApdu(fromHex('90')); } catch (e) { return e; } })(), 'TRUNCATED'));
});
