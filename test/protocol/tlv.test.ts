import t from 'tap';
import fc from 'fast-check';
import { fromHex, toHex } from '../../sim-applet/bytes.js';
import {
  decodeBerTag,
  decodeBerTlv,
  decodeBerTlvAt,
  decodeBerTlvs,
  decodeBerTlvTree,
  decodeComprehensionTlvAt,
  decodeComprehensionTlvs,
  decodeTlvLength,
  encodeBerTag,
  encodeBerTlv,
  encodeComprehensionTlv,
  encodeTlvLength,
  findBerTlv,
  MAX_TLV_DEPTH,
} from '../../sim-applet/protocol/tlv.js';
import { onlyProtocolErrors, throwsCode } from './sms/expect-error.js';

t.test('BER-TLV tags: one, two and three bytes with class and constructed bits', async (t) => {
  const one = decodeBerTlv(fromHex('8a01ff'));
  t.same([one.tag, one.tagClass, one.constructed, toHex(one.value)], [0x8a, 'context', false, 'ff']);
  const two = decodeBerTlv(fromHex('9f7002abcd'));
  t.same([two.tag, two.tagClass, two.constructed, toHex(two.value)], [0x9f70, 'context', false, 'abcd']);
  const three = decodeBerTlv(fromHex('df810100'));
  t.same([three.tag, three.tagClass, three.constructed, three.value.length], [0xdf8101, 'private', false, 0]);
  const app = decodeBerTlv(fromHex('6f00'));
  t.same([app.tagClass, app.constructed], ['application', true]);
  const univ = decodeBerTlv(fromHex('3000'));
  t.same([univ.tagClass, univ.constructed], ['universal', true]);
  t.equal(toHex(encodeBerTag(0x9f70)), '9f70');
  t.equal(toHex(encodeBerTag(0xdf8101)), 'df8101');
  t.same(decodeBerTag(fromHex('005f2000'), 1), { tag: 0x5f20, next: 3 }, 'tag read at an offset');
});

t.test('definite lengths: short, 81, 82; non-minimal accepted on decode, minimal on encode', async (t) => {
  t.equal(toHex(encodeTlvLength(0)), '00');
  t.equal(toHex(encodeTlvLength(127)), '7f');
  t.equal(toHex(encodeTlvLength(128)), '8180');
  t.equal(toHex(encodeTlvLength(255)), '81ff');
  t.equal(toHex(encodeTlvLength(256)), '820100');
  t.equal(toHex(encodeTlvLength(65535)), '82ffff');
  t.same(decodeTlvLength(fromHex('8105'), 0), { length: 5, next: 2 }, '81 05 is read as 5');
  t.same(decodeTlvLength(fromHex('820005'), 0), { length: 5, next: 3 }, '82 0005 is read as 5');
  const tlv = decodeBerTlv(fromHex('8a8102abcd'));
  t.equal(toHex(tlv.value), 'abcd');
  t.equal(toHex(encodeBerTlv(0x8a, tlv.value)), '8a02abcd', 're-encoded minimally');
  const big = encodeBerTlv(0x04, new Uint8Array(300));
  t.equal(toHex(big.subarray(0, 4)), '0482012c');
});

t.test('decode at an offset, sequences, nesting', async (t) => {
  const bytes = fromHex('8001aa' + 'a105' + '8101bb' + '8200' + '9f7000');
  const first = decodeBerTlvAt(bytes, 0);
  t.same([first.tlv.tag, first.next], [0x80, 3]);
  const second = decodeBerTlvAt(bytes, first.next);
  t.same([second.tlv.tag, second.tlv.constructed, second.next], [0xa1, true, 10]);
  t.equal(decodeBerTlvs(bytes).length, 3);
  t.same(decodeBerTlvs(new Uint8Array(0)), []);
  const tree = decodeBerTlvTree(bytes);
  t.equal(tree[1]!.children!.length, 2);
  t.equal(toHex(tree[1]!.children![0]!.value), 'bb');
  t.equal(tree[0]!.children, undefined, 'primitive has no children');
  t.equal(findBerTlv(tree, 0x82)?.value.length, 0, 'found inside the constructed value');
  t.equal(findBerTlv(tree, 0x99), undefined);
});

