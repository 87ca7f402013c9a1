import t from 'tap';
import fc from 'fast-check';
import { toHex } from '../../../sim-applet/bytes.js';
import { isProtocolError } from '../../../sim-applet/errors.js';
import { segmentOtaPacket, segmentUserData } from '../../../sim-applet/protocol/sms/concat.js';
import { ConcatReassembler, concatKey, reassemble, type ConcatPart } from '../../../sim-applet/protocol/sms/reassembly.js';
import { splitUdh, type PacketKind } from '../../../sim-applet/protocol/sms/udh.js';
import { onlyProtocolErrors, throwsCode } from './expect-error.js';

function packet(length: number, seed = 0): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 7 + seed) & 0xff);
}

function partsOf(ud: Uint8Array[], originator = '4477'): ConcatPart[] {
  return ud.map((p) => {
    const { ies, payload } = splitUdh(p);
    return { originator, udh: ies, payload };
  });
}

t.test('parts in any order, duplicates ignored, completion with the packet kind', async (t) => {
  const p = packet(500);
  const parts = partsOf(segmentOtaPacket(p, 'command', 9));
  t.equal(parts.length, 4);
  const r = new ConcatReassembler({ maxOpen: 4 });
  const key = concatKey('4477', 8, 9);
  const first = r.accept(parts[2]!);
  t.same(first.status === 'pending' && [first.pending.key, first.pending.received, first.pending.missing], [key, [3], [1, 2, 4]]);
  t.equal(r.accept(parts[2]!).status, 'duplicate', 'an exact copy is ignored');
  r.accept(parts[0]!);
  t.same(r.missing(key), [2, 4]);
  r.accept(parts[3]!);
  const done = r.accept(parts[1]!);
  t.equal(done.status, 'complete');
  if (done.status === 'complete') {
    t.equal(toHex(done.message.data), toHex(p));
    t.equal(done.message.kind, 'command');
    t.same(done.message.concat, { ref: 9, refBits: 8, total: 4 });
    t.same(done.message.ies.map((ie) => ie.iei), [0x70], 'the first part’s IEs without the concatenation IE');
  }
  t.same(r.pending(), [], 'nothing open');
  t.equal(r.accept(parts[1]!).status, 'duplicate', 'a late copy of a completed message is still a duplicate');
  t.same(r.pending(), []);
});

t.test('a single SMS without concatenation completes at once', async (t) => {
  const r = new ConcatReassembler({ maxOpen: 1 });
  const [part] = partsOf(segmentOtaPacket(packet(40), 'response', 0));
  const res = r.accept(part!);
  t.same(res.status === 'complete' && [res.message.kind, res.message.concat, res.message.data.length], ['response', undefined, 40]);
  const plain = r.accept({ payload: packet(3) });
  t.same(plain.status === 'complete' && [plain.message.kind, plain.message.originator], [undefined, '']);
});

t.test('conflicts: a different total or different content for a part held', async (t) => {
  const r = new ConcatReassembler({ maxOpen: 4 });
  const a = partsOf(segmentOtaPacket(packet(300), 'command', 5));
  const b = partsOf(segmentOtaPacket(packet(600), 'command', 5));
  r.accept(a[0]!);
  throwsCode(t, () => r.accept(b[1]!), 'CONCAT_CONFLICT', 'concat.total', 'same reference, other total');
  const changed = { ...a[0]!, payload: packet(132, 1) };
  throwsCode(t, () => r.accept(changed), 'CONCAT_CONFLICT', 'concat.seq', 'same part, other content');
  t.same(r.missing(concatKey('4477', 8, 5)), [2, 3], 'the conflicting parts changed nothing');
  const other = r.accept({ ...b[1]!, originator: '4488' });
  t.equal(other.status, 'pending', 'another originator is another message');
  throwsCode(t, () => r.accept({ udh: splitUdh(Uint8Array.of(5, 0, 3, 1, 2, 3)).ies, payload: packet(1) }), 'MALFORMED', 'concat.seq', 'seq over total');
  throwsCode(t, () => r.accept({ udh: splitUdh(Uint8Array.of(5, 0, 3, 1, 0, 1)).ies, payload: packet(1) }), 'MALFORMED', 'concat.total', 'total 0');
  throwsCode(t, () => r.accept({ udh: splitUdh(Uint8Array.of(3, 0x70, 1, 0)).ies, payload: packet(1) }), 'MALFORMED', 'udh.packetIdentifier');
  throwsCode(t, () => r.accept({ payload: 'x' as unknown as Uint8Array }), 'INVALID_ARGUMENT', 'payload');
});

