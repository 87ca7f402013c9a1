/**
 * Fuzzing the card (fast-check). Random APDUs, random ENVELOPEs and mutated secured packets
 * (bit flips, byte changes, truncation, extension, splicing of two valid packets) must:
 * never throw out of `transmit` and never end in 6F00 (a fault in the card's own code);
 * never change `card.memory.state` unless the packet was authenticated (then the state is
 * exactly what the untouched packet gives) or the APDU was a valid plain SIGN READING (then
 * only the reading counter moves, by one); and leave a card that, once the applet is
 * selected, answers GET STATUS with 9000.
 */
import t from 'tap';
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import {
  decodeCommandApdu,
  decodeResponseApdu,
  decodeSmsDeliver,
  decodeSmsPpDownload,
  encodeCommandApdu,
  encodeCompactCommands,
  encodeSmsDeliver,
  encodeSmsPpDownloadApdu,
  findConcat,
  getStatusApdu,
  INS,
  lockApdu,
  packetKindOf,
  parseStatus,
  putKeyApdu,
  readPublicKeyApdu,
  sctsFromDate,
  SIMCHAIN_AID,
  splitUdh,
  storeDataApdu,
  Uicc,
  type CardState,
  type CommandApdu,
  type Spi,
} from '../../sim-applet/index.js';
import { ADMIN_SPI, commandUserData, keysOf, NOW, OPERATOR } from '../helpers/card.js';
import { operationalCard, ota, otaResponse, stateOf } from '../helpers/applet.js';

const RUNS = 400;

// ---------------------------------------------------------------- the cards fuzzed

const operational = (() => {
  const { card } = operationalCard({ curves: ['secp256k1', 'p256'] });
  otaResponse(card, [getStatusApdu()], { keyset: 2, cntr: 10 });
  return stateOf(card);
})();
const locked = (() => {
  const card = new Uicc(operational, { random: randomBytes });
  otaResponse(card, [lockApdu()]);
  return stateOf(card);
})();
const BASES: [string, CardState][] = [['operational', operational], ['locked', locked]];

const cardOf = (state: CardState) => new Uicc(state, { random: randomBytes });

/**
 * An SMS-DELIVER built byte by byte (TS 23.040 §9.2.2.1), so that any user data, a broken
 * header included, can be sent: the header fields of a well-formed one, then UDL and UD.
 */
const DELIVER_HEADER = encodeSmsDeliver({ oa: OPERATOR, pid: 0x7f, dcs: 0xf6, scts: sctsFromDate(NOW), ud: new Uint8Array(0), udhi: false });
function rawDeliver(ud: Uint8Array, o: { pid?: number; udhi?: boolean } = {}): Uint8Array {
  const oa = DELIVER_HEADER.subarray(1, DELIVER_HEADER.length - 10);
  const scts = DELIVER_HEADER.subarray(DELIVER_HEADER.length - 8, DELIVER_HEADER.length - 1);
  return Buffer.concat([Buffer.of(o.udhi === false ? 0x00 : 0x40), oa, Buffer.of(o.pid ?? 0x7f, 0xf6), scts, Buffer.of(ud.length), ud]);
}

const SELECT_APPLET = Buffer.concat([Buffer.from('00a4040c09', 'hex'), Buffer.from(SIMCHAIN_AID, 'hex')]);
const GET_STATUS = Buffer.from('80f4000000', 'hex');

/** The card is still there: SELECT the applet, then GET STATUS answers 9000 (or 91xx) with the lifecycle of the committed state. */
function stillAnswers(card: Uicc): boolean {
  const selected = decodeResponseApdu(card.transmit(SELECT_APPLET));
  const status = decodeResponseApdu(card.transmit(GET_STATUS));
  // 91xx is a normal ending too: a proactive command (an unfetched PoR) is waiting (TS 102 221 §7.4.2.2).
  const normal = (sw: number) => sw === 0x9000 || sw >> 8 === 0x91;
  return normal(selected.sw) && normal(status.sw) && parseStatus(status.data).lifecycle === card.memory.state.lifecycle;
}

/** transmit must answer (never throw) with at least a status word, and never 6F00. */
function answer(card: Uicc, capdu: Uint8Array): { data: Uint8Array; sw: number } {
  const r = decodeResponseApdu(card.transmit(capdu));
  if (r.sw === 0x6f00) throw new Error(`6F00 for ${Buffer.from(capdu).toString('hex')}`);
  return r;
}

