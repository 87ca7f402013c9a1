/**
 * STORE DATA (identity and trust anchors, through OTA only) and GET DATA (anyone may read
 * them back): every object round trip, presence bits, and every refusal leaving the card
 * as it was: a command with one bad object writes nothing.
 */
import t from 'tap';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { p256 } from '@noble/curves/nist.js';
import {
  DATA_TAG,
  encodeBerTlv,
  getDataApdu,
  getStatusApdu,
  GET_DATA_CERTIFICATE,
  GET_DATA_TRUST_ANCHOR_P1,
  INS,
  lockApdu,
  parseStatus,
  storeDataApdu,
  terminateApdu,
  type CommandApdu,
} from '../../sim-applet/index.js';
import { newCard } from '../helpers/card.js';
import { IDENTITY, ota, otaResponse, plain, raw, stateOf } from '../helpers/applet.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const storeData = (data: Uint8Array, p1 = 0x80, p2 = 0): CommandApdu => ({ cla: 0x80, ins: INS.STORE_DATA, p1, p2, data });
const objects = (...list: [number, number[] | Uint8Array][]) => Buffer.concat(list.map(([tag, v]) => encodeBerTlv(tag, Uint8Array.from(v))));
const anchorValue = (slot: number, curveId: number, point: Uint8Array) => Buffer.concat([Buffer.of(slot, curveId), point]);

const k1Point = () => secp256k1.getPublicKey(secp256k1.utils.randomSecretKey(), false);
const p256Point = () => p256.getPublicKey(p256.utils.randomSecretKey(), false);

t.test('identity: STORE DATA through OTA, GET DATA reads each object back, plain', async (t) => {
  const card = newCard();
  const r = otaResponse(card, [storeDataApdu(IDENTITY)]);
  t.same([r.executed, r.sw, r.data.length], [1, 0x9000, 0]);
  const expected: [number, string][] = [
    [DATA_TAG.CHAIN_ID, '7a69'],
    [DATA_TAG.REGISTRY, hex(IDENTITY.registry)],
    [DATA_TAG.BATCH_ID, hex(IDENTITY.batchId)],
    [DATA_TAG.READING_CONTRACT, hex(IDENTITY.readingContract)],
    [DATA_TAG.ACCESS_CONTRACT, hex(IDENTITY.accessContract)],
    [DATA_TAG.KEY_CONTRACT, hex(IDENTITY.keyContract)],
  ];
  for (const [tag, value] of expected) {
    const got = plain(card, getDataApdu(0, tag));
    t.equal(got.sw, 0x9000, `tag ${tag.toString(16)}`);
    t.equal(hex(got.data), value);
  }
  t.equal(parseStatus(plain(card, getStatusApdu()).data).identityPresence, 0b111111);
  // GET DATA through OTA too.
  t.equal(hex(otaResponse(card, [getDataApdu(0, DATA_TAG.REGISTRY)]).data), hex(IDENTITY.registry));
  // A later STORE DATA overwrites one object and keeps the others.
  otaResponse(card, [storeDataApdu({ chainId: 1n, batchId: new Uint8Array(32).fill(0xbb) })]);
  t.equal(hex(plain(card, getDataApdu(0, DATA_TAG.CHAIN_ID)).data), '01');
  t.equal(hex(plain(card, getDataApdu(0, DATA_TAG.BATCH_ID)).data), 'bb'.repeat(32), '32 bytes is the longest batch id');
  t.equal(hex(plain(card, getDataApdu(0, DATA_TAG.REGISTRY)).data), hex(IDENTITY.registry));
});

t.test('identity objects not pushed yet: GET DATA 6A88; presence bit by bit', async (t) => {
  const card = newCard();
  for (const tag of [0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6]) t.equal(plain(card, getDataApdu(0, tag)).sw, 0x6a88, `tag ${tag.toString(16)}`);
  const fields = ['chainId', 'registry', 'batchId', 'readingContract', 'accessContract', 'keyContract'] as const;
  let bits = 0;
  for (const [i, field] of fields.entries()) {
    otaResponse(card, [storeDataApdu({ [field]: IDENTITY[field] })]);
    bits |= 1 << i;
    t.equal(parseStatus(plain(card, getStatusApdu()).data).identityPresence, bits, `${field} is bit ${i}`);
  }
});

