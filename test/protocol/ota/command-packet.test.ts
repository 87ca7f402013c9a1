import t from 'tap';
import { fromHex, toHex } from '../../../sim-applet/bytes.js';
import {
  commandPacketFromUserData,
  commandUserData,
  createOtaKey,
  decodeCommandPacket,
  decodeSpi,
  encodeCommandPacket,
  encodeCommandUserData,
  encodeKeyCoding,
  parseCommandHeader,
  PorStatus,
  type CommandPacketInput,
  type OtaAlgorithm,
  type OtaKey,
  type Spi,
} from '../../../sim-applet/protocol/ota/index.js';
import { vectorsOfKind, type Vector } from '../../helpers/vectors.js';

/** The vectors' algorithm names (schema: 3DES = 2-key 3DES-CBC, AES = AES-CBC + CMAC). */
const ALGORITHM: Record<string, OtaAlgorithm> = {
  '3DES': '3des2',
  AES: 'aes',
  'AES-128': 'aes',
  'AES-256': 'aes',
  'DES-CBC': 'des',
  '3DES-2key-CBC': '3des2',
  '3DES-3key-CBC': '3des3',
};

interface CommandCase {
  id: string;
  input: CommandPacketInput;
  expected: string;
  apdus: string;
  kicIndex: number;
  kidIndex: number;
}

function commandCase(v: Vector): CommandCase {
  const kicAlgorithm = ALGORITHM[(v.kic_algorithm ?? v.algorithm) as string]!;
  const kidAlgorithm = ALGORITHM[(v.kid_algorithm ?? v.algorithm) as string]!;
  const kicIndex = v.kic_idx as number;
  const kidIndex = v.kid_idx as number;
  const expected = (v.expected_packet_hex_spec ?? v.expected_packet_hex ?? v.derived_packet_hex_by_pysim) as string;
  return {
    id: v.id,
    input: {
      spi: decodeSpi(fromHex(v.spi as string)),
      kic: encodeKeyCoding({ index: kicIndex, algorithm: kicAlgorithm }),
      kid: encodeKeyCoding({ index: kidIndex, algorithm: kidAlgorithm }),
      tar: fromHex(v.tar as string),
      cntr: typeof v.cntr === 'number' ? v.cntr : parseInt(v.cntr_hex as string, 16),
      kicKey: createOtaKey(kicAlgorithm, fromHex(v.kic as string)),
      kidKey: createOtaKey(kidAlgorithm, fromHex(v.kid as string)),
      data: fromHex((v.apdus as string[]).join('')),
    },
    expected: expected.toLowerCase(),
    apdus: (v.apdus as string[]).join('').toLowerCase(),
    kicIndex,
    kidIndex,
  };
}

/** A card keyset: keys only under their own index, as a card resolves them. */
function cardKeys(c: CommandCase) {
  return (kic: number, kid: number) => ({
    kicKey: kic >>> 4 === c.kicIndex ? c.input.kicKey : undefined,
    kidKey: kid >>> 4 === c.kidIndex ? c.input.kidKey : undefined,
  });
}

const KINDS = ['command', 'command-gsm0348', 'command-derived'];

for (const kind of KINDS) {
  t.test(`${kind} vectors: the backend encodes the expected packet, the card decodes the APDUs`, async (t) => {
    const vectors = vectorsOfKind(kind);
    t.ok(vectors.length > 0);
    for (const v of vectors) {
      const c = commandCase(v);
      const packet = encodeCommandPacket(c.input);
      t.equal(toHex(packet), c.expected, `${c.id} encodes`);

      const decoded = decodeCommandPacket(fromHex(c.expected), cardKeys(c));
      if (!decoded.ok) {
        t.fail(`${c.id} decodes: ${JSON.stringify(decoded)}`);
        continue;
      }
      t.equal(toHex(decoded.data), c.apdus, `${c.id} decodes to its APDUs`);
      t.equal(decoded.cntr, c.input.cntr, `${c.id} CNTR`);
      t.equal(toHex(decoded.header.tar), toHex(c.input.tar).toLowerCase(), `${c.id} TAR`);
      t.same(decoded.header.spi, c.input.spi, `${c.id} SPI`);
      t.equal(decoded.header.cpl, packet.length - 2);
      t.equal(decoded.cc.length, c.input.spi.integrity === 'cc' ? 8 : 0);
    }
  });
}

t.test('command vectors: SMS user data with UDH 027000', async (t) => {
  for (const v of vectorsOfKind('command')) {
    const c = commandCase(v);
    t.equal(toHex(encodeCommandUserData(c.input)), (v.expected_user_data_hex as string).toLowerCase(), c.id);
    t.equal(toHex(commandUserData(encodeCommandPacket(c.input))), (v.expected_user_data_hex as string).toLowerCase(), `${c.id} helper`);
    t.equal(toHex(commandPacketFromUserData(fromHex(v.expected_user_data_hex as string))), c.expected, `${c.id} back`);
  }
});

