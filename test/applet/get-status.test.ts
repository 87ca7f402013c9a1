/**
 * GET STATUS: lifecycle, applet version, key presence, reading counter, OTA counters,
 * identity and trust anchor presence; plain and through OTA; its status words.
 */
import t from 'tap';
import { p256 } from '@noble/curves/nist.js';
import {
  decodeBerTlvs,
  generateKeyPairApdu,
  getStatusApdu,
  LIFECYCLE_BYTE,
  lockApdu,
  parseStatus,
  signReadingApdu,
  storeDataApdu,
  TAG,
  terminateApdu,
} from '../../sim-applet/index.js';
import { newCard } from '../helpers/card.js';
import { operationalCard, otaResponse, plain, raw, stateOf } from '../helpers/applet.js';

const reading = { observedAt: 1n, metric: new Uint8Array(32), value: 5n, payloadHash: new Uint8Array(32) };

t.test('a personalised card: the template, tag by tag', async (t) => {
  const card = newCard();
  const r = plain(card, getStatusApdu());
  t.equal(r.sw, 0x9000);
  const [template, ...more] = decodeBerTlvs(r.data);
  t.equal(more.length, 0, 'one template, nothing after it');
  t.equal(template?.tag, TAG.STATUS_TEMPLATE);
  const fields = new Map(decodeBerTlvs(template!.value).map((x) => [x.tag, Buffer.from(x.value).toString('hex')]));
  t.equal(fields.get(TAG.LIFECYCLE), '03', 'personalised');
  t.equal(fields.get(TAG.VERSION), '0100', 'version 1.0');
  t.equal(fields.get(TAG.KEY_PRESENCE), '00');
  t.equal(fields.get(TAG.READING_COUNTER), '0000000000000000');
  t.equal(fields.get(TAG.OTA_COUNTERS), '010000000000' + '020000000000', 'keysets 1 and 2, counter 0');
  t.equal(fields.get(TAG.IDENTITY_PRESENCE), '00');
  t.equal(fields.get(TAG.TRUST_ANCHOR_PRESENCE), '00');
  t.same(parseStatus(r.data), {
    lifecycle: 'personalised',
    version: '1.0',
    keySlots: [],
    readingCounter: 0n,
    otaCounters: new Map([[1, 0], [2, 0]]),
    identityPresence: 0,
    trustAnchorSlots: [],
  });
});

t.test('the status follows the card: keys, counters, identity, anchors', async (t) => {
  const card = newCard();
  otaResponse(card, [generateKeyPairApdu('secp256k1', 1), generateKeyPairApdu('p256', 3)], { cntr: 7 });
  let s = parseStatus(plain(card, getStatusApdu()).data);
  t.equal(s.lifecycle, 'operational', 'the first key makes the card operational');
  t.same(s.keySlots, [1, 3]);
  t.same([...s.otaCounters], [[1, 7], [2, 0]], 'the counter of the keyset used');

  otaResponse(card, [storeDataApdu({ chainId: 5n, batchId: Uint8Array.of(1) })], { keyset: 2, cntr: 300 });
  s = parseStatus(plain(card, getStatusApdu()).data);
  t.equal(s.identityPresence, 0b101, 'chain id (bit 0) and batch id (bit 2)');
  t.same([...s.otaCounters], [[1, 7], [2, 300]]);

  const anchor = p256.getPublicKey(p256.utils.randomSecretKey(), false);
  otaResponse(card, [storeDataApdu({ readingContract: new Uint8Array(20).fill(1), trustAnchors: [{ slot: 0, curve: 'p256', publicKey: anchor }, { slot: 7, curve: 'p256', publicKey: anchor }] })]);
  s = parseStatus(plain(card, getStatusApdu()).data);
  t.equal(s.identityPresence, 0b1101, 'reading contract is bit 3');
  t.same(s.trustAnchorSlots, [0, 7]);

  t.equal(plain(card, signReadingApdu(1, reading)).sw, 0x9000);
  t.equal(plain(card, signReadingApdu(1, reading)).sw, 0x9000);
  t.equal(parseStatus(plain(card, getStatusApdu()).data).readingCounter, 2n);
});

t.test('lifecycle bytes: locked 83, terminated FF (GET STATUS still answers)', async (t) => {
  const { card } = operationalCard();
  t.equal(parseStatus(plain(card, getStatusApdu()).data).lifecycle, 'operational');
  otaResponse(card, [lockApdu()]);
  const locked = plain(card, getStatusApdu());
  t.equal(locked.data[4], LIFECYCLE_BYTE.locked, 'A5 len 80 01 83');
  t.equal(parseStatus(locked.data).lifecycle, 'locked');
  otaResponse(card, [terminateApdu()]);
  const terminated = plain(card, getStatusApdu());
  t.equal(terminated.sw, 0x9000);
  t.equal(terminated.data[4], 0xff);
  t.equal(parseStatus(terminated.data).lifecycle, 'terminated');
});

t.test('GET STATUS through OTA returns the same template in the PoR', async (t) => {
  const { card } = operationalCard();
  const r = otaResponse(card, [getStatusApdu()]);
  t.same([r.executed, r.sw], [1, 0x9000]);
  const s = parseStatus(r.data);
  // The PoR reports the counter of this very packet: the card moved it before running the script.
  t.equal(s.otaCounters.get(1), stateOf(card).keysets[0]!.counter);
  t.same(Buffer.from(r.data), Buffer.from(plain(card, getStatusApdu()).data));
});

t.test('P1/P2 other than 00 00: 6A86, nothing changes', async (t) => {
  const card = newCard();
  const before = stateOf(card);
  for (const [p1, p2] of [[1, 0], [0, 1], [0x80, 0], [0xff, 0xff]] as const) {
    t.equal(raw(card, Buffer.of(0x80, 0xf4, p1, p2, 0)).sw, 0x6a86, `P1 ${p1} P2 ${p2}`);
  }
  const r = otaResponse(card, [{ ...getStatusApdu(), p2: 1 }]);
  t.same([r.executed, r.sw], [1, 0x6a86]);
  t.strictSame({ ...stateOf(card), keysets: before.keysets }, before);
});
