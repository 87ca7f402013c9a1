/**
 * Atomicity: a fault injected at any write point of any writing instruction leaves the
 * card's persistent state exactly as it was, the card answers afterwards, and the same
 * instruction then completes.
 */
import t from 'tap';
import { randomBytes } from 'node:crypto';
import {
  CardTornError,
  createOtaKey,
  encodeCommandApdu,
  generateKeyPairApdu,
  getStatusApdu,
  lockApdu,
  PersistentMemory,
  putKeyApdu,
  signReadingApdu,
  storeDataApdu,
  terminateApdu,
  transmitWithResponse,
  Uicc,
  type CardSnapshot,
  type CommandApdu,
} from '../../sim-applet/index.js';
import { keysOf, newCard, sendOta } from '../helpers/card.js';

t.test('PersistentMemory: commit on return, discard on throw, nesting commits with the outermost', async (t) => {
  const m = new PersistentMemory({ a: 1, b: { c: 2 } });
  m.transaction((d) => {
    d.a = 5;
  });
  t.equal(m.state.a, 5);
  t.throws(() =>
    m.transaction((d) => {
      d.b.c = 9;
      throw new Error('boom');
    }),
  );
  t.equal(m.state.b.c, 2, 'discarded');
  t.throws(() =>
    m.transaction((d) => {
      m.transaction((inner) => {
        inner.a = 7;
      });
      t.equal(m.state.a, 7, 'the running instruction sees its own writes');
      t.equal(m.committed.a, 5, 'not committed yet');
      d.b.c = 3;
      throw new CardTornError('late');
    }),
  );
  t.same(m.state, { a: 5, b: { c: 2 } }, 'the inner write went with the outer abort');
});

/** A card ready for every writing instruction: key in slot 1, identity pushed, OTA counter 2. */
function readyCard(): Uicc {
  const card = newCard();
  const r = sendOta(card, [storeDataApdu({ chainId: 1n, readingContract: randomBytes(20) }), generateKeyPairApdu('secp256k1', 1)], { cntr: 1 });
  if (r.response?.sw !== 0x9000) throw new Error('setup failed');
  return card;
}

type Step = { name: string; run: (card: Uicc, cntr: number) => number };

const ota = (apdus: CommandApdu[]) => (card: Uicc, cntr: number) => sendOta(card, apdus, { cntr }).response?.sw ?? -1;
const plain = (apdu: CommandApdu) => (card: Uicc) => transmitWithResponse((c) => card.transmit(c), encodeCommandApdu(apdu)).sw;

const newKeys = {
  kic: { algorithm: 'aes' as const, key: randomBytes(16) },
  kid: { algorithm: 'aes' as const, key: randomBytes(16) },
  kik: { algorithm: 'aes' as const, key: randomBytes(16) },
};

const steps: Step[] = [
  { name: 'GENERATE KEY PAIR (replace)', run: ota([generateKeyPairApdu('p256', 1, { replace: true })]) },
  { name: 'STORE DATA', run: ota([storeDataApdu({ chainId: 5n, registry: randomBytes(20), batchId: randomBytes(32) })]) },
  { name: 'PUT KEY', run: ota([putKeyApdu(3, newKeys, keysOf(1).kikKey)]) },
  { name: 'LOCK', run: ota([lockApdu()]) },
  { name: 'TERMINATE', run: ota([terminateApdu()]) },
  { name: 'a two-command script', run: ota([storeDataApdu({ chainId: 6n }), generateKeyPairApdu('secp256k1', 2)]) },
  {
    name: 'SIGN READING (plain)',
    run: plain(signReadingApdu(1, { observedAt: 1, metric: new Uint8Array(32), value: 1n, payloadHash: new Uint8Array(32) })),
  },
];

for (const step of steps) {
  t.test(`a tear at any write point of ${step.name} changes nothing`, async (t) => {
    const base = readyCard().snapshot();
    // Learn the write points of this instruction on a copy.
    const points: string[] = [];
    const probe = new Uicc(base, { random: randomBytes });
    probe.fault = (p) => points.push(p);
    t.equal(step.run(probe, 2), 0x9000, 'runs fine without a fault');
    t.ok(points.length >= 2, `write points: ${points.join(', ')}`);

    for (let i = 0; i < points.length; i++) {
      const card = new Uicc(base as CardSnapshot, { random: randomBytes });
      const before = structuredClone(card.memory.state);
      let seen = 0;
      card.fault = (p) => {
        if (seen++ === i) throw new CardTornError(p);
      };
      t.throws(() => step.run(card, 2), CardTornError, `torn at #${i} (${points[i]})`);
      card.fault = undefined;
      t.same(card.memory.state, before, `state as before after a tear at ${points[i]}`);
      card.reset();
      const status = transmitWithResponse((c) => card.transmit(c), encodeCommandApdu(getStatusApdu()));
      t.equal(status.sw, 0x9000, 'the card answers after the tear');
      t.equal(step.run(card, 2), 0x9000, 'and the instruction then completes (same counter: nothing was burned)');
    }
  });
}

t.test('the reading counter is not burned by a torn SIGN READING', async (t) => {
  const card = readyCard();
  const sign = plain(signReadingApdu(1, { observedAt: 1, metric: new Uint8Array(32), value: 1n, payloadHash: new Uint8Array(32) }));
  card.fault = (p) => {
    if (p === 'reading-counter-written') throw new CardTornError(p);
  };
  t.throws(() => sign(card));
  card.fault = undefined;
  t.equal(card.memory.state.readingCounter, 0);
  t.equal(sign(card), 0x9000);
  t.equal(card.memory.state.readingCounter, 1, 'the first signature released carries counter 1');
  t.ok(createOtaKey, 'imports used');
});

t.test('clonePlain copies JSON-shaped state deeply, and anything else by structuredClone', async (t) => {
  const { clonePlain } = await import('../../sim-applet/card/memory.js');
  const card = newCard();
  const state = card.snapshot();
  const copy = clonePlain(state);
  t.same(copy, structuredClone(state), 'a card state copies to what structuredClone gives');
  t.equal(JSON.stringify(copy), JSON.stringify(state), 'and to the same JSON');
  (copy.keysets[0] as { counter: number }).counter += 1;
  t.not(JSON.stringify(copy), JSON.stringify(state), 'changing the copy leaves the original');
  const odd = { bytes: Uint8Array.of(1, 2, 3), at: new Date(0), list: [{ x: [1, { y: null }] }], none: undefined };
  const c = clonePlain(odd);
  t.ok(c.bytes instanceof Uint8Array && c.bytes !== odd.bytes && c.bytes[2] === 3, 'a typed array is copied, not shared');
  t.ok(c.at instanceof Date && c.at !== odd.at && c.at.getTime() === 0, 'a Date is copied');
  t.not(c.list[0], odd.list[0], 'nested objects are copies');
  t.same(c, odd);
  t.ok('none' in c, 'an undefined member stays');
});