t.test('the CC covers CPL: the unciphered vectors only verify with CPL in front (pySim omits it)', async (t) => {
  for (const id of ['ota-3des-cmd-cc-unciphered', 'gsm0348-test101']) {
    const v = vectorsOfKind(id.startsWith('gsm') ? 'command-gsm0348' : 'command').find((x) => x.id === id)!;
    const c = commandCase(v);
    const packet = fromHex(c.expected);
    const decoded = decodeCommandPacket(packet, cardKeys(c));
    t.ok(decoded.ok, id);
    // Same packet with another CPL value and one more byte: CPL is consistent again, but
    // the CC was computed over the original CPL.
    const longer = Buffer.concat([packet, Buffer.of(0)]);
    longer.writeUInt16BE(packet.length - 1, 0);
    const r = decodeCommandPacket(longer, cardKeys(c));
    t.match(r, { ok: false, malformed: false, status: PorStatus.RC_CC_DS_FAILED }, id);
  }
});

/** 8-bit TPDU user data: the last UDL octets (TS 23.040 §9.2.3.16). */
function userDataOfTpdu(tpduHex: string, udlField: string): Uint8Array {
  const tpdu = fromHex(tpduHex);
  const udl = parseInt(udlField.split(' ')[0]!, 16);
  t.equal(tpdu[tpdu.length - udl - 1], udl, 'UDL sits right before the user data');
  return tpdu.subarray(tpdu.length - udl);
}

t.test('framing vectors (keys unknown): structure of the command packet as the card sees it', async (t) => {
  for (const v of vectorsOfKind('framing')) {
    const fields = ((v.breakdown as Record<string, unknown> | undefined)?.tpdu_fields ?? v.tpdu_fields) as Record<string, string>;
    const tpdu = ((v.breakdown as Record<string, string> | undefined)?.tpdu ?? v.tpdu_hex) as string;
    const packet = commandPacketFromUserData(userDataOfTpdu(tpdu, fields.tp_udl!));
    const header = parseCommandHeader(packet);
    t.equal(header.cpl, parseInt(fields.cpl!, 16), `${v.id} CPL`);
    t.equal(header.chl, parseInt(fields.chl!, 16), `${v.id} CHL`);
    t.same(header.spi, decodeSpi(fromHex(fields.spi!)), `${v.id} SPI`);
    t.equal(header.kic, parseInt(fields.kic!.slice(0, 2), 16), `${v.id} KIc`);
    t.equal(header.kid, parseInt(fields.kid!.slice(0, 2), 16), `${v.id} KID`);
    t.equal(toHex(header.tar), fields.tar, `${v.id} TAR`);
    t.equal(header.chl, 13 + 8, `${v.id} CHL fits a CC`);
    t.equal((packet.length - 10) % 16, 0, `${v.id} ciphered part is whole AES blocks`);
    // Without the card's keys the card can only answer "ciphering error", with the header.
    const r = decodeCommandPacket(packet, () => undefined);
    t.match(r, { ok: false, malformed: false, status: PorStatus.CIPHERING_ERROR, field: 'kic', header: { tar: header.tar } }, v.id);
  }
});

const AES = createOtaKey('aes', new Uint8Array(16).fill(1));
const TDES = createOtaKey('3des2', new Uint8Array(16).fill(2));
const SPI: Spi = { integrity: 'cc', ciphered: true, counter: 'higher', por: 'always', porIntegrity: 'cc', porCiphered: true, porViaSubmit: false };
const GOOD: CommandPacketInput = { spi: SPI, kic: 0x12, kid: 0x12, tar: fromHex('b00010'), cntr: 1, kicKey: AES, kidKey: AES, data: fromHex('00a40004023f00') };

