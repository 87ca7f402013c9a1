import fc from 'fast-check';
import t, { type Test } from 'tap';
import { concatBytes, fromHex, toHex } from '../../../sim-applet/bytes.js';
import {
  computeCc,
  createOtaKey,
  decodeCommandPacket,
  encodeCommandPacket,
  encodeKeyCoding,
  encodeSpi,
  encryptCbc,
  MAX_COUNTER,
  parseCommandHeader,
  PorStatus,
  type CommandDecodeResult,
  type CommandPacketInput,
  type OtaAlgorithm,
  type OtaKey,
  type ResolveKeys,
  type Spi,
} from '../../../sim-applet/protocol/ota/index.js';

const AES = createOtaKey('aes', fromHex('000102030405060708090a0b0c0d0e0f'));
const AES_OTHER = createOtaKey('aes', fromHex('0f0e0d0c0b0a09080706050403020100'));
const TDES = createOtaKey('3des2', fromHex('0123456789abcdeffedcba9876543210'));
const SPI: Spi = { integrity: 'cc', ciphered: true, counter: 'higher', por: 'always', porIntegrity: 'cc', porCiphered: true, porViaSubmit: false };
const DATA = fromHex('80e60200160102030405');
const GOOD: CommandPacketInput = { spi: SPI, kic: 0x12, kid: 0x12, tar: fromHex('b00010'), cntr: 7, kicKey: AES, kidKey: AES, data: DATA };
const keysOf = (kicKey?: OtaKey, kidKey?: OtaKey): ResolveKeys => () => ({ kicKey, kidKey });
const ALWAYS_AES = keysOf(AES, AES);

function packetOf(change: Partial<CommandPacketInput> = {}): Buffer {
  return Buffer.from(encodeCommandPacket({ ...GOOD, ...change }));
}

/** Replace bytes from `at` and keep CPL consistent with the new length. */
function withCpl(bytes: Uint8Array): Buffer {
  const b = Buffer.from(bytes);
  if (b.length >= 2) b.writeUInt16BE(b.length - 2, 0);
  return b;
}

/**
 * A command packet assembled from the primitives, with any PCNTR and padding: how a buggy
 * or hostile sender could build it. Also an independent check of the encoder's layout.
 */
function craft(o: { spi: Spi; key: OtaKey; coding: number; data: Uint8Array; pcntr: number; padding: Uint8Array; ccKey?: OtaKey }): Buffer {
  const ccLength = o.spi.integrity === 'cc' ? 8 : 0;
  const body = concatBytes(o.data, o.padding);
  const head = Buffer.alloc(16);
  head.writeUInt16BE(16 + ccLength + body.length - 2, 0);
  head[2] = 13 + ccLength;
  head.set(encodeSpi(o.spi), 3);
  head[5] = o.coding;
  head[6] = o.coding;
  head.set(fromHex('b00010'), 7);
  head.writeUIntBE(7, 10, 5);
  head[15] = o.pcntr;
  const cc = ccLength > 0 ? computeCc(o.ccKey ?? o.key, concatBytes(head, body)) : new Uint8Array(0);
  let secured: Uint8Array = concatBytes(head.subarray(10), cc, body);
  if (o.spi.ciphered) secured = encryptCbc(o.key, secured);
  return Buffer.concat([head.subarray(0, 10), secured]);
}

function expectStatus(t: Test, r: CommandDecodeResult, status: number, field: string, withHeader = true): void {
  t.match(r, { ok: false, malformed: false, status, field }, `status ${status} on ${field}`);
  if (!r.ok && !r.malformed) t.equal(r.header !== undefined, withHeader, withHeader ? 'header given' : 'no header');
}

t.test('the encoder and a packet assembled by hand agree', async (t) => {
  const crafted = craft({ spi: SPI, key: AES, coding: 0x12, data: DATA, pcntr: 8, padding: new Uint8Array(8) });
  t.equal(toHex(crafted), toHex(packetOf()));
});

t.test('a good packet decodes, with the keys to answer with', async (t) => {
  const r = decodeCommandPacket(packetOf(), ALWAYS_AES);
  t.match(r, { ok: true, cntr: 7, pcntr: 8, header: { cpl: 40, chl: 21, spi: SPI, kic: 0x12, kid: 0x12 } });
  if (r.ok) {
    t.equal(toHex(r.data), toHex(DATA));
    t.equal(r.kicKey, AES);
    t.equal(r.kidKey, AES);
    t.equal(toHex(r.header.tar), 'b00010');
  }
});

