/**
 * The card side of the OTA security layer: every PoR status the card produces, each with
 * proof that the rejected packet changed nothing; the PoR forms the SPI asks for;
 * concatenated commands; script execution rules.
 */
import t, { type Test } from 'tap';
import {
  createOtaKey,
  decodeResponsePacket,
  decodeSmsSubmit,
  encodeCommandApdu,
  encodeCompactCommands,
  generateKeyPairApdu,
  getStatusApdu,
  MAX_COUNTER,
  parseStatus,
  reassemble,
  segmentOtaPacket,
  storeDataApdu,
  Uicc,
  type CardState,
  type Spi,
} from '../../sim-applet/index.js';
import { p256 } from '@noble/curves/nist.js';
import {
  ADMIN_SPI,
  commandUserData,
  deliverUserData,
  keysOf,
  newCard,
  newCardState,
  sendOta,
  type OtaOptions,
} from '../helpers/card.js';
import { randomBytes } from 'node:crypto';

const status = encodeCompactCommands([getStatusApdu()]);

/** A card that has accepted one command (counter 1 on keyset 1) and holds a key in slot 1. */
function usedCard(): Uicc {
  const card = newCard();
  const r = sendOta(card, [generateKeyPairApdu('secp256k1', 1)], { cntr: 1 });
  if (r.response?.sw !== 0x9000) throw new Error('setup failed');
  return card;
}

/** Send `data` and check the PoR status, that the PoR came unsecured, and that the card's memory is untouched. */
function rejects(t: Test, card: Uicc, o: OtaOptions, expected: number, what: string, data = status): void {
  const before = structuredClone(card.memory.state);
  const r = sendOta(card, data, o);
  t.ok(r.por, `${what}: a PoR comes back`);
  t.equal(r.por?.status, expected, `${what}: PoR status ${expected.toString(16).padStart(2, '0')}`);
  t.equal(r.por?.ccValid, false, `${what}: an error PoR is never reported as authentic`);
  t.equal(r.por?.ciphered, false, `${what}: error PoR unciphered`);
  t.equal(r.por?.cntr, 0, `${what}: error PoR carries CNTR 0`);
  t.same(card.memory.state, before, `${what}: nothing changed on the card`);
}

t.test('a valid command is accepted, runs, and moves the counter', async (t) => {
  const card = newCard();
  const r = sendOta(card, status, { cntr: 7 });
  t.equal(r.por?.status, 0);
  t.equal(r.por?.ccValid, true, 'PoR CC verifies under the keyset');
  t.equal(r.por?.ciphered, true);
  t.equal(r.por?.cntr, 7, 'PoR echoes the command counter');
  t.equal(r.response?.executed, 1);
  t.equal(r.response?.sw, 0x9000);
  t.equal(parseStatus(r.response!.data).lifecycle, 'personalised');
  t.equal(card.memory.state.keysets[0]!.counter, 7, 'keyset 1 counter stored');
  t.equal(card.memory.state.keysets[1]!.counter, 0, 'keyset 2 counter untouched');
});

t.test('01: a CC that does not verify', async (t) => {
  const card = usedCard();
  rejects(t, card, { cntr: 2, kidKey: createOtaKey('aes', randomBytes(16)) }, 0x01, 'wrong KID key');
  // A wrong KIc key deciphers to garbage: the CC over it fails first (no padding oracle).
  rejects(t, card, { cntr: 2, kicKey: createOtaKey('aes', randomBytes(16)) }, 0x01, 'wrong KIc key');
});

t.test('02: replayed and lower counters', async (t) => {
  const card = usedCard();
  rejects(t, card, { cntr: 1 }, 0x02, 'same counter again');
  rejects(t, card, { cntr: 0 }, 0x02, 'lower counter');
  const ok = sendOta(card, status, { cntr: 2 });
  t.equal(ok.por?.status, 0, 'the next higher counter is accepted');
});

