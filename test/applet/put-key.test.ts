/**
 * PUT KEY: an OTA keyset replaced (or created) with keys encrypted under the KIk of the
 * keyset that secures the packet, each with its GlobalPlatform key check value. After it,
 * the new keys open packets and the old ones do not; the counter is kept; the PoR of the
 * PUT KEY itself is secured with the keys that opened it. Key blocks are also built here
 * with node:crypto alone, so the format is checked against code that is not the card's.
 */
import t from 'tap';
import { createCipheriv, randomBytes } from 'node:crypto';
import {
  CardTornError,
  createOtaKey,
  decodeResponsePacket,
  encodeKeyCoding,
  getStatusApdu,
  INS,
  parseStatus,
  putKeyApdu,
  PUT_KEY_P2,
  terminateApdu,
  type CardState,
  type CommandApdu,
} from '../../sim-applet/index.js';
import { ADMIN_SPI, KEYSETS, keysOf, newCard } from '../helpers/card.js';
import { nextCntr, ota, otaResponse, otaWithKeys, plain, stateOf, type ExplicitKeys } from '../helpers/applet.js';

type Algo = 'aes' | '3des2';
interface RawKeys {
  kic: { algorithm: Algo; key: Buffer };
  kid: { algorithm: Algo; key: Buffer };
  kik: { algorithm: Algo; key: Buffer };
}
/** Three new 16-byte keys (AES-128 or 2-key 3DES). */
const fresh = (algorithm: Algo): RawKeys => ({
  kic: { algorithm, key: randomBytes(16) },
  kid: { algorithm, key: randomBytes(16) },
  kik: { algorithm, key: randomBytes(16) },
});

/** Coding bytes and OtaKeys for a packet secured with `keys` as keyset `index`. */
function secured(index: number, keys: RawKeys, cntr: number): ExplicitKeys {
  return {
    kic: encodeKeyCoding({ index, algorithm: keys.kic.algorithm }, 'kic'),
    kid: encodeKeyCoding({ index, algorithm: keys.kid.algorithm }, 'kid'),
    kicKey: createOtaKey(keys.kic.algorithm, keys.kic.key),
    kidKey: createOtaKey(keys.kid.algorithm, keys.kid.key),
    cntr,
  };
}

/** The keysets personalised on the helper card, as raw keys. */
function personalised(index: 1 | 2): RawKeys {
  const k = KEYSETS[index];
  const alg = k.kicAlg as Algo;
  return { kic: { algorithm: alg, key: Buffer.from(k.kic, 'hex') }, kid: { algorithm: alg, key: Buffer.from(k.kid, 'hex') }, kik: { algorithm: alg, key: Buffer.from(k.kik, 'hex') } };
}

// --- key blocks with node:crypto only (GlobalPlatform KCV: AES over 16 × 01, 3DES over 8 × 00) ---
const ALG_CODE: Record<Algo, number> = { aes: 0x02, '3des2': 0x05 };
const cbcName = (alg: Algo, key: Buffer) => (alg === 'aes' ? `aes-${key.length * 8}-cbc` : 'des-ede-cbc');
const ecbName = (alg: Algo, key: Buffer) => (alg === 'aes' ? `aes-${key.length * 8}-ecb` : 'des-ede-ecb');
const blockOf = (alg: Algo) => (alg === 'aes' ? 16 : 8);

function nodeEncrypt(kik: { algorithm: Algo; key: Buffer }, plainBytes: Buffer): Buffer {
  const c = createCipheriv(cbcName(kik.algorithm, kik.key), kik.key, Buffer.alloc(blockOf(kik.algorithm)));
  c.setAutoPadding(false);
  return Buffer.concat([c.update(plainBytes), c.final()]);
}

function nodeKcv(alg: Algo, key: Buffer): Buffer {
  const c = createCipheriv(ecbName(alg, key), key, null);
  c.setAutoPadding(false);
  return c.update(alg === 'aes' ? Buffer.alloc(16, 1) : Buffer.alloc(8, 0)).subarray(0, 3);
}