// ---------------------------------------------------------------- generators

const byte = fc.integer({ min: 0, max: 255 });
const OS_INS = [0xa4, 0xc0, 0xc2, 0x12, 0x14, 0x70];
const interesting = <T>(values: T[], other: fc.Arbitrary<T>) => fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...values) }, { weight: 1, arbitrary: other });

const structuredApdu: fc.Arbitrary<Uint8Array> = fc
  .record({
    cla: interesting([0x80, 0x80, 0x00, 0xa0, 0x01, 0x81, 0x84, 0x40], byte),
    ins: interesting([...Object.values(INS), ...OS_INS], byte),
    p1: interesting([0, 0, 1, 2, 0x80, 0x7f], byte),
    p2: interesting([0, 1, 2, 3, 4, 5, 0x80, 0x81, 0xc1, 0xc2, 0x21], byte),
    data: fc.oneof(fc.uint8Array({ maxLength: 8 }), fc.uint8Array({ minLength: 88, maxLength: 116 }), fc.uint8Array({ maxLength: 300 })),
    ne: fc.option(fc.integer({ min: 1, max: 300 }), { nil: undefined }),
  })
  .map((a) => encodeCommandApdu(a));

/** SIGN READING as the firmware sends it, right length or not, right slot or not. */
const signReading: fc.Arbitrary<Uint8Array> = fc
  .record({
    p1: fc.constantFrom(0, 0, 0, 1),
    slot: fc.constantFrom(1, 1, 2, 3, 0, 5),
    data: fc.oneof({ weight: 4, arbitrary: fc.uint8Array({ minLength: 104, maxLength: 104 }) }, { weight: 1, arbitrary: fc.uint8Array({ minLength: 100, maxLength: 108 }) }),
    le: fc.boolean(),
  })
  .map((a) => encodeCommandApdu({ cla: 0x80, ins: INS.SIGN_READING, p1: a.p1, p2: a.slot, data: a.data, ...(a.le ? { ne: 256 } : {}) }));

const anyApdu = fc.oneof(structuredApdu, fc.uint8Array({ maxLength: 300 }), signReading);

/** A plain SIGN READING the card must accept on an operational card (slots 1 and 2 hold keys). */
function isValidSignReading(capdu: Uint8Array): boolean {
  try {
    const a = decodeCommandApdu(capdu);
    return a.cla === 0x80 && a.ins === INS.SIGN_READING && a.p1 === 0 && (a.p2 === 1 || a.p2 === 2) && a.data.length === 104;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------- 1. random APDUs

t.test('random APDU sequences: no throw, no 6F00, state changed only by valid SIGN READINGs, card still answers', async (t) => {
  let signed = 0;
  for (const [name, base] of BASES) {
    fc.assert(
      fc.property(fc.array(anyApdu, { minLength: 1, maxLength: 4 }), (apdus) => {
        const card = cardOf(base);
        for (const capdu of apdus) {
          const before = stateOf(card);
          const r = answer(card, capdu);
          const after = card.memory.state;
          if (isDeepStrictEqual(after, before)) continue;
          // Only a valid SIGN READING on an operational card, answered with its data, moves anything: the counter, by one.
          if (!isValidSignReading(capdu) || before.lifecycle !== 'operational') return false;
          if (r.sw !== 0x9000 && r.sw >> 8 !== 0x61) return false;
          if (after.readingCounter !== before.readingCounter + 1) return false;
          if (!isDeepStrictEqual({ ...after, readingCounter: before.readingCounter }, before)) return false;
          signed++;
        }
        return stillAnswers(card);
      }),
      { numRuns: RUNS },
    );
    t.pass(`${name}: ${RUNS} sequences`);
  }
  t.ok(signed > 0, `the generator reached valid SIGN READINGs (${signed})`);
});

// ---------------------------------------------------------------- 2. random ENVELOPEs

const tar = interesting([[0xbf, 0xff, 0x01]], fc.tuple(byte, byte, byte));
/** Something shaped like a command packet: CPL right or not, plausible header, random rest. */
const packetLike: fc.Arbitrary<Uint8Array> = fc
  .record({
    chl: interesting([0x15, 0x0d], byte),
    spi1: interesting([0x16, 0x06, 0x12, 0x00], byte),
    spi2: interesting([0x39, 0x21, 0x00], byte),
    kic: interesting([0x12, 0x22, 0x15, 0x25], byte),
    kid: interesting([0x12, 0x22, 0x15, 0x25], byte),
    tar,
    rest: fc.uint8Array({ maxLength: 100 }),
    cplDelta: interesting([0], fc.integer({ min: -3, max: 3 })),
  })
  .map((p) => {
    const body = Buffer.concat([Buffer.of(p.chl, p.spi1, p.spi2, p.kic, p.kid, ...p.tar), p.rest]);
    const cpl = Math.max(0, body.length + p.cplDelta);
    return Buffer.concat([Buffer.of(cpl >> 8, cpl & 0xff), body]);
  });

const userData: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 3, arbitrary: packetLike.map((p) => Buffer.concat([Buffer.from('027000', 'hex'), p])) },
  // first and later parts of a concatenated packet
  fc.tuple(byte, fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 4 }), packetLike).map(([ref, total, seq, p]) =>
    seq <= 1 ? Buffer.concat([Buffer.of(0x07, 0x00, 0x03, ref, total, seq, 0x70, 0x00), p]) : Buffer.concat([Buffer.of(0x05, 0x00, 0x03, ref, total, seq), p]),
  ),
  fc.uint8Array({ maxLength: 140 }),
).map((ud) => ud.subarray(0, 140));