t.test('malformed: no usable header, no status', async (t) => {
  const good = packetOf();
  const cases: [string, Uint8Array, string, string][] = [
    ['empty', new Uint8Array(0), 'TRUNCATED', 'packet'],
    ['one byte', fromHex('00'), 'TRUNCATED', 'packet'],
    ['15 bytes with consistent CPL', withCpl(good.subarray(0, 15)), 'TRUNCATED', 'packet'],
    ['CPL one more than the bytes', Buffer.concat([Buffer.from([0, good.length - 1]), good.subarray(2)]), 'LENGTH_MISMATCH', 'cpl'],
    ['CPL one less than the bytes', Buffer.concat([Buffer.from([0, good.length - 3]), good.subarray(2)]), 'LENGTH_MISMATCH', 'cpl'],
    ['truncated, CPL unchanged', good.subarray(0, good.length - 1), 'LENGTH_MISMATCH', 'cpl'],
    ['trailing byte, CPL unchanged', Buffer.concat([good, Buffer.of(0)]), 'LENGTH_MISMATCH', 'cpl'],
    ['ends inside the CC', withCpl(packetOf({ spi: { ...SPI, ciphered: false } }).subarray(0, 20)), 'TRUNCATED', 'cc'],
    ['not bytes', 'packet' as unknown as Uint8Array, 'INVALID_ARGUMENT', 'packet'],
  ];
  for (const [name, packet, code, field] of cases) {
    t.same(Object.keys(decodeCommandPacket(packet, ALWAYS_AES)).sort(), ['code', 'field', 'malformed', 'ok', 'reason'], name);
    t.match(decodeCommandPacket(packet, ALWAYS_AES), { ok: false, malformed: true, code, field }, name);
  }
});

t.test('06 undefined security error: SPI, CHL, KID', async (t) => {
  const good = packetOf();
  const reserved = Buffer.from(good);
  reserved[3] = reserved[3]! | 0x80;
  expectStatus(t, decodeCommandPacket(reserved, ALWAYS_AES), PorStatus.UNDEFINED_SECURITY_ERROR, 'spi', false);
  const porReserved = Buffer.from(good);
  porReserved[4] = porReserved[4]! | 0x03;
  expectStatus(t, decodeCommandPacket(porReserved, ALWAYS_AES), PorStatus.UNDEFINED_SECURITY_ERROR, 'spi', false);

  const rc = Buffer.from(good);
  rc[3] = (rc[3]! & ~0x03) | 0x01;
  expectStatus(t, decodeCommandPacket(rc, ALWAYS_AES), PorStatus.UNDEFINED_SECURITY_ERROR, 'spi');
  const ds = Buffer.from(good);
  ds[3] = ds[3]! | 0x03;
  expectStatus(t, decodeCommandPacket(ds, ALWAYS_AES), PorStatus.UNDEFINED_SECURITY_ERROR, 'spi');
  const porRc = packetOf({ spi: { ...SPI, porIntegrity: 'rc' } });
  expectStatus(t, decodeCommandPacket(porRc, ALWAYS_AES), PorStatus.UNDEFINED_SECURITY_ERROR, 'spi');

  for (const chl of [0, 13, 20, 22, 0xff]) {
    const p = Buffer.from(good);
    p[2] = chl;
    expectStatus(t, decodeCommandPacket(p, ALWAYS_AES), PorStatus.UNDEFINED_SECURITY_ERROR, 'chl');
  }
  const noCc = packetOf({ spi: { ...SPI, integrity: 'none' } });
  noCc[2] = 21;
  expectStatus(t, decodeCommandPacket(noCc, ALWAYS_AES), PorStatus.UNDEFINED_SECURITY_ERROR, 'chl');

  expectStatus(t, decodeCommandPacket(packetOf(), keysOf(AES, undefined)), PorStatus.UNDEFINED_SECURITY_ERROR, 'kid');
  expectStatus(t, decodeCommandPacket(packetOf(), keysOf(AES, TDES)), PorStatus.UNDEFINED_SECURITY_ERROR, 'kid');
  expectStatus(t, decodeCommandPacket(packetOf(), keysOf(AES, 'key' as unknown as OtaKey)), PorStatus.UNDEFINED_SECURITY_ERROR, 'kid');
  const unknownKid = packetOf();
  unknownKid[6] = 0x1f;
  expectStatus(t, decodeCommandPacket(unknownKid, ALWAYS_AES), PorStatus.UNDEFINED_SECURITY_ERROR, 'kid');
  // The PoR needs a KID key even when the command carries no CC.
  const porCcOnly = packetOf({ spi: { ...SPI, integrity: 'none' } });
  expectStatus(t, decodeCommandPacket(porCcOnly, keysOf(AES, undefined)), PorStatus.UNDEFINED_SECURITY_ERROR, 'kid');
});