function nodeKeyBlock(kik: { algorithm: Algo; key: Buffer }, alg: Algo, key: Buffer, o: { padding?: Buffer; kcv?: Buffer; code?: number; length?: number } = {}): Buffer {
  const size = Math.ceil(key.length / blockOf(kik.algorithm)) * blockOf(kik.algorithm);
  const padded = Buffer.concat([key, o.padding ?? Buffer.alloc(size - key.length)]);
  return Buffer.concat([Buffer.of(o.code ?? ALG_CODE[alg], o.length ?? key.length), nodeEncrypt(kik, padded), Buffer.of(3), o.kcv ?? nodeKcv(alg, key)]);
}

/** The state with every OTA counter zeroed: what a refused command must leave unchanged besides the counter. */
const withoutCounters = (state: CardState) => ({ ...state, keysets: state.keysets.map((k) => k && { ...k, counter: 0 }) });

const putKey = (index: number, data: Uint8Array, p2 = PUT_KEY_P2): CommandApdu => ({ cla: 0x80, ins: INS.PUT_KEY, p1: index, p2, data });

t.test('replacing keyset 1 under its own KIk: new keys open packets, old ones do not, the counter stays', async (t) => {
  const card = newCard();
  otaResponse(card, [getStatusApdu()], { cntr: 40 });
  const next = fresh('aes');
  const r = ota(card, [putKeyApdu(1, next, keysOf(1).kikKey)], { cntr: 41 });
  t.equal(r.por?.status, 0);
  t.equal(r.por?.ccValid, true, 'the PoR of PUT KEY is secured with the old keys');
  t.same([r.response?.executed, r.response?.sw], [1, 0x9000]);
  // The same PoR does not verify under the new keys.
  let underNew: boolean;
  try {
    underNew = decodeResponsePacket(r.porUserData!, { spi: ADMIN_SPI, kicKey: createOtaKey('aes', next.kic.key), kidKey: createOtaKey('aes', next.kid.key) }).ccValid;
  } catch {
    underNew = false;
  }
  t.equal(underNew, false);

  const ks = stateOf(card).keysets[0]!;
  t.same(
    [ks.kic, ks.kid, ks.kik, ks.counter],
    [{ algorithm: 'aes', key: next.kic.key.toString('hex') }, { algorithm: 'aes', key: next.kid.key.toString('hex') }, { algorithm: 'aes', key: next.kik.key.toString('hex') }, 41],
  );

  // Old keys, next counter: refused as a security failure, nothing changes.
  const before = stateOf(card);
  const old = ota(card, [getStatusApdu()], { cntr: 42 });
  t.ok(old.por && [0x01, 0x05, 0x06].includes(old.por.status), `old keys refused (PoR ${old.por?.status})`);
  t.equal(old.por?.ccValid, false);
  t.strictSame(stateOf(card), before);

  // New keys: a counter not above the kept one is 02; the next one is accepted.
  const low = otaWithKeys(card, [getStatusApdu()], secured(1, next, 41));
  t.equal(low.por?.status, 0x02, 'counter low: the counter survived the key change');
  t.strictSame(stateOf(card), before);
  const ok = otaWithKeys(card, [getStatusApdu()], secured(1, next, 42));
  t.equal(ok.por?.status, 0);
  t.equal(ok.por?.ccValid, true, 'the PoR is secured with the new keys');
  t.equal(ok.response?.sw, 0x9000);
  t.equal(parseStatus(ok.response!.data).otaCounters.get(1), 42);

  // The new KIk protects the next PUT KEY; the old KIk no longer does.
  const third = fresh('aes');
  const withOldKik = otaWithKeys(card, [putKeyApdu(1, third, keysOf(1).kikKey)], secured(1, next, 43));
  t.equal(withOldKik.response?.sw, 0x6a80, 'keys under the replaced KIk: wrong KCV');
  const withNewKik = otaWithKeys(card, [putKeyApdu(1, third, createOtaKey('aes', next.kik.key))], secured(1, next, 44));
  t.equal(withNewKik.response?.sw, 0x9000);
  t.equal(withNewKik.por?.ccValid, true);
  t.equal(stateOf(card).keysets[0]!.kic.key, third.kic.key.toString('hex'));
});