const deliverTpdu: fc.Arbitrary<Uint8Array> = fc
  .record({ pid: interesting([0x7f], byte), udhi: interesting([true], fc.boolean()), ud: userData })
  .map((d) => rawDeliver(d.ud, d));

const randomEnvelope: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(fc.constantFrom(0x80, 0xa0), deliverTpdu).map(([cla, tpdu]) => encodeSmsPpDownloadApdu({ cla, tpdu })) },
  // D1 with random elements, and anything at all after C2
  fc.tuple(fc.constantFrom(0x80, 0xa0), fc.uint8Array({ maxLength: 200 })).map(([cla, inner]) => Buffer.concat([Buffer.of(cla, 0xc2, 0, 0, inner.length + 3, 0xd1, 0x81, inner.length), inner]).subarray(0, 5 + 255)),
  fc.uint8Array({ minLength: 1, maxLength: 255 }).map((data) => Buffer.concat([Buffer.of(0x80, 0xc2, 0, 0, data.length), data])),
);

t.test('random ENVELOPEs: no throw, no 6F00, no state change, card still answers', async (t) => {
  let answeredWithPoR = 0;
  for (const [name, base] of BASES) {
    fc.assert(
      fc.property(fc.array(randomEnvelope, { minLength: 1, maxLength: 3 }), (envelopes) => {
        const card = cardOf(base);
        for (const e of envelopes) {
          const r = answer(card, e);
          if ([0x61, 0x9f, 0x91].includes(r.sw >> 8)) answeredWithPoR++;
          // Follow what the card asks for, as a terminal would.
          if (r.sw >> 8 === 0x61 || r.sw >> 8 === 0x9f) answer(card, Buffer.of(e[0] === 0xa0 ? 0xa0 : 0x00, 0xc0, 0, 0, r.sw & 0xff));
          if (r.sw >> 8 === 0x91) answer(card, Buffer.of(0x80, 0x12, 0, 0, r.sw & 0xff));
          if (!isDeepStrictEqual(card.memory.state, base)) return false;
        }
        return stillAnswers(card);
      }),
      { numRuns: RUNS },
    );
    t.pass(`${name}: ${RUNS} runs`);
  }
  t.ok(answeredWithPoR > 0, `some reached the OTA layer and got an error PoR (${answeredWithPoR})`);
});

// ---------------------------------------------------------------- 3. mutated secured packets

const REPORT_SPI: Spi = { ...ADMIN_SPI, porViaSubmit: false };
const newKeyset = { kic: { algorithm: 'aes', key: new Uint8Array(16).fill(7) }, kid: { algorithm: 'aes', key: new Uint8Array(16).fill(8) }, kik: { algorithm: 'aes', key: new Uint8Array(16).fill(9) } } as const;

interface Valid {
  ud: Uint8Array;
  /** The state after the untouched packet, from `operational`. */
  after: CardState;
}

function valid(apdus: CommandApdu[], o: { keyset?: 1 | 2; spi?: Spi }): Valid {
  const keyset = o.keyset ?? 1;
  const cntr = operational.keysets[keyset - 1]!.counter + 1;
  const ud = commandUserData(encodeCompactCommands(apdus), { cntr, keyset, spi: o.spi ?? ADMIN_SPI });
  const card = cardOf(operational);
  const r = answer(card, envelopeOf(ud));
  if (r.sw === 0x9000 || r.sw >> 8 === 0x6a) throw new Error('a valid packet was not taken');
  return { ud, after: stateOf(card) };
}