t.test('encoder input errors are typed, with the field', async (t) => {
  const cases: [string, Partial<CommandPacketInput> | null, string, string][] = [
    ['RC', { spi: { ...SPI, integrity: 'rc' } }, 'UNSUPPORTED', 'spi.integrity'],
    ['DS', { spi: { ...SPI, integrity: 'ds' } }, 'UNSUPPORTED', 'spi.integrity'],
    ['bad SPI', { spi: { ...SPI, counter: 'lower' as 'higher' } }, 'INVALID_ARGUMENT', 'spi.counter'],
    ['no KIc key', { kicKey: undefined }, 'INVALID_ARGUMENT', 'kicKey'],
    ['no KID key', { kidKey: undefined }, 'INVALID_ARGUMENT', 'kidKey'],
    ['raw key bytes', { kicKey: new Uint8Array(16) as unknown as OtaKey }, 'INVALID_ARGUMENT', 'kicKey'],
    ['KIc nibble names another algorithm', { kic: 0x15 }, 'INVALID_ARGUMENT', 'kicKey'],
    ['KID nibble names another algorithm', { kid: 0x11 }, 'INVALID_ARGUMENT', 'kidKey'],
    ['unknown KIc nibble', { kic: 0x13 }, 'UNKNOWN_ALGORITHM', 'kic'],
    ['KIc DES-ECB', { kic: 0x1d }, 'UNSUPPORTED', 'kic'],
    ['unknown KID nibble', { kid: 0x1e }, 'UNKNOWN_ALGORITHM', 'kid'],
    ['KIc not a byte', { kic: 0x100 }, 'INVALID_ARGUMENT', 'kic'],
    ['KID not a number', { kid: '12' as unknown as number }, 'INVALID_ARGUMENT', 'kid'],
    ['TAR of 2 bytes', { tar: fromHex('b000') }, 'INVALID_ARGUMENT', 'tar'],
    ['TAR as hex string', { tar: 'b00010' as unknown as Uint8Array }, 'INVALID_ARGUMENT', 'tar'],
    ['CNTR over 40 bits', { cntr: 2 ** 40 }, 'INVALID_ARGUMENT', 'cntr'],
    ['negative CNTR', { cntr: -1 }, 'INVALID_ARGUMENT', 'cntr'],
    ['data as string', { data: '00a4' as unknown as Uint8Array }, 'INVALID_ARGUMENT', 'data'],
    ['data over CPL 65535', { data: new Uint8Array(65536 - 16 - 8) }, 'TOO_LONG', 'data'],
  ];
  for (const [name, change, code, field] of cases) {
    t.throws(() => encodeCommandPacket({ ...GOOD, ...change }), { name: 'ProtocolError', code, details: { field } }, name);
  }
  t.throws(() => encodeCommandPacket(null as unknown as CommandPacketInput), { code: 'INVALID_ARGUMENT', details: { field: 'input' } });
});

t.test('a key or coding byte that is not used is not asked for', async (t) => {
  const plain = encodeCommandPacket({ ...GOOD, spi: { ...SPI, integrity: 'none', ciphered: false }, kic: 0xff, kid: 0xff, kicKey: undefined, kidKey: undefined });
  t.equal(toHex(plain.subarray(0, 10)), '00150d1019ffffb00010');
  t.equal(plain[15], 0, 'PCNTR 0 without ciphering');
  const ccOnly = encodeCommandPacket({ ...GOOD, spi: { ...SPI, ciphered: false }, kic: 0x00, kicKey: undefined, kidKey: TDES, kid: 0x15 });
  t.equal(ccOnly[2], 21);
  t.equal(ccOnly.length, 16 + 8 + GOOD.data.length, 'no padding when not ciphered');
});

t.test('layout: CPL, CHL, and zero padding to the KIc block counted in PCNTR', async (t) => {
  const wrong: string[] = [];
  for (const [key, coding, block] of [[AES, 0x12, 16], [TDES, 0x15, 8]] as const) {
    for (let n = 0; n <= 40; n++) {
      const data = new Uint8Array(n).fill(0xaa);
      const packet = Buffer.from(encodeCommandPacket({ ...GOOD, kic: coding, kid: coding, kicKey: key, kidKey: key, data }));
      const padding = packet.length - 16 - 8 - n;
      if (packet.readUInt16BE(0) !== packet.length - 2) wrong.push(`CPL, ${n} bytes, block ${block}`);
      if (packet[2] !== 21) wrong.push(`CHL, ${n} bytes, block ${block}`);
      if ((packet.length - 10) % block !== 0 || padding < 0 || padding >= block) wrong.push(`padding ${padding}, ${n} bytes, block ${block}`);
      const r = decodeCommandPacket(packet, () => ({ kicKey: key, kidKey: key }));
      if (!r.ok || r.pcntr !== padding || toHex(r.data) !== toHex(data)) wrong.push(`PCNTR, ${n} bytes, block ${block}`);
    }
  }
  t.same(wrong, []);
});

t.test('implicit algorithm nibble: the key decides', async (t) => {
  const implicit = encodeCommandPacket({ ...GOOD, kic: 0x10, kid: 0x10 });
  const explicit = encodeCommandPacket({ ...GOOD, kic: 0x12, kid: 0x12 });
  t.equal(implicit[5], 0x10);
  t.not(toHex(implicit), toHex(explicit), 'the coding bytes are under the CC');
  const r = decodeCommandPacket(implicit, () => ({ kicKey: AES, kidKey: AES }));
  t.ok(r.ok);
  if (r.ok) t.equal(toHex(r.data), toHex(GOOD.data));
  t.equal(encodeKeyCoding({ index: 1, algorithm: 'implicit' }), 0x10);
});

t.test('commandPacketFromUserData checks the UDH', async (t) => {
  t.throws(() => commandPacketFromUserData(fromHex('027100001c')), { name: 'ProtocolError', code: 'MALFORMED', details: { field: 'udh' } });
  t.throws(() => commandPacketFromUserData(fromHex('0270')), { code: 'TRUNCATED', details: { field: 'udh' } });
  t.throws(() => commandUserData('00' as unknown as Uint8Array), { code: 'INVALID_ARGUMENT', details: { field: 'packet' } });
});
