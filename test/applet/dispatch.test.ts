/**
 * The applet's dispatch: class, instruction, security (admin only through OTA), lifecycle
 * and ISO case, in that order, each with the status word a real card returns, and no
 * state change for any refused command.
 */
import t from 'tap';
import { randomBytes } from 'node:crypto';
import {
  generateKeyPairApdu,
  getDataApdu,
  getStatusApdu,
  INS,
  lockApdu,
  putKeyApdu,
  readPublicKeyApdu,
  storeDataApdu,
  terminateApdu,
  unlockApdu,
  type CommandApdu,
} from '../../sim-applet/index.js';
import { processApplet } from '../../sim-applet/applet/simchain-applet.js';
import { keysOf, newCard } from '../helpers/card.js';
import { IDENTITY, operationalCard, ota, otaResponse, plain, raw, stateOf } from '../helpers/applet.js';

const newKeys = {
  kic: { algorithm: 'aes' as const, key: randomBytes(16) },
  kid: { algorithm: 'aes' as const, key: randomBytes(16) },
  kik: { algorithm: 'aes' as const, key: randomBytes(16) },
};

/** Every administrative instruction, well formed, as the operator would send it. */
const ADMIN_COMMANDS: [string, CommandApdu][] = [
  ['GENERATE KEY PAIR', generateKeyPairApdu('secp256k1', 2)],
  ['PUT KEY', putKeyApdu(1, newKeys, keysOf(1).kikKey)],
  ['STORE DATA', storeDataApdu({ chainId: 1n })],
  ['LOCK', lockApdu()],
  ['UNLOCK', unlockApdu()],
  ['TERMINATE', terminateApdu()],
];

t.test('wrong class: 6E00, plain and through OTA, nothing changes', async (t) => {
  const { card } = operationalCard();
  const before = stateOf(card);
  // 00: interindustry; 84/8C: proprietary with secure messaging bits; 20, C0, FF: not valid class bytes here.
  for (const cla of [0x00, 0x84, 0x8c, 0x20, 0xc0, 0xff]) {
    t.equal(raw(card, Buffer.of(cla, INS.GET_STATUS, 0, 0, 0)).sw, 0x6e00, `CLA ${cla.toString(16)} GET STATUS`);
  }
  t.equal(raw(card, Buffer.of(0x00, INS.SIGN_READING, 0, 1, 1, 0)).sw, 0x6e00, 'CLA 00 SIGN READING');
  const r = otaResponse(card, [{ ...getStatusApdu(), cla: 0x00 }]);
  t.same([r.executed, r.sw, r.data.length], [1, 0x6e00, 0]);
  t.strictSame({ ...stateOf(card), keysets: before.keysets }, before, 'only the OTA counter moved');
});

t.test('unknown instructions: 6D00, plain and through OTA', async (t) => {
  const { card } = operationalCard();
  const before = stateOf(card);
  for (const ins of [0x00, 0x02, 0x10, 0x20, 0x50, 0xa4 + 1, 0xb0, 0xc4, 0xda, 0xf0, 0xfe]) {
    t.equal(raw(card, Buffer.of(0x80, ins, 0, 0)).sw, 0x6d00, `INS ${ins.toString(16)}`);
  }
  t.strictSame(stateOf(card), before);
  const r = otaResponse(card, [{ cla: 0x80, ins: 0x00, p1: 0, p2: 0, data: new Uint8Array(0) }]);
  t.same([r.executed, r.sw], [1, 0x6d00]);
});

t.test('administrative instructions sent plain: 6982 before anything else is looked at', async (t) => {
  for (const setup of ['personalised', 'operational', 'locked'] as const) {
    const card = setup === 'personalised' ? newCard() : operationalCard().card;
    if (setup === 'locked') t.equal(otaResponse(card, [lockApdu()]).sw, 0x9000);
    const before = stateOf(card);
    for (const [name, apdu] of ADMIN_COMMANDS) {
      t.equal(plain(card, apdu).sw, 0x6982, `${name} plain on a ${setup} card`);
      // Wrong parameters and garbage data do not change the answer: security comes first.
      t.equal(plain(card, { ...apdu, p1: 0xff, p2: 0xff, data: Uint8Array.of(1, 2, 3) }).sw, 0x6982, `${name} plain with garbage`);
    }
    t.strictSame(stateOf(card), before, `${setup}: nothing changed`);
  }
});