t.test('03: counter too high in one-higher mode', async (t) => {
  const card = usedCard();
  const spi: Spi = { ...ADMIN_SPI, counter: 'one-higher' };
  rejects(t, card, { cntr: 5, spi }, 0x03, 'skipping counter values');
  t.equal(sendOta(card, status, { cntr: 2, spi }).por?.status, 0, 'exactly one higher is accepted');
});

t.test('04: counter blocked at its maximum', async (t) => {
  const state: CardState = newCardState();
  state.keysets[0]!.counter = MAX_COUNTER;
  const card = new Uicc(state, { random: randomBytes });
  rejects(t, card, { cntr: MAX_COUNTER }, 0x04, 'stored counter at 2^40-1');
});

t.test('05: ciphering errors', async (t) => {
  const card = usedCard();
  // KIc names 3DES for keyset 1, which holds AES keys.
  const wrongAlgorithm = commandUserData(status, { cntr: 2 });
  wrongAlgorithm[3 + 5] = 0x15;
  assertRejected(t, card, wrongAlgorithm, 0x05, 'KIc algorithm differs from the keyset');
  // No keyset 9 on the card.
  const noKey = commandUserData(status, { cntr: 2 });
  noKey[3 + 5] = 0x92;
  assertRejected(t, card, noKey, 0x05, 'no KIc key at that index');
  // Ciphertext cut to a non-multiple of the block (CPL kept consistent).
  const cut = Buffer.from(commandUserData(status, { cntr: 2 }).subarray(0, -1));
  cut.writeUInt16BE(cut.length - 5, 3);
  assertRejected(t, card, cut, 0x05, 'ciphertext not a block multiple');
});

t.test('06: undefined security errors', async (t) => {
  const card = usedCard();
  const kidWrong = commandUserData(status, { cntr: 2 });
  kidWrong[3 + 6] = 0x15;
  assertRejected(t, card, kidWrong, 0x06, 'KID algorithm differs from the keyset');
  const chl = commandUserData(status, { cntr: 2 });
  chl[3 + 2] = 0x0d;
  assertRejected(t, card, chl, 0x06, 'CHL not fitting the SPI');
  const reserved = commandUserData(status, { cntr: 2 });
  reserved[3 + 3]! |= 0x80;
  assertRejected(t, card, reserved, 0x06, 'reserved SPI bits');
});

/** Deliver crafted user data; check status, unsecured PoR and untouched memory. */
function assertRejected(t: Test, card: Uicc, userData: Uint8Array, expected: number, what: string): void {
  const before = structuredClone(card.memory.state);
  const r = deliverUserData(card, [userData]);
  t.equal(r.submits.length, 1, `${what}: one PoR by SMS-SUBMIT`);
  const por = decodeResponsePacket(decodeSmsSubmit(r.submits[0]!).ud, { spi: ADMIN_SPI, ...keysOf(1) });
  t.equal(por.status, expected, `${what}: status ${expected.toString(16).padStart(2, '0')}`);
  t.equal(por.ccValid, false, `${what}: unsecured`);
  t.same(card.memory.state, before, `${what}: nothing changed`);
}

t.test('09: unknown TAR', async (t) => {
  rejects(t, usedCard(), { cntr: 2, tar: 'b00010' }, 0x09, 'RFM TAR not on this card');
});

t.test('0A: below the TAR minimum security level', async (t) => {
  const card = usedCard();
  rejects(t, card, { cntr: 2, spi: { ...ADMIN_SPI, ciphered: false } }, 0x0a, 'not ciphered');
  rejects(t, card, { cntr: 2, spi: { ...ADMIN_SPI, integrity: 'none' } }, 0x0a, 'no CC');
  rejects(t, card, { cntr: 2, spi: { ...ADMIN_SPI, counter: 'none' } }, 0x0a, 'no counter');
  rejects(t, card, { cntr: 2, spi: { ...ADMIN_SPI, counter: 'no-replay-check' } }, 0x0a, 'counter without replay check');
});