t.test('replacing another keyset, with another algorithm, keeps that keyset counter', async (t) => {
  const card = newCard();
  otaResponse(card, [getStatusApdu()], { keyset: 2, cntr: 500 });
  const aes = fresh('aes');
  // Keyset 2 (3DES) gets AES keys, sent in a packet of keyset 1 under keyset 1's KIk.
  const r = otaResponse(card, [putKeyApdu(2, aes, keysOf(1).kikKey)]);
  t.equal(r.sw, 0x9000);
  const ks = stateOf(card).keysets[1]!;
  t.same([ks.kic.algorithm, ks.kid.algorithm, ks.kik.algorithm, ks.counter], ['aes', 'aes', 'aes', 500]);
  t.equal(ota(card, [getStatusApdu()], { keyset: 2, cntr: 501 }).por?.ccValid, false, 'the 3DES keys are gone');
  t.equal(otaWithKeys(card, [getStatusApdu()], secured(2, aes, 500)).por?.status, 0x02);
  const ok = otaWithKeys(card, [getStatusApdu()], secured(2, aes, 501));
  t.same([ok.por?.status, ok.por?.ccValid, ok.response?.sw], [0, true, 0x9000]);
  t.equal(nextCntr(card, 1), 2, 'keyset 1 counter untouched by keyset 2 traffic');
});

t.test('a new keyset created under a 3DES KIk, blocks built with node:crypto', async (t) => {
  const card = newCard();
  const kik2 = personalised(2).kik;
  const created = fresh('3des2');
  const data = Buffer.concat([
    nodeKeyBlock(kik2, '3des2', created.kic.key),
    nodeKeyBlock(kik2, '3des2', created.kid.key),
    nodeKeyBlock(kik2, '3des2', created.kik.key),
  ]);
  t.same(Buffer.from(putKeyApdu(3, created, keysOf(2).kikKey).data), data, 'the host builder makes the same bytes (3DES)');
  t.equal(otaResponse(card, [putKey(3, data)], { keyset: 2 }).sw, 0x9000);
  t.equal(stateOf(card).keysets[2]!.counter, 0, 'a new keyset starts at counter 0');
  const ok = otaWithKeys(card, [getStatusApdu()], secured(3, created, 1));
  t.same([ok.por?.status, ok.por?.ccValid, ok.response?.sw], [0, true, 0x9000]);
  t.same([...parseStatus(ok.response!.data).otaCounters], [[1, 0], [2, 1], [3, 1]]);

  // AES keys under the AES KIk of keyset 1, 32-byte keys included.
  const kik1 = personalised(1).kik;
  const big = { algorithm: 'aes' as const, key: randomBytes(32) };
  const aesData = Buffer.concat([nodeKeyBlock(kik1, 'aes', big.key), nodeKeyBlock(kik1, 'aes', randomBytes(16)), nodeKeyBlock(kik1, 'aes', randomBytes(24))]);
  const aes = fresh('aes');
  t.same(
    Buffer.from(putKeyApdu(4, aes, keysOf(1).kikKey).data),
    Buffer.concat([nodeKeyBlock(kik1, 'aes', aes.kic.key), nodeKeyBlock(kik1, 'aes', aes.kid.key), nodeKeyBlock(kik1, 'aes', aes.kik.key)]),
    'the host builder makes the same bytes (AES)',
  );
  t.equal(otaResponse(card, [putKey(4, aesData)]).sw, 0x9000);
  t.equal(stateOf(card).keysets[3]!.kic.key, big.key.toString('hex'));
});

t.test('PUT KEY then more commands in the same script: all run, the PoR is under the old keys', async (t) => {
  const card = newCard();
  const next = fresh('aes');
  const r = ota(card, [putKeyApdu(1, next, keysOf(1).kikKey), getStatusApdu()]);
  t.same([r.por?.ccValid, r.response?.executed, r.response?.sw], [true, 2, 0x9000]);
  t.equal(stateOf(card).keysets[0]!.kid.key, next.kid.key.toString('hex'));
});