t.test('05 ciphering error: KIc, ciphertext length, PCNTR, padding', async (t) => {
  expectStatus(t, decodeCommandPacket(packetOf(), () => undefined), PorStatus.CIPHERING_ERROR, 'kic');
  expectStatus(t, decodeCommandPacket(packetOf(), keysOf(undefined, AES)), PorStatus.CIPHERING_ERROR, 'kic');
  expectStatus(t, decodeCommandPacket(packetOf(), keysOf(TDES, AES)), PorStatus.CIPHERING_ERROR, 'kic');
  for (const kic of [0x13, 0x1d, 0x1f]) {
    const p = packetOf();
    p[5] = kic;
    expectStatus(t, decodeCommandPacket(p, ALWAYS_AES), PorStatus.CIPHERING_ERROR, 'kic');
  }
  // The PoR needs a KIc key even when the command is not ciphered.
  expectStatus(t, decodeCommandPacket(packetOf({ spi: { ...SPI, ciphered: false } }), keysOf(undefined, AES)), PorStatus.CIPHERING_ERROR, 'kic');
  // No PoR asked: its keys are not needed.
  t.ok(decodeCommandPacket(packetOf({ spi: { ...SPI, ciphered: false, por: 'none' } }), keysOf(undefined, AES)).ok);

  const short = withCpl(packetOf().subarray(0, packetOf().length - 1));
  expectStatus(t, decodeCommandPacket(short, ALWAYS_AES), PorStatus.CIPHERING_ERROR, 'ciphertext');
  const aesInDes = withCpl(packetOf().subarray(0, packetOf().length - 8));
  expectStatus(t, decodeCommandPacket(aesInDes, ALWAYS_AES), PorStatus.CIPHERING_ERROR, 'ciphertext');

  const des = { spi: SPI, key: TDES, coding: 0x15 };
  // 6 + 8 + 2 = 16: a whole extra block of padding, PCNTR 8.
  expectStatus(t, decodeCommandPacket(craft({ ...des, data: fromHex('0102'), pcntr: 8, padding: new Uint8Array(8) }), keysOf(TDES, TDES)), PorStatus.CIPHERING_ERROR, 'pcntr');
  // 6 + 8 + 0 + 2 = 16 with AES: PCNTR 3 > the 2 bytes after the CC.
  expectStatus(t, decodeCommandPacket(craft({ spi: SPI, key: AES, coding: 0x12, data: new Uint8Array(0), pcntr: 3, padding: new Uint8Array(2) }), ALWAYS_AES), PorStatus.CIPHERING_ERROR, 'pcntr');
  expectStatus(t, decodeCommandPacket(craft({ ...des, data: fromHex('01'), pcntr: 1, padding: fromHex('05') }), keysOf(TDES, TDES)), PorStatus.CIPHERING_ERROR, 'padding');
  const clear = { ...SPI, ciphered: false };
  expectStatus(t, decodeCommandPacket(craft({ spi: clear, key: TDES, coding: 0x15, data: fromHex('0102'), pcntr: 1, padding: new Uint8Array(0) }), keysOf(TDES, TDES)), PorStatus.CIPHERING_ERROR, 'pcntr');
  // Sanity: the same builder with a right PCNTR decodes.
  t.ok(decodeCommandPacket(craft({ ...des, data: fromHex('01'), pcntr: 1, padding: fromHex('00') }), keysOf(TDES, TDES)).ok);
});