t.test('administrative instructions through OTA below the TAR security level never reach the applet', async (t) => {
  const card = newCard();
  const before = stateOf(card);
  // Integrity and counter, but no ciphering: the applet's TAR demands ciphering.
  const spi = { integrity: 'cc', ciphered: false, counter: 'higher', por: 'always', porIntegrity: 'cc', porCiphered: false, porViaSubmit: true } as const;
  const r = ota(card, [generateKeyPairApdu('secp256k1', 1)], { spi });
  t.equal(r.por?.status, 0x0a, 'PoR 0A insufficient security level');
  t.equal(r.response, undefined);
  t.strictSame(stateOf(card), before, 'no key, no counter change');
});

t.test('the order of the checks: class, instruction, security, lifecycle, length', async (t) => {
  const { card } = operationalCard();
  t.equal(otaResponse(card, [terminateApdu()]).sw, 0x9000);
  const before = stateOf(card);
  t.equal(raw(card, '00 04 00 00').sw, 0x6e00, 'class before instruction (LOCK with CLA 00)');
  t.equal(raw(card, '80 00 00 00 01 00').sw, 0x6d00, 'instruction before length');
  t.equal(raw(card, '80 04 00 00').sw, 0x6982, 'security before lifecycle: LOCK plain on a terminated card');
  t.equal(raw(card, '80 CA 00 C1 01 00').sw, 0x6985, 'lifecycle before length: GET DATA with data on a terminated card');
  t.equal(raw(card, '80 F4 00 00 01 00').sw, 0x6700, 'GET STATUS still answers, and checks its length');
  t.strictSame(stateOf(card), before);
});

t.test('case 1 and case 2 instructions with command data: 6700', async (t) => {
  const { card } = operationalCard();
  const before = stateOf(card);
  t.equal(raw(card, '80 F4 00 00 01 00 00').sw, 0x6700, 'GET STATUS (case 2) sent as case 4');
  t.equal(raw(card, '80 F4 00 00 01 00').sw, 0x6700, 'GET STATUS sent as case 3');
  t.equal(raw(card, '80 B4 00 01 02 00 00').sw, 0x6700, 'READ PUBLIC KEY with data');
  t.equal(raw(card, '80 CA 00 C1 01 00 00').sw, 0x6700, 'GET DATA with data');
  t.strictSame(stateOf(card), before);
  // The compact format cannot carry data for a case 1 instruction; an OTA context could
  // (expanded format), and the applet refuses it there too.
  const ctx = { memory: card.memory, random: randomBytes, ota: { keysetIndex: 1 } };
  for (const ins of [INS.LOCK, INS.UNLOCK, INS.TERMINATE]) {
    t.equal(processApplet({ cla: 0x80, ins, p1: 0, p2: 0, data: Uint8Array.of(0) }, ctx).sw, 0x6700, `INS ${ins.toString(16)} with data`);
  }
  t.strictSame(stateOf(card), before);
});

t.test('extended length fields are understood', async (t) => {
  const { card } = operationalCard();
  const r = raw(card, '80 F4 00 00 00 00 00');
  t.equal(r.sw, 0x9000);
  t.equal(r.data[0], 0xa5, 'the status template');
  const key = raw(card, '80 B4 00 01 00 00 00');
  t.equal(key.sw, 0x9000);
  t.equal(key.data[0], 0x80, 'the public key TLV');
});

t.test('an OTA script stops at the first failing command and reports it', async (t) => {
  const { card } = operationalCard();
  const before = stateOf(card);
  const r = otaResponse(card, [getStatusApdu(), { cla: 0x80, ins: 0x00, p1: 0, p2: 0, data: new Uint8Array(0) }, lockApdu()]);
  t.same([r.executed, r.sw], [2, 0x6d00]);
  t.equal(stateOf(card).lifecycle, 'operational', 'LOCK after the failure did not run');
  t.strictSame({ ...stateOf(card), keysets: before.keysets }, before, 'only the OTA counter moved');
  // A list that ends inside a command: that command counts as executed, with 6700.
  const cut = Buffer.concat([Buffer.from('80F40000' + '00', 'hex'), Buffer.from('80E2800005C101', 'hex')]);
  const c = otaResponse(card, cut);
  t.same([c.executed, c.sw], [2, 0x6700]);
  t.strictSame(stateOf(card).identity, before.identity);
});

t.test('read-only and signing instructions are open to the firmware; the identity stays as pushed', async (t) => {
  const { card } = operationalCard();
  t.equal(plain(card, getStatusApdu()).sw, 0x9000);
  t.equal(plain(card, readPublicKeyApdu(1)).sw, 0x9000);
  t.equal(plain(card, getDataApdu(0, 0xc1)).sw, 0x9000);
  t.same(Buffer.from(plain(card, getDataApdu(0, 0xc2)).data), Buffer.from(IDENTITY.registry));
});
