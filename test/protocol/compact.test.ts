import t from 'tap';
import fc from 'fast-check';
import {
  decodeCompactResponse,
  encodeCompactCommands,
  encodeCompactResponse,
  splitCompactCommands,
  type CaseOf,
} from '../../sim-applet/protocol/compact.js';
import type { ApduCase, CommandApdu } from '../../sim-applet/protocol/apdu.js';
import { fromHex, toHex } from '../../sim-applet/bytes.js';
import { vectorsOfKind } from '../helpers/vectors.js';

// GSM 11.11 / TS 102 221 instruction cases of the commands in the vectors' RFM scripts.
const rfmCases: CaseOf = (_cla, ins) => (({ 0xa4: 3, 0xc0: 2, 0xb0: 2, 0xb2: 2, 0xd6: 3, 0xdc: 3, 0xe6: 3 }) as Record<number, ApduCase>)[ins] ?? 1;

t.test('the RFM scripts of the command vectors split into their APDUs', async (t) => {
  for (const v of vectorsOfKind('command')) {
    const apdus = v.apdus as string[];
    const joined = fromHex(apdus.join(''));
    const split = splitCompactCommands(joined, rfmCases);
    t.equal(split.length, apdus.length, v.id);
    t.equal(toHex(encodeCompactCommands(split)), toHex(joined), `${v.id} re-encodes byte-exact`);
  }
});

t.test('the PoR responses of the vectors decode as compact responses', async (t) => {
  for (const v of vectorsOfKind('por')) {
    const decoded = v.decoded_by_pysim as { secured_data?: string; compact_remote_response?: { number_of_commands: number; last_status_word: string; last_response_data: string } } | undefined;
    const expected = decoded?.compact_remote_response;
    if (!decoded?.secured_data || !expected) continue;
    const r = decodeCompactResponse(fromHex(decoded.secured_data));
    t.equal(r.executed, expected.number_of_commands, v.id);
    t.equal(r.sw.toString(16).padStart(4, '0'), expected.last_status_word, v.id);
    t.equal(toHex(r.data), expected.last_response_data, v.id);
    t.equal(toHex(encodeCompactResponse(r)), decoded.secured_data, `${v.id} re-encodes`);
  }
});

t.test('encode → split is the identity for any list (case 4 loses only its Le)', async (t) => {
  const kinds = new Map<number, ApduCase>();
  const caseOf: CaseOf = (_c, ins) => kinds.get(ins) ?? 1;
  const apdu = fc.record({
    cla: fc.integer({ min: 0, max: 255 }),
    ins: fc.integer({ min: 0, max: 255 }),
    p1: fc.integer({ min: 0, max: 255 }),
    p2: fc.integer({ min: 0, max: 255 }),
    kind: fc.constantFrom<ApduCase>(1, 2, 3, 4),
    data: fc.uint8Array({ minLength: 1, maxLength: 255 }),
    ne: fc.integer({ min: 1, max: 256 }),
  });
  fc.assert(
    fc.property(fc.array(apdu, { maxLength: 8 }), (list) => {
      kinds.clear();
      // One case per INS, as an application's table has.
      const uniq = list.filter((a, i) => list.findIndex((b) => b.ins === a.ins) === i);
      for (const a of uniq) kinds.set(a.ins, a.kind);
      const apdus: CommandApdu[] = uniq.map((a) => ({
        cla: a.cla, ins: a.ins, p1: a.p1, p2: a.p2,
        data: a.kind >= 3 ? a.data : new Uint8Array(0),
        ...(a.kind === 2 || a.kind === 4 ? { ne: a.kind === 2 ? a.ne : 256 } : {}),
      }));
      const back = splitCompactCommands(encodeCompactCommands(apdus), caseOf);
      return JSON.stringify(back.map((a) => [a.cla, a.ins, a.p1, a.p2, toHex(a.data), a.ne])) ===
        JSON.stringify(apdus.map((a) => [a.cla, a.ins, a.p1, a.p2, toHex(a.data), a.ne]));
    }),
  );
  t.pass();
});

t.test('malformed lists and responses', async (t) => {
  t.throws(() => splitCompactCommands(fromHex('a0a40000027f'), rfmCases), { code: 'TRUNCATED' });
  t.throws(() => splitCompactCommands(fromHex('a0a400'), rfmCases), { code: 'TRUNCATED' });
  t.throws(() => splitCompactCommands(fromHex('a0c00000'), rfmCases), { code: 'TRUNCATED' });
  t.throws(() => decodeCompactResponse(fromHex('0190')), { code: 'TRUNCATED' });
  t.throws(() => encodeCompactCommands([{ cla: 0, ins: 0xd6, p1: 0, p2: 0, data: new Uint8Array(256) }]), { code: 'TOO_LONG' });
  t.throws(() => encodeCompactResponse({ executed: 256, sw: 0x9000, data: new Uint8Array(0) }), { code: 'INVALID_ARGUMENT' });
});