t.test('giving up lists the missing parts; the open limit drops the oldest', async (t) => {
  const r = new ConcatReassembler({ maxOpen: 2 });
  const m1 = partsOf(segmentOtaPacket(packet(700), 'command', 1));
  const m2 = partsOf(segmentOtaPacket(packet(700), 'command', 2));
  const m3 = partsOf(segmentOtaPacket(packet(700), 'command', 3));
  r.accept(m1[0]!);
  r.accept(m1[3]!);
  r.accept(m2[0]!);
  const third = r.accept(m3[0]!);
  t.same(third.dropped.map((d) => [d.key, d.missing]), [[concatKey('4477', 8, 1), [2, 3, 5, 6]]], 'the oldest is dropped and reported');
  t.same(r.pending().map((p) => p.ref), [2, 3]);
  try {
    r.finish(concatKey('4477', 8, 2));
    t.fail('finish must raise');
  } catch (e) {
    t.ok(isProtocolError(e, 'CONCAT_INCOMPLETE'));
    t.same(isProtocolError(e) && e.details.missing, [2, 3, 4, 5, 6]);
  }
  t.same(r.pending().map((p) => p.ref), [3], 'finish forgets the message');
  throwsCode(t, () => r.finish('nothing'), 'INVALID_ARGUMENT', 'key');
  t.same(r.drop(concatKey('4477', 8, 3))?.received, [1]);
  t.equal(r.drop(concatKey('4477', 8, 3)), undefined);
  throwsCode(t, () => new ConcatReassembler({ maxOpen: 0 }), 'INVALID_ARGUMENT', 'maxOpen');
});

t.test('a reused reference with new content is a new message; state survives a snapshot', async (t) => {
  const r = new ConcatReassembler({ maxOpen: 4 });
  const a = partsOf(segmentOtaPacket(packet(200, 1), 'command', 77));
  const b = partsOf(segmentOtaPacket(packet(200, 2), 'command', 77));
  r.accept(a[0]!);
  t.equal(r.accept(a[1]!).status, 'complete');
  t.equal(r.accept(b[1]!).status, 'pending', 'different content under the same reference opens a new message');
  const restored = new ConcatReassembler({ maxOpen: 4, state: r.snapshot() });
  t.same(restored.pending(), r.pending());
  const done = restored.accept(b[0]!);
  t.same(done.status === 'complete' && toHex(done.message.data), toHex(packet(200, 2)));
});

t.test('one-shot reassemble', async (t) => {
  const p = packet(1000);
  const ud = segmentOtaPacket(p, 'response', 200);
  const m = reassemble([...ud].reverse());
  t.same([toHex(m.data), m.kind], [toHex(p), 'response']);
  t.equal(toHex(reassemble([ud[0]!, ...ud, ud[3]!]).data), toHex(p), 'duplicates ignored');
  try {
    reassemble(ud.filter((_, i) => i !== 2 && i !== 5));
    t.fail('must raise');
  } catch (e) {
    t.same(isProtocolError(e, 'CONCAT_INCOMPLETE') && e.details.missing, [3, 6]);
  }
  const other = segmentOtaPacket(packet(1000), 'response', 201);
  throwsCode(t, () => reassemble([...ud, other[0]!]), 'CONCAT_CONFLICT', 'parts', 'two references');
  throwsCode(t, () => reassemble([ud[0]!, segmentOtaPacket(packet(10), 'command', 0)[0]!]), 'CONCAT_CONFLICT', 'parts', 'a single SMS among parts');
  throwsCode(t, () => reassemble([]), 'INVALID_ARGUMENT', 'parts');
  t.equal(toHex(reassemble(segmentOtaPacket(packet(50), 'command', 0)).data), toHex(packet(50)));
  const sixteen = segmentUserData(p, { ref: 0x1234, refBits: 16 });
  t.same(reassemble(sixteen).concat, { ref: 0x1234, refBits: 16, total: sixteen.length });
});