t.test('a packet without a usable header is discarded: no PoR, nothing changes', async (t) => {
  const card = usedCard();
  const before = structuredClone(card.memory.state);
  const bad = Buffer.from(commandUserData(status, { cntr: 2 }));
  bad.writeUInt16BE(bad.readUInt16BE(3) + 1, 3);
  const r = deliverUserData(card, [bad, Uint8Array.of(0x02, 0x70, 0x00, 0x00)]);
  t.equal(r.sw, 0x9000, 'acknowledged like any SMS');
  t.equal(r.submits.length, 0);
  t.equal(r.responseData, undefined);
  t.same(card.memory.state, before);
});

t.test('PoR forms follow SPI byte 2', async (t) => {
  const card = usedCard();
  let cntr = 2;
  const none = sendOta(card, status, { cntr: cntr++, spi: { ...ADMIN_SPI, por: 'none' } });
  t.equal(none.porUserData, undefined, 'PoR none: nothing comes back');
  t.equal(card.memory.state.keysets[0]!.counter, cntr - 1, 'but the command was accepted');
  const onErrorOk = sendOta(card, status, { cntr: cntr++, spi: { ...ADMIN_SPI, por: 'on-error' } });
  t.equal(onErrorOk.porUserData, undefined, 'PoR on error, no error: nothing');
  const onErrorFail = sendOta(card, [generateKeyPairApdu('secp256k1', 1)], { cntr: cntr++, spi: { ...ADMIN_SPI, por: 'on-error' } });
  t.equal(onErrorFail.response?.sw, 0x6a89, 'PoR on error: the failing command reports its status word');
  t.equal(onErrorFail.por?.status, 0, 'the packet itself was fine');

  const viaReport = sendOta(card, status, { cntr: cntr++, spi: { ...ADMIN_SPI, porViaSubmit: false } });
  t.ok(viaReport.porUserData, 'PoR in the ENVELOPE response, for the SMS-DELIVER-REPORT');
  t.equal(viaReport.por?.ccValid, true);
  t.equal(viaReport.response?.sw, 0x9000);

  const plainCc = sendOta(card, status, { cntr: cntr++, spi: { ...ADMIN_SPI, porCiphered: false } });
  t.equal(plainCc.por?.ciphered, false, 'PoR not ciphered when the SPI says so');
  t.equal(plainCc.por?.ccValid, true, 'but with its CC');
  const cipheredNoCc = sendOta(card, status, { cntr: cntr++, spi: { ...ADMIN_SPI, porIntegrity: 'none' } });
  t.equal(cipheredNoCc.por?.ciphered, true);
  t.equal(cipheredNoCc.por?.ccValid, false, 'no CC asked, none given');
  t.equal(cipheredNoCc.response?.sw, 0x9000);

  const des = sendOta(card, status, { cntr: 1, keyset: 2 });
  t.equal(des.por?.ccValid, true, '2-key 3DES keyset works and has its own counter');
  t.equal(card.memory.state.keysets[1]!.counter, 1);
});

t.test('class A0 ENVELOPE: the PoR waits behind 9Fxx', async (t) => {
  const card = usedCard();
  const ud = commandUserData(status, { cntr: 2, spi: { ...ADMIN_SPI, porViaSubmit: false } });
  const { encodeSmsDeliver, encodeSmsPpDownloadApdu, sctsFromDate } = await import('../../sim-applet/index.js');
  const tpdu = encodeSmsDeliver({ oa: { ton: 'international', npi: 'isdn_e164', digits: '4912345' }, pid: 0x7f, dcs: 0xf6, scts: sctsFromDate(new Date()), ud, udhi: true });
  const r = card.transmit(encodeSmsPpDownloadApdu({ cla: 0xa0, tpdu }));
  t.equal(r[r.length - 2], 0x9f, '9Fxx as a GSM SIM signals it');
  const len = r[r.length - 1]!;
  const data = card.transmit(Uint8Array.of(0xa0, 0xc0, 0, 0, len));
  t.equal(data.length, len + 2);
  t.equal(data[data.length - 2], 0x90);
  const por = decodeResponsePacket(data.subarray(0, -2), { spi: { ...ADMIN_SPI, porViaSubmit: false }, ...keysOf(1) });
  t.equal(por.ccValid, true);
});