t.test('01: a CC that does not verify; checked before PCNTR, so no padding oracle', async (t) => {
  const flipped = packetOf();
  flipped[flipped.length - 1] = flipped[flipped.length - 1]! ^ 0x01;
  expectStatus(t, decodeCommandPacket(flipped, ALWAYS_AES), PorStatus.RC_CC_DS_FAILED, 'cc');
  expectStatus(t, decodeCommandPacket(packetOf({ kidKey: AES_OTHER }), ALWAYS_AES), PorStatus.RC_CC_DS_FAILED, 'cc');
  const badPaddingBadCc = craft({ spi: SPI, key: TDES, coding: 0x15, data: fromHex('0102'), pcntr: 8, padding: new Uint8Array(8), ccKey: createOtaKey('3des2', new Uint8Array(16)) });
  expectStatus(t, decodeCommandPacket(badPaddingBadCc, keysOf(TDES, TDES)), PorStatus.RC_CC_DS_FAILED, 'cc');
});

t.test('only an exception from resolveKeys itself passes through', async (t) => {
  t.throws(() => decodeCommandPacket(packetOf(), () => { throw new Error('keystore down'); }), { message: 'keystore down' });
  let calls = 0;
  decodeCommandPacket(packetOf({ spi: { ...SPI, integrity: 'none', ciphered: false, por: 'none' } }), () => (calls++, undefined));
  t.equal(calls, 0, 'no keys looked up when none are needed');
});

t.test('parseCommandHeader reads the clear header before any key, with typed errors', async (t) => {
  const h = parseCommandHeader(packetOf());
  t.match(h, { cpl: 40, chl: 21, spi: SPI, kic: 0x12, kid: 0x12 });
  t.equal(toHex(h.tar), 'b00010');
  t.throws(() => parseCommandHeader(fromHex('0001ff')), { name: 'ProtocolError', code: 'TRUNCATED', details: { field: 'packet' } });
  t.throws(() => parseCommandHeader(withCpl(packetOf()).subarray(0, 30)), { code: 'LENGTH_MISMATCH', details: { field: 'cpl' } });
  const reserved = packetOf();
  reserved[4] = 0xff;
  t.throws(() => parseCommandHeader(reserved), { code: 'MALFORMED', details: { field: 'spi', byte: 2 } });
  t.throws(() => parseCommandHeader([0, 1] as unknown as Uint8Array), { code: 'INVALID_ARGUMENT', details: { field: 'packet' } });
});

// ---- properties -------------------------------------------------------------------------

const ALGORITHMS: [OtaAlgorithm, number][] = [['des', 8], ['3des2', 16], ['3des3', 24], ['aes', 16], ['aes', 24], ['aes', 32]];

const spiArb = (integrity: fc.Arbitrary<'none' | 'cc'>) =>
  fc.record<Spi>({
    integrity,
    ciphered: fc.boolean(),
    counter: fc.constantFrom('none', 'no-replay-check', 'higher', 'one-higher'),
    por: fc.constantFrom('none', 'always', 'on-error'),
    porIntegrity: fc.constantFrom('none', 'cc'),
    porCiphered: fc.boolean(),
    porViaSubmit: fc.boolean(),
  });

interface Case {
  input: CommandPacketInput;
  kicIndex: number;
  kidIndex: number;
}

const caseArb = (integrity: fc.Arbitrary<'none' | 'cc'>) =>
  fc
    .record({
      spi: spiArb(integrity),
      kicAlg: fc.constantFrom(...ALGORITHMS),
      kidAlg: fc.constantFrom(...ALGORITHMS),
      kicIndex: fc.integer({ min: 0, max: 15 }),
      kidIndex: fc.integer({ min: 0, max: 15 }),
      kicImplicit: fc.boolean(),
      kidImplicit: fc.boolean(),
      kicBytes: fc.uint8Array({ minLength: 32, maxLength: 32 }),
      kidBytes: fc.uint8Array({ minLength: 32, maxLength: 32 }),
      tar: fc.uint8Array({ minLength: 3, maxLength: 3 }),
      cntr: fc.integer({ min: 0, max: MAX_COUNTER }),
      data: fc.uint8Array({ maxLength: 100 }),
    })
    .map((r): Case => {
      const kicKey = createOtaKey(r.kicAlg[0], r.kicBytes.subarray(0, r.kicAlg[1]));
      const kidKey = createOtaKey(r.kidAlg[0], r.kidBytes.subarray(0, r.kidAlg[1]));
      return {
        input: {
          spi: r.spi,
          kic: encodeKeyCoding({ index: r.kicIndex, algorithm: r.kicImplicit ? 'implicit' : r.kicAlg[0] }),
          kid: encodeKeyCoding({ index: r.kidIndex, algorithm: r.kidImplicit ? 'implicit' : r.kidAlg[0] }),
          tar: r.tar,
          cntr: r.cntr,
          kicKey,
          kidKey,
          data: r.data,
        },
        kicIndex: r.kicIndex,
        kidIndex: r.kidIndex,
      };
    });

