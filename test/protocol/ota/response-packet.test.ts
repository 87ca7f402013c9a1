import fc from 'fast-check';
import t from 'tap';
import { fromHex, toHex } from '../../../sim-applet/bytes.js';
import { isProtocolError } from '../../../sim-applet/errors.js';
import {
  createOtaKey,
  decodeResponsePacket,
  encryptCbc,
  decodeSpi,
  encodeResponsePacket,
  MAX_COUNTER,
  PorStatus,
  porStatusName,
  type OtaAlgorithm,
  type OtaKey,
  type PorStatusCode,
  type ResponsePacketInput,
  type Spi,
} from '../../../sim-applet/protocol/ota/index.js';
import { vectorById, vectorsOfKind, type Vector } from '../../helpers/vectors.js';

/** The vectors' algorithm names (schema: 3DES = 2-key 3DES-CBC, AES = AES-CBC + CMAC). */
const ALGORITHM: Record<string, OtaAlgorithm> = { '3DES': '3des2', AES: 'aes' };

function keysOf(v: Vector): { spi: Spi; kicKey: OtaKey; kidKey: OtaKey } {
  const algorithm = ALGORITHM[v.algorithm as string]!;
  return {
    spi: decodeSpi(fromHex(v.spi as string)),
    kicKey: createOtaKey(algorithm, fromHex(v.kic as string)),
    kidKey: createOtaKey(algorithm, fromHex(v.kid as string)),
  };
}

interface PysimDecode {
  tar: string;
  cntr: string;
  pcntr: number;
  response_status_code: number;
  cc_rc: string;
  secured_data: string;
  cc_verified: boolean;
}

t.test('por vectors: the backend decodes what pySim decodes; the card re-encodes the bytes', async (t) => {
  const vectors = vectorsOfKind('por');
  t.equal(vectors.length, 12);
  for (const v of vectors) {
    const keys = keysOf(v);
    const userData = fromHex(v.por_user_data_hex as string);
    const r = decodeResponsePacket(userData, keys);
    const p = v.decoded_by_pysim as PysimDecode | undefined;
    if (p === undefined) continue; // ota-3des-por-cc-bad: pySim raised; checked below.
    t.same(
      {
        tar: toHex(r.tar),
        cntr: r.cntr,
        pcntr: r.pcntr,
        status: r.status,
        statusName: r.statusName,
        data: toHex(r.data),
        cc: toHex(r.cc),
        ccValid: r.ccValid,
        ciphered: r.ciphered,
      },
      {
        tar: p.tar,
        cntr: parseInt(p.cntr, 16),
        pcntr: p.pcntr,
        status: p.response_status_code,
        statusName: porStatusName(p.response_status_code),
        data: p.secured_data,
        cc: p.cc_rc,
        ccValid: p.cc_verified,
        ciphered: keys.spi.porCiphered,
      },
      v.id,
    );
    if ((v.checks as Record<string, boolean>).encode_por_reproduces_bytes) {
      const again = encodeResponsePacket({ ...keys, tar: r.tar, cntr: r.cntr, status: r.status as PorStatusCode, data: r.data });
      t.equal(toHex(again), toHex(userData), `${v.id} re-encoded`);
    }
  }
});

t.test('ota-3des-por-cc-bad: a CC that fails is ccValid false, not an error', async (t) => {
  const v = vectorById('ota-3des-por-cc-bad');
  const r = decodeResponsePacket(fromHex(v.por_user_data_hex as string), keysOf(v));
  t.match(r, { ccValid: false, ciphered: false, status: 0, statusName: 'ok', pcntr: 0 });
  t.equal(toHex(r.data), '02612f');
});

t.test('doc-3des-por-replay-error: an error PoR sent in clear where the SPI asked for ciphering and CC', async (t) => {
  const v = vectorById('doc-3des-por-replay-error');
  const userData = fromHex(v.por_user_data_hex as string);
  const keys = keysOf(v);
  // The command that was answered asked for a ciphered PoR with CC (the replayed doc-3des-cmd-cntr100).
  const asked = decodeSpi(fromHex(vectorById('doc-3des-cmd-cntr100').spi as string));
  t.match(asked, { porCiphered: true, porIntegrity: 'cc' });
  const r = decodeResponsePacket(userData, { ...keys, spi: asked });
  t.match(r, { ccValid: false, ciphered: false, status: PorStatus.UNDEFINED_SECURITY_ERROR, statusName: 'undefined-security-error', cntr: 0, pcntr: 0 });
  t.equal(r.cc.length, 0);
  t.equal(r.data.length, 0);
  t.equal(toHex(r.tar), 'b00010');
  const card = encodeResponsePacket({ ...keys, spi: asked, tar: r.tar, cntr: 0, status: PorStatus.UNDEFINED_SECURITY_ERROR, data: new Uint8Array(0), secured: false });
  t.equal(toHex(card), toHex(userData), 'the card sends the same unsecured PoR');
  // Decoding it needs no key at all.
  t.match(decodeResponsePacket(userData, { spi: asked }), { ccValid: false, status: 6 });
});