const envelopeOf = (ud: Uint8Array, cla = 0x80) => encodeSmsPpDownloadApdu({ cla, tpdu: rawDeliver(ud) });

const VALID: Valid[] = [
  valid([lockApdu()], {}),
  valid([storeDataApdu({ chainId: 99n, batchId: Uint8Array.of(1, 2, 3) })], { spi: REPORT_SPI }),
  valid([putKeyApdu(3, newKeyset, keysOf(1).kikKey), readPublicKeyApdu(1)], {}),
  valid([lockApdu()], { keyset: 2 }),
  valid([getStatusApdu()], { keyset: 2, spi: REPORT_SPI }),
];
for (const v of VALID) if (isDeepStrictEqual(v.after, operational)) throw new Error('every valid packet changes the state (its counter at least)');

type Mutation =
  | { kind: 'flip'; at: { pos: number; bit: number }[] }
  | { kind: 'set'; pos: number; value: number }
  | { kind: 'truncate'; length: number }
  | { kind: 'extend'; extra: Uint8Array }
  | { kind: 'delete'; pos: number; count: number }
  | { kind: 'insert'; pos: number; bytes: Uint8Array }
  | { kind: 'splice'; other: number; cut: number; from: number };

const nat = fc.nat({ max: 400 });
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('flip' as const), at: fc.array(fc.record({ pos: nat, bit: fc.integer({ min: 0, max: 7 }) }), { minLength: 1, maxLength: 3 }) }) },
  fc.record({ kind: fc.constant('set' as const), pos: nat, value: byte }),
  fc.record({ kind: fc.constant('truncate' as const), length: nat }),
  fc.record({ kind: fc.constant('extend' as const), extra: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ kind: fc.constant('delete' as const), pos: nat, count: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant('insert' as const), pos: nat, bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('splice' as const), other: fc.nat({ max: VALID.length - 1 }), cut: nat, from: nat }) },
);

function mutate(bytes: Uint8Array, m: Mutation): Uint8Array {
  const b = Buffer.from(bytes);
  const at = (pos: number) => pos % Math.max(1, b.length);
  switch (m.kind) {
    case 'flip':
      for (const { pos, bit } of m.at) if (b.length > 0) b[at(pos)]! ^= 1 << bit;
      return b;
    case 'set':
      if (b.length > 0) b[at(m.pos)] = m.value;
      return b;
    case 'truncate':
      return b.subarray(0, m.length % Math.max(1, b.length));
    case 'extend':
      return Buffer.concat([b, m.extra]);
    case 'delete':
      return Buffer.concat([b.subarray(0, at(m.pos)), b.subarray(at(m.pos) + m.count)]);
    case 'insert':
      return Buffer.concat([b.subarray(0, at(m.pos)), m.bytes, b.subarray(at(m.pos))]);
    case 'splice': {
      const other = VALID[m.other]!.ud;
      return Buffer.concat([b.subarray(0, at(m.cut)), other.subarray(m.from % other.length)]);
    }
  }
}

/** The secured packet a user data carries whole (command packet identifier, no concatenation), if any. */
function packetOf(ud: Uint8Array): Buffer | undefined {
  try {
    const { ies, payload } = splitUdh(ud);
    return packetKindOf(ies) === 'command' && !findConcat(ies) ? Buffer.from(payload) : undefined;
  } catch {
    return undefined;
  }
}

/** What a mutated ENVELOPE delivers to the OTA layer, if anything: the packet in a data-download SMS-DELIVER. */
function deliveredPacket(capdu: Uint8Array): Buffer | undefined {
  try {
    const a = decodeCommandApdu(capdu);
    if ((a.cla !== 0x80 && a.cla !== 0xa0) || a.ins !== 0xc2 || a.p1 !== 0 || a.p2 !== 0) return undefined;
    const deliver = decodeSmsDeliver(decodeSmsPpDownload(a.data).tpdu);
    return deliver.pid === 0x7f && deliver.udhi ? packetOf(deliver.ud) : undefined;
  } catch {
    return undefined;
  }
}