t.test('bad key blocks: 6A80 (KCV, padding, algorithm, length), trailing bytes 6700; nothing changes', async (t) => {
  const card = newCard();
  const kik = personalised(1).kik;
  const key = () => randomBytes(16);
  const good = () => nodeKeyBlock(kik, 'aes', key());
  const badKcv = nodeKeyBlock(kik, 'aes', key(), { kcv: Buffer.of(0, 0, 0) });
  const cases: [string, Buffer, number][] = [
    ['wrong KCV', Buffer.concat([good(), badKcv, good()]), 0x6a80],
    // A 24-byte key under a 16-byte block KIk leaves 8 bytes of padding, which must be zero.
    ['non-zero padding', Buffer.concat([good(), good(), nodeKeyBlock(kik, 'aes', randomBytes(24), { padding: Buffer.alloc(8, 0x80) })]), 0x6a80],
    ['one padding bit set', Buffer.concat([nodeKeyBlock(kik, 'aes', randomBytes(24), { padding: Buffer.of(0, 0, 0, 0, 0, 0, 0, 1) }), good(), good()]), 0x6a80],
    ['unknown algorithm code 03', Buffer.concat([nodeKeyBlock(kik, 'aes', key(), { code: 0x03 }), good(), good()]), 0x6a80],
    ['algorithm code 00', Buffer.concat([nodeKeyBlock(kik, 'aes', key(), { code: 0x00 }), good(), good()]), 0x6a80],
    ['key length 0', Buffer.concat([Buffer.of(0x02, 0, 3, 0, 0, 0), good(), good()]), 0x6a80],
    // 15 bytes and a zero byte of padding: well formed, but no AES key is 15 bytes long.
    ['AES key of 15 bytes', Buffer.concat([nodeKeyBlock(kik, 'aes', randomBytes(15), { kcv: Buffer.of(0, 0, 0) }), good(), good()]), 0x6a80],
    ['algorithm code that does not fit the KCV', Buffer.concat([nodeKeyBlock(kik, 'aes', key(), { code: ALG_CODE['3des2'] }), good(), good()]), 0x6a80],
    ['KCV tag other than 03', Buffer.concat([Buffer.from(good()).fill(4, 18, 19), good(), good()]), 0x6a80],
    ['two blocks only', Buffer.concat([good(), good()]), 0x6a80],
    ['cut inside the last block', Buffer.concat([good(), good(), good()]).subarray(0, 60), 0x6a80],
    ['a byte after the third block', Buffer.concat([good(), good(), good(), Buffer.of(0)]), 0x6700],
    ['encrypted under another keyset KIk', Buffer.from(putKeyApdu(1, fresh('aes'), keysOf(2).kikKey).data), 0x6a80],
  ];
  const before = stateOf(card);
  for (const [name, data, sw] of cases) {
    const r = ota(card, [putKey(1, data)]);
    t.equal(r.response?.sw, sw, name);
    t.equal(r.por?.ccValid, true, `${name}: still answered under keyset 1`);
  }
  t.strictSame(withoutCounters(stateOf(card)), withoutCounters(before), 'only the OTA counter moved');
});

t.test('PUT KEY parameters and conditions: 6A86, 6982, 6985', async (t) => {
  const card = newCard();
  const data = Buffer.from(putKeyApdu(1, fresh('aes'), keysOf(1).kikKey).data);
  const before = stateOf(card);
  for (const [p1, p2] of [[0, PUT_KEY_P2], [16, PUT_KEY_P2], [0xff, PUT_KEY_P2], [1, 0x80], [1, 0x01], [1, 0x00]] as const) {
    t.equal(ota(card, [putKey(p1, data, p2)]).response?.sw, 0x6a86, `P1 ${p1} P2 ${p2.toString(16)}`);
  }
  t.equal(plain(card, putKey(1, data)).sw, 0x6982, 'plain, from the firmware');
  t.strictSame(withoutCounters(stateOf(card)), withoutCounters(before), 'keys unchanged');
  otaResponse(card, [terminateApdu()]);
  t.equal(ota(card, [putKey(1, data)]).response?.sw, 0x6985, 'terminated');
  t.same(stateOf(card).keysets[0]!.kic, before.keysets[0]!.kic);
});

t.test('a tear while the keyset is written: the old keys and the old counter stay', async (t) => {
  const card = newCard();
  const before = stateOf(card);
  const next = fresh('aes');
  card.fault = (point) => {
    if (point === 'keyset-written') throw new CardTornError(point);
  };
  t.throws(() => ota(card, [putKeyApdu(1, next, keysOf(1).kikKey)], { cntr: 1 }), CardTornError);
  card.fault = undefined;
  t.strictSame(stateOf(card), before);
  t.equal(otaResponse(card, [getStatusApdu()], { cntr: 1 }).sw, 0x9000, 'the old keys, and counter 1, still work');
});