t.test('framing vector PoR (keys unknown): structure only', async (t) => {
  const v = vectorById('frame-envelope-smspp-download');
  const userData = fromHex(v.response_por_user_data_hex as string);
  t.equal(toHex(userData.subarray(0, 3)), '027100');
  t.equal(Buffer.from(userData).readUInt16BE(3), userData.length - 5, 'RPL');
  t.equal(userData[5], 18, 'RHL = 10 + 8-byte CC');
  t.equal(toHex(userData.subarray(6, 9)), 'b00001', 'TAR in clear');
  t.equal((userData.length - 9) % 16, 0, 'CNTR..padding is whole AES blocks');
  const spi = decodeSpi(fromHex((v.breakdown as Record<string, Record<string, string>>).tpdu_fields!.spi!));
  t.throws(() => decodeResponsePacket(userData, { spi }), { name: 'ProtocolError', code: 'INVALID_ARGUMENT', details: { field: 'kicKey' } });
});

const AES = createOtaKey('aes', new Uint8Array(16).fill(9));
const TDES = createOtaKey('3des2', new Uint8Array(16).fill(3));
const SPI: Spi = { integrity: 'cc', ciphered: true, counter: 'higher', por: 'always', porIntegrity: 'cc', porCiphered: true, porViaSubmit: false };
const POR: ResponsePacketInput = { spi: SPI, tar: fromHex('b00010'), cntr: 100, status: 0, data: fromHex('019000'), kicKey: AES, kidKey: AES };

t.test('layout: RPL, RHL, padding to the block counted in PCNTR', async (t) => {
  const secured = Buffer.from(encodeResponsePacket(POR));
  t.equal(secured.readUInt16BE(3), secured.length - 5);
  t.equal(secured[5], 18);
  t.equal((secured.length - 9) % 16, 0);
  t.match(decodeResponsePacket(secured, POR), { pcntr: 16 - ((7 + 8 + 3) % 16), ciphered: true, ccValid: true });
  const plain = Buffer.from(encodeResponsePacket({ ...POR, spi: { ...SPI, porCiphered: false, porIntegrity: 'none' } }));
  t.equal(toHex(plain), '027100' + '000e' + '0a' + 'b00010' + '0000000064' + '00' + '00' + '019000');
  const unsecured = encodeResponsePacket({ ...POR, status: PorStatus.COUNTER_LOW, secured: false, kicKey: undefined, kidKey: undefined });
  t.equal(unsecured[5], 10, 'secured: false gives RHL 10');
  t.match(decodeResponsePacket(unsecured, POR), { ccValid: false, ciphered: false, status: 2, statusName: 'counter-low' });
});

t.test('decode errors are typed', async (t) => {
  const good = Buffer.from(encodeResponsePacket(POR));
  const plain = Buffer.from(encodeResponsePacket({ ...POR, spi: { ...SPI, porCiphered: false } }));
  const cases: [string, Uint8Array, Partial<Parameters<typeof decodeResponsePacket>[1]>, string, string][] = [
    ['command UDH', Buffer.concat([Buffer.from('027000', 'hex'), good.subarray(3)]), {}, 'MALFORMED', 'udh'],
    ['no UDH', good.subarray(3), {}, 'MALFORMED', 'udh'],
    ['2 bytes', fromHex('0271'), {}, 'TRUNCATED', 'udh'],
    ['UDH only', fromHex('027100'), {}, 'TRUNCATED', 'userData'],
    ['15 bytes', good.subarray(0, 15), {}, 'TRUNCATED', 'userData'],
    ['truncated', good.subarray(0, good.length - 1), {}, 'LENGTH_MISMATCH', 'rpl'],
    ['trailing byte', Buffer.concat([good, Buffer.of(0)]), {}, 'LENGTH_MISMATCH', 'rpl'],
    ['RHL 14', Buffer.concat([good.subarray(0, 5), Buffer.of(14), good.subarray(6)]), {}, 'MALFORMED', 'rhl'],
    ['CC where none asked', plain, { spi: { ...SPI, porCiphered: false, porIntegrity: 'none' } }, 'MALFORMED', 'rhl'],
    ['RC asked', plain, { spi: { ...SPI, porIntegrity: 'rc' } }, 'UNSUPPORTED', 'spi.porIntegrity'],
    ['no KIc key', good, { kicKey: undefined }, 'INVALID_ARGUMENT', 'kicKey'],
    ['no KID key', plain, { spi: { ...SPI, porCiphered: false }, kidKey: undefined }, 'INVALID_ARGUMENT', 'kidKey'],
    ['raw key', good, { kicKey: new Uint8Array(16) as unknown as OtaKey }, 'INVALID_ARGUMENT', 'kicKey'],
    ['ciphertext not a block multiple', withRpl(good.subarray(0, good.length - 1)), {}, 'INVALID_PADDING', 'ciphertext'],
    ['CC too long for the bytes', withRpl(plain.subarray(0, 20)), { spi: { ...SPI, porCiphered: false } }, 'TRUNCATED', 'cc'],
    ['bad SPI', good, { spi: { ...SPI, por: 'x' as 'always' } }, 'INVALID_ARGUMENT', 'spi.por'],
  ];
  for (const [name, userData, change, code, field] of cases) {
    t.throws(() => decodeResponsePacket(userData, { ...POR, ...change }), { name: 'ProtocolError', code, details: { field } }, name);
  }
  t.throws(() => decodeResponsePacket(good, null as never), { code: 'INVALID_ARGUMENT', details: { field: 'keys' } });
  t.throws(() => decodeResponsePacket('0271' as never, POR), { code: 'INVALID_ARGUMENT', details: { field: 'userData' } });
});