/** The state a card must be in after `capdu`: unchanged, unless it delivered one of the valid packets untouched. */
function expectedAfter(capdu: Uint8Array): CardState {
  const packet = deliveredPacket(capdu);
  const same = packet && VALID.find((v) => packetOf(v.ud)!.equals(packet));
  return same ? same.after : operational;
}

t.test('mutated secured packets: only an untouched packet changes the card, and then exactly as it should', async (t) => {
  let authentic = 0;
  let rejected = 0;
  // Mutations of the SMS user data, delivered in a well-formed SMS-PP download.
  fc.assert(
    fc.property(fc.nat({ max: VALID.length - 1 }), mutation, fc.constantFrom(0x80, 0xa0), (i, m, cla) => {
      const ud = mutate(VALID[i]!.ud, m);
      if (ud.length > 140) return true;
      const capdu = envelopeOf(ud, cla);
      const card = cardOf(operational);
      answer(card, capdu);
      const expected = expectedAfter(capdu);
      if (expected === operational) rejected++;
      else authentic++;
      return isDeepStrictEqual(card.memory.state, expected) && stillAnswers(card);
    }),
    { numRuns: RUNS },
  );
  // Mutations of the whole ENVELOPE APDU: some land outside the secured packet (address, time stamp)
  // and leave it intact, and then the packet must be taken as it is.
  fc.assert(
    fc.property(fc.nat({ max: VALID.length - 1 }), mutation, (i, m) => {
      const capdu = mutate(envelopeOf(VALID[i]!.ud), m);
      const card = cardOf(operational);
      answer(card, capdu);
      const expected = expectedAfter(capdu);
      if (expected === operational) rejected++;
      else authentic++;
      return isDeepStrictEqual(card.memory.state, expected) && stillAnswers(card);
    }),
    { numRuns: RUNS },
  );
  t.ok(rejected > RUNS, `mutations rejected without a trace (${rejected})`);
  t.ok(authentic > 0, `mutations that left the packet intact were taken (${authentic})`);
});

t.test('a replayed packet and a packet under the other keyset counter change nothing', async (t) => {
  // A control for the oracle above: the valid packets themselves, twice.
  for (const v of VALID) {
    const card = cardOf(operational);
    answer(card, envelopeOf(v.ud));
    t.strictSame(stateOf(card), v.after, 'taken once');
    answer(card, envelopeOf(v.ud));
    t.strictSame(stateOf(card), v.after, 'and not twice (counter)');
    t.ok(stillAnswers(card));
  }
});

// ---------------------------------------------------------------- 4. authenticated garbage

const dataObject = fc
  .tuple(interesting([0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xca, 0xcb], byte), fc.uint8Array({ maxLength: 40 }))
  .map(([tag, value]) => Buffer.concat([Buffer.of(tag, value.length), value]));
const scriptApdu: fc.Arbitrary<CommandApdu> = fc.record({
  cla: interesting([0x80], byte),
  ins: interesting([...Object.values(INS)], byte),
  p1: interesting([0, 1, 2, 3, 0x80, 0x81], byte),
  p2: interesting([0, 1, 2, 4, 5, 0x80, 0x81, 0x82, 0xc1], byte),
  data: fc.oneof(fc.uint8Array({ maxLength: 100 }), fc.array(dataObject, { maxLength: 3 }).map((list) => Buffer.concat(list)), fc.constant(new Uint8Array(0))),
  ne: fc.option(fc.integer({ min: 1, max: 256 }), { nil: undefined }),
});

t.test('authenticated packets carrying random scripts: the applet never faults and the card stays whole', async (t) => {
  fc.assert(
    fc.property(fc.array(scriptApdu, { minLength: 1, maxLength: 4 }), (script) => {
      const card = cardOf(operational);
      const before = stateOf(card);
      const r = ota(card, script);
      if (!r.por || r.por.status !== 0 || !r.por.ccValid || !r.response) return false;
      if (r.response.sw === 0x6f00 || r.response.executed < 1) return false;
      const after = card.memory.state;
      // The card's shape is fixed at personalisation; no script can grow or shrink it.
      const shape = (s: CardState) => [s.keysets.length, s.keySlots.length, s.trustAnchors.length, s.tars, s.iccid, s.attestation];
      if (!isDeepStrictEqual(shape(after), shape(before))) return false;
      if (after.readingCounter < before.readingCounter || after.keysets[0]!.counter !== before.keysets[0]!.counter + 1) return false;
      return stillAnswers(card);
    }),
    { numRuns: 200 },
  );
  t.pass('200 scripts');
});
