/**
 * LOCK, UNLOCK, TERMINATE: the transitions the operator may make, what each state allows,
 * and every refusal (6985 wrong state, 6A86 parameters, 6982 plain) leaving the card as it was.
 */
import t, { type Test } from 'tap';
import {
  CardTornError,
  generateKeyPairApdu,
  getDataApdu,
  getStatusApdu,
  INS,
  lockApdu,
  parseStatus,
  putKeyApdu,
  readPublicKeyApdu,
  signAccessRequestApdu,
  signReadingApdu,
  signUnlockApdu,
  storeDataApdu,
  terminateApdu,
  unlockApdu,
  type CommandApdu,
  type Lifecycle,
} from '../../sim-applet/index.js';
import { keysOf, newCard } from '../helpers/card.js';
import { operationalCard, ota, otaResponse, plain, stateOf } from '../helpers/applet.js';

const reading = signReadingApdu(1, { observedAt: 1n, metric: new Uint8Array(32), value: 1n, payloadHash: new Uint8Array(32) });
const access = signAccessRequestApdu(1, { areaId: new Uint8Array(32), incidentId: new Uint8Array(32), requestedAt: 1n, expiresAt: 2n, nonce: 3n });
const unlockRequest = signUnlockApdu(1, { lock: new Uint8Array(20), keyId: 1n, issuedAt: 1n, nonce: 1n });

const lifecycleOf = (card: ReturnType<typeof newCard>): Lifecycle => parseStatus(plain(card, getStatusApdu()).data).lifecycle;

/** Run one lifecycle instruction through OTA: the applet status word; a refusal must leave the card as it was. */
function expect(t: Test, card: ReturnType<typeof newCard>, apdu: CommandApdu, sw: number, what: string): void {
  const before = stateOf(card);
  const r = ota(card, [apdu]);
  t.equal(r.response?.sw, sw, what);
  if (sw !== 0x9000) t.strictSame({ ...stateOf(card), keysets: before.keysets }, before, `${what}: nothing changed`);
}

t.test('personalised: LOCK and UNLOCK 6985, TERMINATE allowed', async (t) => {
  const card = newCard();
  expect(t, card, lockApdu(), 0x6985, 'LOCK without a key');
  expect(t, card, unlockApdu(), 0x6985, 'UNLOCK of a card never locked');
  expect(t, card, terminateApdu(), 0x9000, 'TERMINATE');
  t.equal(lifecycleOf(card), 'terminated');
});

t.test('operational → locked → operational: signatures refused while locked, reads still answered', async (t) => {
  const { card } = operationalCard();
  t.equal(plain(card, reading).sw, 0x9000);
  expect(t, card, unlockApdu(), 0x6985, 'UNLOCK of an operational card');
  expect(t, card, lockApdu(), 0x9000, 'LOCK');
  t.equal(lifecycleOf(card), 'locked');
  const locked = stateOf(card);
  for (const [name, apdu] of [['reading', reading], ['access', access], ['unlock', unlockRequest]] as const) {
    t.equal(plain(card, apdu).sw, 0x6985, `SIGN ${name} refused while locked`);
  }
  t.equal(plain(card, readPublicKeyApdu(1, true)).sw, 0x9000, 'READ PUBLIC KEY');
  t.equal(plain(card, getDataApdu(0, 0xc1)).sw, 0x9000, 'GET DATA');
  t.strictSame(stateOf(card), locked, 'the refused signatures moved nothing');
  expect(t, card, lockApdu(), 0x6985, 'LOCK of a locked card');
  expect(t, card, generateKeyPairApdu('secp256k1', 2), 0x6985, 'GENERATE while locked');
  // PUT KEY and STORE DATA stay open to the operator while the card is locked.
  t.equal(otaResponse(card, [storeDataApdu({ batchId: Uint8Array.of(9) })]).sw, 0x9000, 'STORE DATA while locked');
  t.equal(otaResponse(card, [putKeyApdu(5, { kic: { algorithm: 'aes', key: new Uint8Array(16).fill(1) }, kid: { algorithm: 'aes', key: new Uint8Array(16).fill(2) }, kik: { algorithm: 'aes', key: new Uint8Array(16).fill(3) } }, keysOf(1).kikKey)]).sw, 0x9000, 'PUT KEY while locked');

  expect(t, card, unlockApdu(), 0x9000, 'UNLOCK');
  t.equal(lifecycleOf(card), 'operational');
  const again = plain(card, reading);
  t.equal(again.sw, 0x9000, 'signs again');
  t.equal(Buffer.from(again.data.subarray(0, 8)).toString('hex'), '0000000000000002', 'the reading counter went on from where it was');
});

t.test('TERMINATE from each state; afterwards only GET STATUS answers', async (t) => {
  const states: [string, () => ReturnType<typeof newCard>][] = [
    ['personalised', () => newCard()],
    ['operational', () => operationalCard().card],
    [
      'locked',
      () => {
        const { card } = operationalCard();
        otaResponse(card, [lockApdu()]);
        return card;
      },
    ],
  ];
  for (const [from, make] of states) {
    const card = make();
    expect(t, card, terminateApdu(), 0x9000, `TERMINATE from ${from}`);
    t.equal(lifecycleOf(card), 'terminated');
  }
  const { card } = operationalCard();
  otaResponse(card, [terminateApdu()]);
  const terminated = stateOf(card);
  for (const apdu of [lockApdu(), unlockApdu(), terminateApdu(), generateKeyPairApdu('p256', 2), storeDataApdu({ chainId: 2n }), getDataApdu(0, 0xc1), readPublicKeyApdu(1), reading]) {
    expect(t, card, apdu, 0x6985, `INS ${apdu.ins.toString(16)} through OTA once terminated`);
  }
  for (const apdu of [readPublicKeyApdu(1), getDataApdu(0, 0xc1), reading, access, unlockRequest]) {
    t.equal(plain(card, apdu).sw, 0x6985, `INS ${apdu.ins.toString(16)} plain once terminated`);
  }
  t.equal(plain(card, getStatusApdu()).sw, 0x9000);
  t.strictSame({ ...stateOf(card), keysets: terminated.keysets }, terminated);
});

t.test('parameters: P1/P2 other than 00 00 is 6A86; plain LOCK/UNLOCK/TERMINATE 6982', async (t) => {
  const { card } = operationalCard();
  for (const ins of [INS.LOCK, INS.UNLOCK, INS.TERMINATE]) {
    for (const [p1, p2] of [[1, 0], [0, 1], [0xff, 0xff]] as const) {
      expect(t, card, { cla: 0x80, ins, p1, p2, data: new Uint8Array(0) }, 0x6a86, `INS ${ins.toString(16)} P1 ${p1} P2 ${p2}`);
    }
  }
  const before = stateOf(card);
  for (const apdu of [lockApdu(), unlockApdu(), terminateApdu()]) t.equal(plain(card, apdu).sw, 0x6982);
  t.strictSame(stateOf(card), before);
  t.equal(lifecycleOf(card), 'operational');
});

t.test('a tear while the lifecycle is written leaves the card in its old state', async (t) => {
  const { card } = operationalCard();
  const before = stateOf(card);
  card.fault = (point) => {
    if (point === 'lifecycle-written') throw new CardTornError(point);
  };
  t.throws(() => ota(card, [lockApdu()]), CardTornError);
  card.fault = undefined;
  t.strictSame(stateOf(card), before);
  t.equal(plain(card, reading).sw, 0x9000, 'still signing');
});