t.test('malformed BER-TLV gives typed errors', async (t) => {
  throwsCode(t, () => decodeBerTlv(fromHex('8a80')), 'MALFORMED', 'tlv.length', 'indefinite length');
  throwsCode(t, () => decodeBerTlv(fromHex('8a83000001ff')), 'TOO_LONG', 'tlv.length', '83 length');
  throwsCode(t, () => decodeBerTlv(fromHex('8a8400000001ff')), 'TOO_LONG', 'tlv.length', '84 length');
  throwsCode(t, () => decodeBerTlv(fromHex('8a85')), 'MALFORMED', 'tlv.length', '85 length');
  throwsCode(t, () => decodeBerTlv(fromHex('8a05abcd')), 'LENGTH_MISMATCH', 'tlv.value', 'length overrun');
  throwsCode(t, () => decodeBerTlv(fromHex('8a82ffff00')), 'LENGTH_MISMATCH', 'tlv.value', 'long length overrun');
  throwsCode(t, () => decodeBerTlv(fromHex('8a81')), 'TRUNCATED', 'tlv.length', 'length bytes missing');
  throwsCode(t, () => decodeBerTlv(fromHex('8a')), 'TRUNCATED', 'tlv.length', 'no length');
  throwsCode(t, () => decodeBerTlv(new Uint8Array(0)), 'TRUNCATED', 'tag', 'empty');
  throwsCode(t, () => decodeBerTlv(fromHex('9f')), 'TRUNCATED', 'tag', 'two-byte tag cut');
  throwsCode(t, () => decodeBerTlv(fromHex('9f818181')), 'MALFORMED', 'tag', 'four-byte tag');
  throwsCode(t, () => decodeBerTlv(fromHex('9f1e00')), 'MALFORMED', 'tag', 'second byte under 1F');
  throwsCode(t, () => decodeBerTlv(fromHex('9f800100')), 'MALFORMED', 'tag', "second byte '80'");
  throwsCode(t, () => decodeBerTlv(fromHex('0000')), 'MALFORMED', 'tag', "tag '00'");
  throwsCode(t, () => decodeBerTlv(fromHex('ff0100')), 'MALFORMED', 'tag', "tag 'FF'");
  throwsCode(t, () => decodeBerTlv(fromHex('8a00ab')), 'TRAILING_BYTES', 'tlv', 'bytes after one TLV');
  throwsCode(t, () => decodeBerTlvs(fromHex('8a00ab')), 'TRUNCATED', 'tlv.length', 'a sequence must be whole');
  throwsCode(t, () => decodeBerTlvTree(fromHex('a1038a05ab')), 'LENGTH_MISMATCH', 'tlv.value', 'inner length overrun');
  throwsCode(t, () => decodeBerTlvAt(fromHex('8a00'), 5), 'INVALID_ARGUMENT', 'bytes', 'offset out of range');
  throwsCode(t, () => decodeBerTlvs('8a00' as unknown as Uint8Array), 'INVALID_ARGUMENT', 'bytes', 'not bytes');
  let nested: Uint8Array = new Uint8Array(0);
  for (let i = 0; i < MAX_TLV_DEPTH + 2; i++) nested = encodeBerTlv(0xa1, nested);
  throwsCode(t, () => decodeBerTlvTree(nested), 'TOO_LONG', 'depth', 'nested too deep');
});

t.test('encoding refuses what cannot be a tag or a length', async (t) => {
  for (const tag of [0, 0x1f, 0x9f1e, 0x9f80, 0xff01, 0x8a01, 0x9f8181, 0x9f0101, 0x1000000, -1, 1.5]) {
    throwsCode(t, () => encodeBerTag(tag), 'INVALID_ARGUMENT', 'tag', `tag ${tag.toString(16)}`);
  }
  throwsCode(t, () => encodeBerTlv(0x8a, new Uint8Array(65536)), 'TOO_LONG', 'value.length');
  throwsCode(t, () => encodeTlvLength(-1), 'INVALID_ARGUMENT', 'length');
});

const tagArb = fc.oneof(
  // One byte: class, constructed, number 0..30 (but not the tag '00').
  fc.tuple(fc.integer({ min: 0, max: 3 }), fc.boolean(), fc.integer({ min: 0, max: 30 }))
    .map(([cls, c, n]) => (cls << 6) | (c ? 0x20 : 0) | n)
    .filter((tag) => tag !== 0),
  // Two bytes: number 31..127.
  fc.tuple(fc.integer({ min: 0, max: 3 }), fc.boolean(), fc.integer({ min: 31, max: 127 }))
    .map(([cls, c, n]) => (((cls << 6) | (c ? 0x20 : 0) | 0x1f) << 8) | n)
    .filter((tag) => tag >> 8 !== 0xff),
  // Three bytes: number 128..16383.
  fc.tuple(fc.integer({ min: 0, max: 3 }), fc.boolean(), fc.integer({ min: 128, max: 16383 }))
    .map(([cls, c, n]) => (((cls << 6) | (c ? 0x20 : 0) | 0x1f) << 16) | ((0x80 | (n >> 7)) << 8) | (n & 0x7f))
    .filter((tag) => tag >> 16 !== 0xff),
);