/** The card's keyset: each key only under its own index. */
const cardKeys = (c: Case): ResolveKeys => (kic, kid) => ({
  kicKey: kic >>> 4 === c.kicIndex ? c.input.kicKey : undefined,
  kidKey: kid >>> 4 === c.kidIndex ? c.input.kidKey : undefined,
});

t.test('property: encode then card-side decode is the identity, for every SPI, algorithm and key length', async (t) => {
  fc.assert(
    fc.property(caseArb(fc.constantFrom('none', 'cc')), (c) => {
      const packet = encodeCommandPacket(c.input);
      const r = decodeCommandPacket(packet, cardKeys(c));
      if (!r.ok) return false;
      const porSent = c.input.spi.por !== 'none';
      return (
        toHex(r.data) === toHex(c.input.data) &&
        r.cntr === c.input.cntr &&
        toHex(r.header.tar) === toHex(c.input.tar) &&
        JSON.stringify(r.header.spi) === JSON.stringify(c.input.spi) &&
        r.header.kic === c.input.kic &&
        r.header.kid === c.input.kid &&
        r.header.cpl === packet.length - 2 &&
        r.pcntr < (c.input.spi.ciphered ? c.input.kicKey!.blockSize : 1) &&
        (r.kicKey === c.input.kicKey) === (c.input.spi.ciphered || (porSent && c.input.spi.porCiphered)) &&
        (r.kidKey === c.input.kidKey) === (c.input.spi.integrity === 'cc' || (porSent && c.input.spi.porIntegrity === 'cc'))
      );
    }),
    { numRuns: 300 },
  );
  t.pass('property holds');
});

t.test('property: any single bit flipped in a CC-protected packet is caught, never decoded', async (t) => {
  fc.assert(
    fc.property(caseArb(fc.constant('cc')), fc.nat(), fc.boolean(), (c, at, strictIndexes) => {
      const packet = Buffer.from(encodeCommandPacket(c.input));
      const bit = at % (packet.length * 8);
      packet[bit >> 3] = packet[bit >> 3]! ^ (1 << (bit & 7));
      // A card that ignores key indexes must still catch flips of KIc/KID: they are under the CC.
      const resolve: ResolveKeys = strictIndexes ? cardKeys(c) : () => ({ kicKey: c.input.kicKey, kidKey: c.input.kidKey });
      const r = decodeCommandPacket(packet, resolve);
      if (r.ok) return false;
      return r.malformed || r.status === 0x01 || r.status === 0x05 || r.status === 0x06;
    }),
    { numRuns: 1000 },
  );
  t.pass('property holds');
});

const KEYS = ALGORITHMS.map(([a, n]) => createOtaKey(a, new Uint8Array(n).fill(0x5a)));

t.test('property: decodeCommandPacket never throws, whatever the bytes', async (t) => {
  const resolver = fc.constantFrom<ResolveKeys>(
    () => undefined,
    () => ({}),
    ...KEYS.map((k) => () => ({ kicKey: k, kidKey: k })),
    () => ({ kicKey: 'x' as unknown as OtaKey, kidKey: null as unknown as OtaKey }),
  );
  const check = (packet: Uint8Array, resolve: ResolveKeys): boolean => {
    const r = decodeCommandPacket(packet, resolve);
    return typeof r.ok === 'boolean' && (r.ok || typeof r.reason === 'string');
  };
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), resolver, check), { numRuns: 2000 });
  t.pass('property holds');
  // Random bytes behind a consistent CPL and CHL reach the key, cipher and CC code.
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 14, maxLength: 200 }), fc.constantFrom(13, 21), resolver, (rest, chl, resolve) => {
      const packet = withCpl(concatBytes(new Uint8Array(2), Uint8Array.of(chl), rest));
      return check(packet, resolve);
    }),
    { numRuns: 3000 },
  );
  t.pass('property holds');
});