t.test('a command packet split over several SMS is reassembled, in any order, duplicates ignored', async (t) => {
  const card = usedCard();
  const anchors = Array.from({ length: 8 }, (_, slot) => ({ slot, curve: 'p256' as const, publicKey: p256.getPublicKey(p256.utils.randomSecretKey(), false) }));
  const script = encodeCompactCommands([
    storeDataApdu({ chainId: 31337n, trustAnchors: anchors.slice(0, 3) }),
    storeDataApdu({ trustAnchors: anchors.slice(3, 6) }),
    storeDataApdu({ trustAnchors: anchors.slice(6) }),
    getStatusApdu(),
  ]);
  const ud = commandUserData(script, { cntr: 2 });
  const parts = segmentOtaPacket(ud.subarray(3), 'command', 0x42);
  t.ok(parts.length >= 5, `${parts.length} SMS parts`);
  const shuffled = [...parts].reverse();
  shuffled.splice(2, 0, parts[1]!);
  const r = deliverUserData(card, shuffled);
  t.ok(r.submits.length >= 1, 'PoR sent once the last part is in');
  const porUd = r.submits.length === 1 ? decodeSmsSubmit(r.submits[0]!).ud : Buffer.concat([Uint8Array.of(2, 0x71, 0), reassemble(r.submits.map((s) => decodeSmsSubmit(s).ud)).data]);
  const por = decodeResponsePacket(porUd, { spi: ADMIN_SPI, ...keysOf(1) });
  t.equal(por.status, 0);
  t.same(card.memory.state.trustAnchors.map((a) => a !== null), Array(8).fill(true), 'all 8 anchors stored');
  t.equal(card.memory.state.identity.chainId, '7a69');
});

t.test('a part missing: the card waits, nothing runs', async (t) => {
  const card = usedCard();
  const before = structuredClone(card.memory.state);
  const anchors = Array.from({ length: 3 }, (_, slot) => ({ slot, curve: 'p256' as const, publicKey: p256.getPublicKey(p256.utils.randomSecretKey(), false) }));
  const ud = commandUserData(encodeCompactCommands([storeDataApdu({ trustAnchors: anchors }), storeDataApdu({ chainId: 1n })]), { cntr: 2 });
  const parts = segmentOtaPacket(ud.subarray(3), 'command', 7);
  const r = deliverUserData(card, parts.slice(0, -1));
  t.equal(r.submits.length, 0);
  t.same(card.memory.state, before);
  const done = deliverUserData(card, parts.slice(-1));
  t.equal(done.submits.length > 0, true, 'the last part completes it');
});

t.test('TS 102 226: a script stops at the first failing command', async (t) => {
  const card = usedCard();
  const r = sendOta(card, [getStatusApdu(), generateKeyPairApdu('secp256k1', 1), getStatusApdu()], { cntr: 2 });
  t.equal(r.response?.executed, 2, 'the failing command is counted, the one after it never runs');
  t.equal(r.response?.sw, 0x6a89);
  const truncated = Buffer.concat([encodeCompactCommands([getStatusApdu()]), encodeCommandApdu({ cla: 0x80, ins: 0xe2, p1: 0x80, p2: 0, data: new Uint8Array(4) }).subarray(0, 7)]);
  const cut = sendOta(card, truncated, { cntr: 3 });
  t.equal(cut.response?.executed, 2);
  t.equal(cut.response?.sw, 0x6700, 'a command cut short answers wrong length');
});