t.test('trust anchors: set on both curves, read back, cleared', async (t) => {
  const card = newCard();
  const a0 = k1Point();
  const a7 = p256Point();
  const compressed = secp256k1.getPublicKey(secp256k1.utils.randomSecretKey(), true);
  otaResponse(card, [storeDataApdu({ trustAnchors: [{ slot: 0, curve: 'secp256k1', publicKey: a0 }, { slot: 7, curve: 'p256', publicKey: a7 }, { slot: 3, curve: 'secp256k1', publicKey: compressed }] })]);
  t.same(parseStatus(plain(card, getStatusApdu()).data).trustAnchorSlots, [0, 3, 7]);
  t.equal(hex(plain(card, getDataApdu(GET_DATA_TRUST_ANCHOR_P1, 0)).data), '01' + hex(a0));
  t.equal(hex(plain(card, getDataApdu(GET_DATA_TRUST_ANCHOR_P1, 7)).data), '02' + hex(a7));
  t.equal(hex(plain(card, getDataApdu(GET_DATA_TRUST_ANCHOR_P1, 3)).data), '01' + hex(compressed), 'a compressed point is kept as sent');
  t.equal(plain(card, getDataApdu(GET_DATA_TRUST_ANCHOR_P1, 1)).sw, 0x6a88, 'empty slot');
  t.equal(plain(card, getDataApdu(GET_DATA_TRUST_ANCHOR_P1, 8)).sw, 0x6a86, 'no slot 8');

  // Replace one, clear another, in one command.
  const replacement = p256Point();
  otaResponse(card, [storeDataApdu({ trustAnchors: [{ slot: 0, curve: 'p256', publicKey: replacement }], clearTrustAnchors: [7] })]);
  t.equal(hex(plain(card, getDataApdu(GET_DATA_TRUST_ANCHOR_P1, 0)).data), '02' + hex(replacement));
  t.equal(plain(card, getDataApdu(GET_DATA_TRUST_ANCHOR_P1, 7)).sw, 0x6a88, 'cleared');
  t.same(parseStatus(plain(card, getStatusApdu()).data).trustAnchorSlots, [0, 3]);
  // Clearing an empty slot is fine.
  t.equal(otaResponse(card, [storeDataApdu({ clearTrustAnchors: [5] })]).sw, 0x9000);
});

t.test('bad data objects: 6A80, and nothing of the command is written', async (t) => {
  const card = newCard();
  otaResponse(card, [storeDataApdu({ chainId: 7n })]);
  const before = stateOf(card);
  const good = [DATA_TAG.BATCH_ID, [1]] as [number, number[]];
  const k1 = k1Point();
  const notOnCurve = Uint8Array.from(k1);
  notOnCurve[64]! ^= 1;
  const cases: [string, Uint8Array][] = [
    ['empty chain id', objects(good, [DATA_TAG.CHAIN_ID, []])],
    ['33-byte chain id', objects(good, [DATA_TAG.CHAIN_ID, new Uint8Array(33)])],
    ['19-byte registry', objects(good, [DATA_TAG.REGISTRY, new Uint8Array(19)])],
    ['21-byte registry', objects(good, [DATA_TAG.REGISTRY, new Uint8Array(21)])],
    ['empty batch id', objects(good, [DATA_TAG.BATCH_ID + 0, []])],
    ['33-byte batch id', objects([DATA_TAG.BATCH_ID, new Uint8Array(33)])],
    ['19-byte reading contract', objects(good, [DATA_TAG.READING_CONTRACT, new Uint8Array(19)])],
    ['21-byte access contract', objects(good, [DATA_TAG.ACCESS_CONTRACT, new Uint8Array(21)])],
    ['empty key contract', objects(good, [DATA_TAG.KEY_CONTRACT, []])],
    ['the same object twice', objects(good, [DATA_TAG.BATCH_ID, [2]])],
    ['the same anchor slot set and cleared', objects(good, [DATA_TAG.TRUST_ANCHOR, anchorValue(1, 1, k1)], [DATA_TAG.TRUST_ANCHOR_CLEAR, [1]])],
    ['the same anchor slot twice', objects([DATA_TAG.TRUST_ANCHOR, anchorValue(1, 1, k1)], [DATA_TAG.TRUST_ANCHOR, anchorValue(1, 1, k1)])],
    ['anchor slot 8', objects(good, [DATA_TAG.TRUST_ANCHOR, anchorValue(8, 1, k1)])],
    ['anchor with unknown curve 03', objects(good, [DATA_TAG.TRUST_ANCHOR, anchorValue(1, 3, k1)])],
    ['anchor point not on the curve', objects(good, [DATA_TAG.TRUST_ANCHOR, anchorValue(1, 1, notOnCurve)])],
    ['a P-256 point named secp256k1', objects(good, [DATA_TAG.TRUST_ANCHOR, anchorValue(1, 1, p256Point())])],
    ['the point at infinity', objects(good, [DATA_TAG.TRUST_ANCHOR, anchorValue(1, 2, Uint8Array.of(0))])],
    ['anchor without a point', objects(good, [DATA_TAG.TRUST_ANCHOR, [1, 1]])],
    ['anchor without a curve', objects(good, [DATA_TAG.TRUST_ANCHOR, [1]])],
    ['empty anchor', objects(good, [DATA_TAG.TRUST_ANCHOR, []])],
    ['clear with two bytes', objects(good, [DATA_TAG.TRUST_ANCHOR_CLEAR, [1, 0]])],
    ['clear slot 8', objects(good, [DATA_TAG.TRUST_ANCHOR_CLEAR, [8]])],
    ['unknown tag C7', objects(good, [0xc7, [1]])],
    ['constructed tag E1', objects(good, [0xe1, [0xc1, 1, 1]])],
    ['a length past the end', Buffer.concat([objects(good), Buffer.from('c10501', 'hex')])],
    ['a lone tag byte', Buffer.concat([objects(good), Buffer.of(0xc1)])],
  ];
  for (const [name, data] of cases) {
    const r = ota(card, [storeData(data)]);
    t.equal(r.response?.sw, 0x6a80, name);
  }
  t.strictSame({ ...stateOf(card), keysets: before.keysets }, before, 'not even the good object before the bad one');
});