function withRpl(bytes: Uint8Array): Buffer {
  const b = Buffer.from(bytes);
  b.writeUInt16BE(b.length - 5, 3);
  return b;
}

t.test('bad PCNTR or padding in a PoR is INVALID_PADDING', async (t) => {
  // Unciphered with PCNTR 1: the CC still verifies (it covers PCNTR), the structure does not.
  const spi = { ...SPI, porCiphered: false };
  const por = Buffer.from(encodeResponsePacket({ ...POR, spi }));
  por[14] = 1;
  t.throws(() => decodeResponsePacket(por, { ...POR, spi }), { code: 'INVALID_PADDING', details: { field: 'pcntr', pcntr: 1, ccValid: false } });

  // Ciphered without CC, assembled by hand: a clear PoR with the padding we want, then
  // CNTR..end ciphered with 3DES (block 8). 7 header bytes after TAR + data + padding.
  const ciphered = (data: string, pcntr: number, padding: string): Buffer => {
    const clear = Buffer.from(`027100ffff0ab000100000000064${toHex(Uint8Array.of(pcntr))}00${data}${padding}`, 'hex');
    clear.set(encryptCbc(TDES, clear.subarray(9)), 9);
    return withRpl(clear);
  };
  const keys = { spi: { ...SPI, porIntegrity: 'none' as const }, kicKey: TDES };
  t.match(decodeResponsePacket(ciphered('01', 0, ''), keys), { pcntr: 0, ccValid: false, ciphered: true, cntr: 100 }, 'a right one decodes');
  t.throws(() => decodeResponsePacket(ciphered('01', 8, '0000000000000000'), keys), { code: 'INVALID_PADDING', details: { field: 'pcntr', pcntr: 8 } });
  t.throws(() => decodeResponsePacket(ciphered('', 2, '00'), keys), { code: 'INVALID_PADDING', details: { field: 'pcntr', pcntr: 2 } });
  t.throws(() => decodeResponsePacket(ciphered('', 1, '07'), keys), { code: 'INVALID_PADDING', details: { field: 'padding' } });
});

t.test('encode errors are typed', async (t) => {
  const cases: [string, Partial<ResponsePacketInput>, string, string][] = [
    ['status 0x0D', { status: 0x0d as PorStatusCode }, 'INVALID_ARGUMENT', 'status'],
    ['status -1', { status: -1 as PorStatusCode }, 'INVALID_ARGUMENT', 'status'],
    ['TAR of 4 bytes', { tar: fromHex('b0001000') }, 'INVALID_ARGUMENT', 'tar'],
    ['CNTR over 40 bits', { cntr: MAX_COUNTER + 1 }, 'INVALID_ARGUMENT', 'cntr'],
    ['data not bytes', { data: [1] as unknown as Uint8Array }, 'INVALID_ARGUMENT', 'data'],
    ['no KIc key', { kicKey: undefined }, 'INVALID_ARGUMENT', 'kicKey'],
    ['no KID key', { kidKey: undefined }, 'INVALID_ARGUMENT', 'kidKey'],
    ['DS asked', { spi: { ...SPI, porIntegrity: 'ds' } }, 'UNSUPPORTED', 'spi.porIntegrity'],
    ['secured not boolean', { secured: 'no' as unknown as boolean }, 'INVALID_ARGUMENT', 'secured'],
    ['data over RPL 65535', { data: new Uint8Array(65536) }, 'TOO_LONG', 'data'],
  ];
  for (const [name, change, code, field] of cases) {
    t.throws(() => encodeResponsePacket({ ...POR, ...change }), { name: 'ProtocolError', code, details: { field } }, name);
  }
  t.throws(() => encodeResponsePacket(undefined as never), { code: 'INVALID_ARGUMENT', details: { field: 'input' } });
  t.doesNotThrow(() => encodeResponsePacket({ ...POR, kicKey: undefined, kidKey: undefined, secured: false }), 'unsecured needs no keys');
});