const arrival = (n: number) =>
  fc.tuple(fc.array(fc.integer({ min: 0, max: n - 1 }), { maxLength: 5 }), fc.array(fc.integer(), { minLength: n + 5, maxLength: n + 5 }));

t.test('property: segmentation → reassembly is the identity in any order, with duplicates', async (t) => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 4000 }).chain((length) => {
        const n = length <= 137 ? 1 : 1 + Math.ceil((length - 132) / 134);
        return fc.tuple(fc.uint8Array({ minLength: length, maxLength: length }), fc.integer({ min: 0, max: 255 }), fc.constantFrom<PacketKind>('command', 'response'), arrival(n));
      }),
      ([p, ref, kind, [dups, keys]]) => {
        const parts = partsOf(segmentOtaPacket(p, kind, ref));
        const sequence = [...parts, ...dups.map((i) => parts[i]!)]
          .map((part, i) => ({ part, k: keys[i]! }))
          .sort((x, y) => x.k - y.k)
          .map((x) => x.part);
        const r = new ConcatReassembler({ maxOpen: 2 });
        const complete = sequence.map((part) => r.accept(part)).filter((res) => res.status === 'complete');
        const once = reassemble(sequence);
        // A single SMS carries no reference, so each copy of it completes; a concatenated message completes once.
        const expected = parts.length === 1 ? 1 + dups.length : 1;
        return (
          complete.length === expected &&
          complete.every((res) => res.status === 'complete' && toHex(res.message.data) === toHex(p) && res.message.kind === kind) &&
          toHex(once.data) === toHex(p) &&
          r.pending().length === 0
        );
      },
    ),
    { numRuns: 200 },
  );
  t.pass('reassembly holds');
});

t.test('property: a missing part is reported with its number', async (t) => {
  fc.assert(
    fc.property(
      fc.integer({ min: 138, max: 4000 }).chain((length) => {
        const n = 1 + Math.ceil((length - 132) / 134);
        return fc.tuple(fc.constant(length), fc.integer({ min: 1, max: n }));
      }),
      ([length, missing]) => {
        const parts = partsOf(segmentOtaPacket(packet(length), 'command', 3)).filter((_, i) => i + 1 !== missing);
        const r = new ConcatReassembler({ maxOpen: 1 });
        for (const part of parts) if (r.accept(part).status === 'complete') return false;
        try {
          r.finish(concatKey('4477', 8, 3));
          return false;
        } catch (e) {
          if (!(isProtocolError(e, 'CONCAT_INCOMPLETE') && JSON.stringify(e.details.missing) === JSON.stringify([missing]))) return false;
        }
        try {
          reassemble(parts);
          return false;
        } catch (e) {
          return isProtocolError(e, 'CONCAT_INCOMPLETE') && JSON.stringify(e.details.missing) === JSON.stringify([missing]);
        }
      },
    ),
    { numRuns: 200 },
  );
  t.pass('missing parts are named');
});

t.test('property: random user data raises only ProtocolError', async (t) => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 40 }), { minLength: 1, maxLength: 4 }), (uds) => onlyProtocolErrors(() => reassemble(uds))),
    { numRuns: 2000 },
  );
  t.pass('no foreign errors');
});