t.test('property: BER-TLV encode → decode is the identity (lengths up to 65535)', async (t) => {
  const valueArb = fc.oneof(
    fc.uint8Array({ maxLength: 300 }),
    fc.tuple(fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 0, max: 255 })).map(([n, b]) => new Uint8Array(n).fill(b)),
  );
  fc.assert(
    fc.property(tagArb, valueArb, fc.uint8Array({ maxLength: 4 }), (tag, value, tail) => {
      const encoded = encodeBerTlv(tag, value);
      const withTail = new Uint8Array(encoded.length + tail.length);
      withTail.set(encoded);
      withTail.set(tail, encoded.length);
      const { tlv, next } = decodeBerTlvAt(withTail, 0);
      return tlv.tag === tag && next === encoded.length && toHex(tlv.value) === toHex(value) && toHex(encodeBerTag(tag)) === toHex(withTail.subarray(0, encodeBerTag(tag).length));
    }),
    { numRuns: 300 },
  );
  t.pass('round trip holds');
});

t.test('COMPREHENSION-TLV: CR flag, single and three-byte tags', async (t) => {
  const cr = decodeComprehensionTlvAt(fromHex('82028381'));
  t.same([cr.tlv.tag, cr.tlv.comprehensionRequired, toHex(cr.tlv.value), cr.next], [0x02, true, '8381', 4]);
  const plain = decodeComprehensionTlvAt(fromHex('02028381'));
  t.same([plain.tlv.tag, plain.tlv.comprehensionRequired], [0x02, false]);
  const three = decodeComprehensionTlvAt(fromHex('7f923401aa'));
  t.same([three.tlv.tag, three.tlv.comprehensionRequired, toHex(three.tlv.value)], [0x1234, true, 'aa']);
  const threeNoCr = decodeComprehensionTlvAt(fromHex('7f123400'));
  t.same([threeNoCr.tlv.tag, threeNoCr.tlv.comprehensionRequired], [0x1234, false]);
  t.equal(toHex(encodeComprehensionTlv(0x0b, fromHex('00'), true)), '8b0100');
  t.equal(toHex(encodeComprehensionTlv(0x0b, fromHex('00'))), '0b0100');
  t.equal(toHex(encodeComprehensionTlv(0x7f, new Uint8Array(0), true)), '7f807f00', '7F itself needs the three-byte form');
  t.equal(toHex(encodeComprehensionTlv(0x1234, new Uint8Array(0))), '7f123400');
  t.equal(toHex(encodeComprehensionTlv(0x06, new Uint8Array(130)).subarray(0, 3)), '068182', 'shared length coding');
  t.equal(decodeComprehensionTlvs(fromHex('82028381' + '0b00')).length, 2);
  t.equal(decodeComprehensionTlvAt(fromHex('0b8101ff')).tlv.value.length, 1, 'non-minimal length accepted');
});

t.test('malformed COMPREHENSION-TLV gives typed errors', async (t) => {
  for (const bad of ['0000', '8000', 'ff00']) throwsCode(t, () => decodeComprehensionTlvs(fromHex(bad)), 'MALFORMED', 'tag', `tag ${bad.slice(0, 2)}`);
  throwsCode(t, () => decodeComprehensionTlvs(fromHex('7f12')), 'TRUNCATED', 'tag', 'three-byte tag cut');
  throwsCode(t, () => decodeComprehensionTlvs(fromHex('7f000000')), 'MALFORMED', 'tag', 'three-byte tag 0');
  throwsCode(t, () => decodeComprehensionTlvs(fromHex('0b05aa')), 'LENGTH_MISMATCH', 'tlv.value', 'length overrun');
  throwsCode(t, () => decodeComprehensionTlvs(fromHex('0b80')), 'MALFORMED', 'tlv.length', 'indefinite length');
  throwsCode(t, () => encodeComprehensionTlv(0, new Uint8Array(0)), 'INVALID_ARGUMENT', 'tag');
  throwsCode(t, () => encodeComprehensionTlv(0x8000, new Uint8Array(0)), 'INVALID_ARGUMENT', 'tag');
});

t.test('property: COMPREHENSION-TLV encode → decode is the identity', async (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 0x7fff }), fc.boolean(), fc.uint8Array({ maxLength: 400 }), (tag, cr, value) => {
      const { tlv, next } = decodeComprehensionTlvAt(encodeComprehensionTlv(tag, value, cr));
      return tlv.tag === tag && tlv.comprehensionRequired === cr && toHex(tlv.value) === toHex(value) && next === encodeComprehensionTlv(tag, value, cr).length;
    }),
  );
  t.pass('round trip holds');
});

t.test('property: decoders on random bytes raise only ProtocolError', async (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) =>
      onlyProtocolErrors(() => decodeBerTlvs(bytes)) &&
      onlyProtocolErrors(() => decodeBerTlvTree(bytes)) &&
      onlyProtocolErrors(() => decodeBerTlv(bytes)) &&
      onlyProtocolErrors(() => decodeComprehensionTlvs(bytes)),
    ),
    { numRuns: 2000 },
  );
  t.pass('no foreign errors');
});