// ---- properties -------------------------------------------------------------------------

const ALGORITHMS: [OtaAlgorithm, number][] = [['des', 8], ['3des2', 16], ['3des3', 24], ['aes', 16], ['aes', 24], ['aes', 32]];

const porArb = fc
  .record({
    porIntegrity: fc.constantFrom<'none' | 'cc'>('none', 'cc'),
    porCiphered: fc.boolean(),
    kicAlg: fc.constantFrom(...ALGORITHMS),
    kidAlg: fc.constantFrom(...ALGORITHMS),
    kicBytes: fc.uint8Array({ minLength: 32, maxLength: 32 }),
    kidBytes: fc.uint8Array({ minLength: 32, maxLength: 32 }),
    tar: fc.uint8Array({ minLength: 3, maxLength: 3 }),
    cntr: fc.integer({ min: 0, max: MAX_COUNTER }),
    status: fc.integer({ min: 0, max: 0x0c }),
    data: fc.uint8Array({ maxLength: 100 }),
  })
  .map(
    (r): ResponsePacketInput => ({
      spi: { ...SPI, porIntegrity: r.porIntegrity, porCiphered: r.porCiphered },
      tar: r.tar,
      cntr: r.cntr,
      status: r.status as PorStatusCode,
      data: r.data,
      kicKey: createOtaKey(r.kicAlg[0], r.kicBytes.subarray(0, r.kicAlg[1])),
      kidKey: createOtaKey(r.kidAlg[0], r.kidBytes.subarray(0, r.kidAlg[1])),
    }),
  );

t.test('property: PoR encode then decode is the identity', async (t) => {
  fc.assert(
    fc.property(porArb, fc.boolean(), (por, secured) => {
      // Unsecured PoRs are recognisable only where a CC was asked for (RHL 10 in clear), or
      // where nothing was asked: a ciphered-only SPI cannot show that the card answered in clear.
      if (!secured && por.spi.porCiphered && por.spi.porIntegrity === 'none') secured = true;
      const userData = encodeResponsePacket({ ...por, secured });
      const r = decodeResponsePacket(userData, por);
      return (
        toHex(r.tar) === toHex(por.tar) &&
        r.cntr === por.cntr &&
        r.status === por.status &&
        toHex(r.data) === toHex(por.data) &&
        r.ciphered === (secured && por.spi.porCiphered) &&
        r.ccValid === (secured && por.spi.porIntegrity === 'cc') &&
        r.cc.length === (r.ccValid ? 8 : 0)
      );
    }),
    { numRuns: 300 },
  );
  t.pass('property holds');
});

t.test('property: a single bit flipped in a PoR with CC never passes as valid', async (t) => {
  fc.assert(
    fc.property(
      porArb.filter((p) => p.spi.porIntegrity === 'cc'),
      fc.nat(),
      (por, at) => {
        const userData = Buffer.from(encodeResponsePacket(por));
        const bit = at % (userData.length * 8);
        userData[bit >> 3] = userData[bit >> 3]! ^ (1 << (bit & 7));
        try {
          return !decodeResponsePacket(userData, por).ccValid;
        } catch (e) {
          return isProtocolError(e);
        }
      },
    ),
    { numRuns: 1000 },
  );
  t.pass('property holds');
});

t.test('property: decodeResponsePacket on random bytes raises only ProtocolErrors', async (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 120 }), porArb, fc.boolean(), (rest, por, withHeader) => {
      const userData = withHeader ? withRpl(Buffer.concat([Buffer.from('027100', 'hex'), Buffer.alloc(2), Buffer.from(rest)])) : rest;
      try {
        decodeResponsePacket(userData, por);
        return true;
      } catch (e) {
        return isProtocolError(e);
      }
    }),
    { numRuns: 2000 },
  );
  t.pass('property holds');
});