t.test('parameters and length: P1/P2 6A86, no data 6700, plain 6982, terminated 6985', async (t) => {
  const card = newCard();
  const before = stateOf(card);
  const data = objects([DATA_TAG.CHAIN_ID, [1]]);
  for (const [p1, p2] of [[0x01, 0], [0x90, 0], [0x80, 1], [0x00, 0x80]] as const) {
    t.equal(ota(card, [storeData(data, p1, p2)]).response?.sw, 0x6a86, `P1 ${p1.toString(16)} P2 ${p2.toString(16)}`);
  }
  // Lc = 00 in the compact list: a STORE DATA without data.
  t.equal(ota(card, Buffer.from('80e2800000', 'hex')).response?.sw, 0x6700, 'no data');
  t.strictSame({ ...stateOf(card), keysets: before.keysets }, before);
  // P1 00 (not the last block) is taken like 80: each command is whole.
  t.equal(otaResponse(card, [storeData(data, 0x00)]).sw, 0x9000);
  t.equal(hex(plain(card, getDataApdu(0, DATA_TAG.CHAIN_ID)).data), '01');

  const plainBefore = stateOf(card);
  t.equal(plain(card, storeData(objects([DATA_TAG.CHAIN_ID, [2]]))).sw, 0x6982, 'the firmware cannot push an identity');
  t.strictSame(stateOf(card), plainBefore);

  // A locked card still takes its identity from the operator; a terminated one nothing.
  otaResponse(card, [lockApdu()]);
  t.equal(otaResponse(card, [storeData(objects([DATA_TAG.CHAIN_ID, [3]]))]).sw, 0x9000, 'locked');
  otaResponse(card, [terminateApdu()]);
  const terminated = stateOf(card);
  t.equal(ota(card, [storeData(objects([DATA_TAG.CHAIN_ID, [4]]))]).response?.sw, 0x6985, 'terminated');
  t.strictSame({ ...stateOf(card), keysets: terminated.keysets }, terminated);
  t.equal(plain(card, getDataApdu(0, DATA_TAG.CHAIN_ID)).sw, 0x6985, 'GET DATA too, once terminated');
});

t.test('GET DATA: unknown objects 6A86, the card certificate at 7F21', async (t) => {
  const card = newCard();
  for (const [p1, p2] of [[0, 0xc7], [0, 0xca], [0, 0], [2, 0], [0x7f, 0x20], [0xff, 0xff]] as const) {
    t.equal(plain(card, getDataApdu(p1, p2)).sw, 0x6a86, `P1 ${p1.toString(16)} P2 ${p2.toString(16)}`);
  }
  const cert = plain(card, getDataApdu(GET_DATA_CERTIFICATE >> 8, GET_DATA_CERTIFICATE & 0xff));
  t.equal(cert.sw, 0x9000);
  t.equal(hex(cert.data), stateOf(card).attestation.certificate);
  t.ok(cert.data.length > 256, 'longer than one short response: it came through 61xx and GET RESPONSE');
  const first = raw(card, '80 CA 7F 21 00');
  t.equal(first.data.length, 256, 'Le 00: the first 256 bytes');
  t.equal(first.sw, 0x6100 | (cert.data.length - 256), 'then 61xx with what is left');
});
