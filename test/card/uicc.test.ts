/**
 * The card's operating system as a handset sees it (ISO 7816-4, TS 102 221, TS 31.111,
 * TS 102 223): SELECT, GET RESPONSE under T=0 rules, ENVELOPE (SMS-PP download) with its
 * response by 61xx/9Fxx or by proactive SEND SHORT MESSAGE, FETCH / TERMINAL RESPONSE,
 * and the status words for what the card does not do.
 */
import t from 'tap';
import {
  ATR,
  createVendorCa,
  decodeBerTlvTree,
  encodeBerTlv,
  generateKeyPairApdu,
  decodeCompactResponse,
  decodeProactiveCommand,
  decodeResponsePacket,
  decodeSmsSubmit,
  encodeCommandApdu,
  encodeCompactCommands,
  encodeComprehensionTlv,
  encodeSmsDeliver,
  encodeSmsPpDownloadApdu,
  encodeSmsSubmit,
  encodeTerminalResponse,
  findConcat,
  getStatusApdu,
  parseStatus,
  readPublicKeyApdu,
  reassemble,
  sctsFromDate,
  SIMCHAIN_AID,
  smsPpDownload,
  splitUdh,
  storeDataApdu,
  Uicc,
  type Spi,
} from '../../sim-applet/index.js';
import { p256 } from '@noble/curves/nist.js';
import { randomBytes } from 'node:crypto';
import { ADMIN_SPI, commandSms, commandUserData, keysOf, NOW, OPERATOR, newCard } from '../helpers/card.js';
import { nextCntr, operationalCard, otaResponse, plain, raw, stateOf } from '../helpers/applet.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const AID = SIMCHAIN_AID;
const selectAid = (aid: string, p2 = 0x00, le?: number) =>
  Buffer.concat([Buffer.of(0x00, 0xa4, 0x04, p2, aid.length / 2), Buffer.from(aid, 'hex'), le === undefined ? Buffer.alloc(0) : Buffer.of(le)]);
const SELECT_MF = '00 A4 00 04 02 3F 00';
const STATUS = '80 F4 00 00 00';
const REPORT_SPI: Spi = { ...ADMIN_SPI, porViaSubmit: false };

/** An ENVELOPE (SMS-PP download) carrying one SMS-DELIVER with these fields. */
function envelope(ud: Uint8Array, o: { cla?: number; pid?: number; udhi?: boolean } = {}): Uint8Array {
  const tpdu = encodeSmsDeliver({ oa: OPERATOR, pid: o.pid ?? 0x7f, dcs: 0xf6, scts: sctsFromDate(NOW), ud, udhi: o.udhi ?? true });
  return encodeSmsPpDownloadApdu({ cla: o.cla ?? 0x80, tpdu });
}

/** A secured command packet for the applet (SMS user data), with the next counter of keyset 1. */
const securedUserData = (card: Uicc, spi: Spi = ADMIN_SPI, apdus = [getStatusApdu()]) =>
  commandUserData(encodeCompactCommands(apdus), { cntr: nextCntr(card), spi });

t.test('ATR and reset', async (t) => {
  const card = newCard();
  const partial = raw(card, '80 F4 00 00 01');
  t.same([partial.data.length, partial.sw >> 8], [1, 0x61], 'Le 1: one byte now, the rest behind 61xx');
  t.not(card.session.pendingResponse, null);
  const atr = card.reset();
  t.same(Buffer.from(atr), Buffer.from(ATR));
  t.equal(atr[0], 0x3b, 'direct convention');
  t.equal(card.session.pendingResponse, null, 'RAM is cleared');
  t.equal(raw(card, '00 C0 00 00 10').sw, 0x6985, 'nothing to GET RESPONSE after a reset');
  t.equal(raw(card, STATUS).sw, 0x9000, 'the applet is selected at reset');
});

t.test('SELECT by AID: full and partial names, FCI, P2 variants, unknown names 6A82', async (t) => {
  const card = newCard();
  const full = raw(card, selectAid(AID, 0x00, 0x00));
  t.equal(full.sw, 0x9000);
  // The FCI must parse as a BER-TLV tree: A5 is a constructed tag (ISO 7816-4 §5.3.3, proprietary data in BER-TLV).
  const [fci, ...more] = decodeBerTlvTree(full.data);
  t.equal(more.length, 0);
  t.equal(fci?.tag, 0x6f, 'FCI template');
  const inner = new Map((fci?.children ?? []).map((x) => [x.tag, x]));
  t.equal(hex(inner.get(0x84)!.value), AID, 'DF name');
  const proprietary = new Map((inner.get(0xa5)?.children ?? []).map((x) => [x.tag, hex(x.value)]));
  t.same([proprietary.get(0x80), proprietary.get(0x81)], ['03', '0100'], 'proprietary data: lifecycle (personalised) and version 1.0');

  // Case 3 (no Le): T=0 gives the FCI behind 61xx.
  const c3 = raw(card, selectAid(AID));
  t.same([c3.sw, c3.data.length], [0x6100 | full.data.length, 0]);
  t.same(Buffer.from(raw(card, Buffer.of(0x00, 0xc0, 0, 0, full.data.length)).data), Buffer.from(full.data));

  t.same(raw(card, selectAid(AID, 0x0c)), { data: new Uint8Array(0), sw: 0x9000 }, 'P2 0C: no response data');
  for (const p2 of [0x01, 0x02, 0x03, 0x10, 0x80]) t.equal(raw(card, selectAid(AID, p2, 0)).sw, 0x6a86, `P2 ${p2.toString(16)}`);

  for (const length of [5, 6, 8]) t.equal(raw(card, selectAid(AID.slice(0, length * 2), 0x0c)).sw, 0x9000, `partial name of ${length} bytes`);
  for (const [what, aid] of [
    ['four bytes (too short to name an application)', AID.slice(0, 8)],
    ['the USIM AID', 'a0000000871002ff49ff0589'],
    ['the same RID, another PIX', 'f0534d4348414e0102'],
    ['our AID and one more byte', AID + '00'],
    ['empty', ''],
  ] as const) {
    t.equal(raw(card, selectAid(aid, 0x0c)).sw, 0x6a82, what);
  }
  t.equal(raw(card, STATUS).sw, 0x9000, 'a failed SELECT leaves the applet selected');
  otaResponse(card, [generateKeyPairApdu('secp256k1', 1)]);
  const operational = new Map((decodeBerTlvTree(raw(card, selectAid(AID, 0x00, 0x00)).data)[0]?.children ?? []).map((x) => [x.tag, x]));
  t.equal(hex(operational.get(0xa5)!.children!.find((x) => x.tag === 0x80)!.value), '07', 'the lifecycle byte follows the card');
});

t.test('SELECT MF: the applet is deselected until selected again; other files are not found', async (t) => {
  const card = newCard();
  t.equal(raw(card, SELECT_MF).sw, 0x9000);
  t.equal(raw(card, STATUS).sw, 0x6d00, 'no applet: its instructions are unknown');
  t.equal(raw(card, '80 B4 00 01 00').sw, 0x6d00);
  t.equal(raw(card, '00 A4 00 04 02 2F E2').sw, 0x6a82, 'EF ICCID is not modelled');
  t.equal(raw(card, '00 A4 08 04 04 3F 00 2F E2').sw, 0x6a82, 'select by path');
  t.equal(raw(card, '00 A4 09 04 02 2F E2').sw, 0x6a82, 'select by path from the current DF');
  t.equal(raw(card, selectAid(AID, 0x0c)).sw, 0x9000);
  t.equal(raw(card, STATUS).sw, 0x9000);
  raw(card, SELECT_MF);
  card.reset();
  t.equal(raw(card, STATUS).sw, 0x9000, 'a reset selects the applet again');
});

t.test('GET RESPONSE: 61xx chaining, 6Cxx, 6985, discarded by the next command', async (t) => {
  const { card } = operationalCard();
  const whole = raw(card, STATUS);
  t.equal(whole.sw, 0x9000);
  const n = whole.data.length;

  t.equal(raw(card, '00 C0 00 00 00').sw, 0x6985, 'nothing pending');

  const first = raw(card, '80 F4 00 00 10');
  t.same([first.data.length, first.sw], [16, 0x6100 | (n - 16)]);
  const second = raw(card, '00 C0 00 00 08');
  t.same([second.data.length, second.sw], [8, 0x6100 | (n - 24)], 'a shorter Le: part of it, 61xx for the rest');
  const wrongLe = raw(card, Buffer.of(0x00, 0xc0, 0, 0, n - 24 + 1));
  t.same([wrongLe.data.length, wrongLe.sw], [0, 0x6c00 | (n - 24)], 'too large an Le: 6Cxx with the exact length');
  t.equal(raw(card, '00 C0 01 00 00').sw, 0x6a86, 'P1 not 00');
  const last = raw(card, Buffer.of(0x00, 0xc0, 0, 0, n - 24));
  t.equal(last.sw, 0x9000, 'the data stayed through 6Cxx and 6A86');
  t.same(Buffer.concat([first.data, second.data, last.data]), Buffer.from(whole.data));
  t.equal(raw(card, '00 C0 00 00 00').sw, 0x6985, 'all read');

  // Any other command discards what was not read.
  for (const [what, next] of [
    ['an unknown instruction', '80 00 00 00'],
    ['a SELECT', selectAid(AID, 0x0c)],
    ['a malformed ENVELOPE', '80 C2 00 00 02 01 00'],
    ['GET STATUS itself, read whole', STATUS],
  ] as const) {
    t.equal(raw(card, '80 F4 00 00 04').sw >> 8, 0x61);
    raw(card, next);
    t.equal(raw(card, '00 C0 00 00 00').sw, 0x6985, `discarded by ${what}`);
  }
});

t.test('GET RESPONSE with 256 bytes or more left: 6100, then the rest', async (t) => {
  // A vendor CA with a long name makes the card certificate, and so the response, longer than 512 bytes.
  const vendorCa = createVendorCa({ random: randomBytes, now: NOW, name: 'Example Card Vendor GmbH Secure Element Attestation CA 2026' });
  const { card } = operationalCard({ vendorCa });
  const expected = otaResponse(card, [readPublicKeyApdu(1, true)]).data;
  t.ok(expected.length > 512, `a key with attestation is ${expected.length} bytes`);
  const chunks: Uint8Array[] = [];
  let r = raw(card, '80 B4 01 01 00');
  const sws: number[] = [r.sw];
  chunks.push(r.data);
  for (let round = 0; round < 8 && r.sw >> 8 === 0x61; round++) {
    r = raw(card, Buffer.of(0x00, 0xc0, 0, 0, r.sw & 0xff));
    sws.push(r.sw);
    chunks.push(r.data);
  }
  const rest = expected.length - 512;
  t.same(sws, [0x6100, 0x6100 | rest, 0x9000], 'xx counts what is left, 00 meaning 256 or more');
  t.same(chunks.map((c) => c.length), [256, 256, rest]);
  t.same(Buffer.concat(chunks), Buffer.from(expected));
});

t.test('ENVELOPE SMS-PP download with the PoR in the response data: 61xx (class 80), 9Fxx (class A0)', async (t) => {
  for (const [cla, indicator] of [[0x80, 0x61], [0xa0, 0x9f]] as const) {
    const card = newCard();
    const ud = securedUserData(card, REPORT_SPI);
    const r = raw(card, envelope(ud, { cla }));
    t.equal(r.sw >> 8, indicator, `class ${cla.toString(16)}: ${indicator.toString(16)}xx`);
    t.equal(r.data.length, 0);
    const por = raw(card, Buffer.of(cla === 0xa0 ? 0xa0 : 0x00, 0xc0, 0, 0, r.sw & 0xff));
    t.equal(por.sw, 0x9000);
    const decoded = decodeResponsePacket(por.data, { spi: REPORT_SPI, kicKey: keysOf(1).kicKey, kidKey: keysOf(1).kidKey });
    t.same([decoded.status, decoded.ccValid, decoded.cntr], [0, true, 1]);
    const response = decodeCompactResponse(decoded.data);
    t.equal(parseStatus(response.data).lifecycle, 'personalised');
    // The terminal of sim-applet/host does the same, class A0 included.
    const again = smsPpDownload((c) => card.transmit(c), encodeSmsDeliver({ oa: OPERATOR, pid: 0x7f, dcs: 0xf6, scts: sctsFromDate(NOW), ud: securedUserData(card, REPORT_SPI), udhi: true }), { cla });
    t.same([again.sw, again.submits.length], [0x9000, 0]);
    t.equal(decodeResponsePacket(again.responseData!, { spi: REPORT_SPI, kicKey: keysOf(1).kicKey, kidKey: keysOf(1).kidKey }).ccValid, true);
  }
});

t.test('ENVELOPE with the PoR by SMS-SUBMIT: 91xx, FETCH, SEND SHORT MESSAGE, TERMINAL RESPONSE', async (t) => {
  const card = newCard();
  t.equal(raw(card, '80 12 00 00 00').sw, 0x6985, 'FETCH with nothing pending');
  t.equal(raw(card, Buffer.concat([Buffer.from('8014000000', 'hex')])).sw, 0x6985, 'TERMINAL RESPONSE with nothing fetched');

  const r = raw(card, envelope(securedUserData(card)));
  t.equal(r.sw >> 8, 0x91, 'proactive command pending');
  const length = r.sw & 0xff;
  const wrongLe = raw(card, Buffer.of(0x80, 0x12, 0, 0, length - 1));
  t.equal(wrongLe.sw, 0x6c00 | length, 'FETCH with a wrong Le: 6Cxx');
  t.equal(raw(card, '00 12 00 00 00').sw, 0x6e00, 'FETCH in class 00');
  t.equal(raw(card, Buffer.of(0x80, 0x12, 1, 0, length)).sw, 0x6a86, 'FETCH P1 not 00');
  const fetched = raw(card, Buffer.of(0x80, 0x12, 0, 0, length));
  t.same([fetched.sw, fetched.data.length], [0x9000, length]);
  const command = decodeProactiveCommand(fetched.data);
  t.same([command.commandType, command.qualifier], [0x13, 0x00], 'SEND SHORT MESSAGE');
  const submit = decodeSmsSubmit(command.tpdu!);
  t.same([submit.pid, submit.dcs, submit.udhi, submit.da.digits], [0x7f, 0xf6, true, OPERATOR.digits], 'back to the sender, as SIM data download');
  const por = decodeResponsePacket(submit.ud, { spi: ADMIN_SPI, kicKey: keysOf(1).kicKey, kidKey: keysOf(1).kidKey });
  t.same([por.status, por.ccValid], [0, true]);

  t.equal(raw(card, Buffer.of(0x80, 0x12, 0, 0, length)).sw, 0x6985, 'no second FETCH before the TERMINAL RESPONSE');
  const tr = (commandNumber: number, commandType = 0x13) => encodeTerminalResponse({ commandNumber, commandType, result: 0 });
  const terminalResponse = (data: Uint8Array, cla = 0x80, p1 = 0) => raw(card, encodeCommandApdu({ cla, ins: 0x14, p1, p2: 0, data }));
  t.equal(terminalResponse(tr(command.commandNumber + 1)).sw, 0x6a80, 'another command number');
  t.equal(terminalResponse(tr(command.commandNumber, 0x21)).sw, 0x6a80, 'another command type');
  t.equal(terminalResponse(encodeComprehensionTlv(0x03, Uint8Array.of(0), true)).sw, 0x6a80, 'no command details');
  t.equal(terminalResponse(Uint8Array.of(0x81, 0x05, 0x01)).sw, 0x6a80, 'not TLV');
  t.equal(terminalResponse(tr(command.commandNumber), 0x00).sw, 0x6e00, 'class 00');
  t.equal(terminalResponse(tr(command.commandNumber), 0x80, 1).sw, 0x6a86, 'P1 not 00');
  t.equal(terminalResponse(tr(command.commandNumber)).sw, 0x9000, 'the right one: done');
  t.equal(terminalResponse(tr(command.commandNumber)).sw, 0x6985, 'and only once');
});

t.test('a PoR over several SMS: one SEND SHORT MESSAGE per part, in order', async (t) => {
  const { card } = operationalCard();
  const expected = plain(card, readPublicKeyApdu(1, true)).data;
  const tpdus = commandSms(encodeCompactCommands([readPublicKeyApdu(1, true)]), { cntr: nextCntr(card) });
  t.equal(tpdus.length, 1);
  let r = raw(card, encodeSmsPpDownloadApdu({ tpdu: tpdus[0]! }));
  const parts: Uint8Array[] = [];
  const numbers: number[] = [];
  for (let round = 0; round < 16 && r.sw >> 8 === 0x91; round++) {
    const fetched = raw(card, Buffer.of(0x80, 0x12, 0, 0, r.sw & 0xff));
    const command = decodeProactiveCommand(fetched.data);
    numbers.push(command.commandNumber);
    parts.push(decodeSmsSubmit(command.tpdu!).ud);
    r = raw(card, encodeCommandApdu({ cla: 0x80, ins: 0x14, p1: 0, p2: 0, data: encodeTerminalResponse({ commandNumber: command.commandNumber, commandType: 0x13, result: 0 }) }));
  }
  t.equal(r.sw, 0x9000, 'after the last TERMINAL RESPONSE');
  t.ok(parts.length >= 4, `${parts.length} parts`);
  t.equal(new Set(numbers).size, numbers.length, 'a new command number for each');
  const infos = parts.map((p) => findConcat(splitUdh(p).ies)!);
  t.same(infos.map((i) => i.seq), parts.map((_, i) => i + 1), 'in order');
  t.ok(infos.every((i) => i.total === parts.length && i.ref === infos[0]!.ref), 'one reference, the right total');
  t.ok(parts.slice(0, -1).every((p) => p.length === 140), 'every part but the last is 140 octets');
  const por = decodeResponsePacket(Buffer.concat([Buffer.from('027100', 'hex'), reassemble(parts).data]), { spi: ADMIN_SPI, kicKey: keysOf(1).kicKey, kidKey: keysOf(1).kidKey });
  t.equal(por.ccValid, true);
  t.same(Buffer.from(decodeCompactResponse(por.data).data), Buffer.from(expected));
  // A reset drops proactive commands not yet fetched.
  const pending = raw(card, encodeSmsPpDownloadApdu({ tpdu: commandSms(encodeCompactCommands([getStatusApdu()]), { cntr: nextCntr(card) })[0]! }));
  t.equal(pending.sw >> 8, 0x91);
  card.reset();
  t.equal(raw(card, '80 12 00 00 00').sw, 0x6985);
});

t.test('a concatenated command packet: nothing happens until the last part is in', async (t) => {
  const card = newCard();
  const anchors = [0, 1].map((slot) => ({ slot, curve: 'p256' as const, publicKey: p256.getPublicKey(p256.utils.randomSecretKey(), false) }));
  const tpdus = commandSms(encodeCompactCommands([storeDataApdu({ chainId: 10n, registry: new Uint8Array(20).fill(1), trustAnchors: anchors })]), { cntr: 1, ref: 0x42 });
  t.ok(tpdus.length >= 2, `${tpdus.length} SMS`);
  const before = stateOf(card);
  // The last part first, then a duplicate of it, then the others: order of arrival does not matter.
  const order = [tpdus.length - 1, tpdus.length - 1, ...tpdus.keys()].slice(0, tpdus.length + 1);
  const answers = order.map((i) => raw(card, encodeSmsPpDownloadApdu({ tpdu: tpdus[i]! })));
  t.ok(answers.slice(0, -1).every((a) => a.sw === 0x9000 && a.data.length === 0), 'the parts before the last are acknowledged');
  t.equal(answers.at(-1)!.sw >> 8, 0x91, 'the packet ran once complete');
  t.not(stateOf(card).identity.chainId, before.identity.chainId);
  t.equal(stateOf(card).identity.chainId, '0a');
  t.equal(card.session.concatParts.length, 0, 'no part held any more');
});

t.test('SMS that is not for the OTA layer is acknowledged (9000) and ignored', async (t) => {
  const card = newCard();
  const before = stateOf(card);
  const ud = securedUserData(card);
  const cases: [string, Uint8Array][] = [
    ['TP-PID 00 (a normal SMS)', envelope(ud, { pid: 0x00 })],
    ['TP-PID 7C (ANSI-136 R-DATA)', envelope(ud, { pid: 0x7c })],
    ['no user data header', envelope(Buffer.from('hello'), { udhi: false })],
    ['a PoR (UDH 027100), not a command', envelope(Buffer.concat([Buffer.from('027100', 'hex'), ud.subarray(3)]))],
    ['no packet identifier in the UDH', envelope(Buffer.concat([Buffer.from('00', 'hex'), ud.subarray(3)]))],
  ];
  for (const [what, apdu] of cases) t.same(raw(card, apdu), { data: new Uint8Array(0), sw: 0x9000 }, what);
  t.strictSame(stateOf(card), before, 'not even the counter moved');
  t.same(card.session.proactive, []);
  t.equal(raw(card, envelope(ud)).sw >> 8, 0x91, 'the same packet as SIM data download runs');
});

t.test('malformed ENVELOPEs: 6A80; wrong P1/P2 6A86; wrong class 6E00; nothing changes', async (t) => {
  const card = newCard();
  const before = stateOf(card);
  const ud = securedUserData(card);
  const good = envelope(ud);
  const body = good.subarray(5);
  const withBody = (b: Uint8Array) => Buffer.concat([Buffer.of(0x80, 0xc2, 0, 0, b.length), b]);
  const d1 = (...elements: Uint8Array[]) => withBody(encodeBerTlv(0xd1, Buffer.concat(elements)));
  const identities = encodeComprehensionTlv(0x02, Uint8Array.of(0x83, 0x81), true);
  const tpdu = encodeSmsDeliver({ oa: OPERATOR, pid: 0x7f, dcs: 0xf6, scts: sctsFromDate(NOW), ud, udhi: true });
  const submitTpdu = encodeSmsSubmit({ mr: 1, da: OPERATOR, pid: 0x7f, dcs: 0xf6, ud, udhi: true });
  const cases: [string, Uint8Array][] = [
    ['tag D0 instead of D1', withBody(Buffer.concat([Buffer.of(0xd0), body.subarray(1)]))],
    ['D1 without the TPDU', withBody(Buffer.from('d1048202 8381'.replace(/ /g, ''), 'hex'))],
    ['D1 length past the end', withBody(Buffer.concat([Buffer.of(0xd1, body[1]! + 5), body.subarray(2)]))],
    ['bytes after D1', withBody(Buffer.concat([body, Buffer.of(0)]))],
    ['a TPDU cut short', d1(identities, encodeComprehensionTlv(0x0b, tpdu.subarray(0, 12), true))],
    ['an SMS-SUBMIT in place of the SMS-DELIVER', d1(identities, encodeComprehensionTlv(0x0b, submitTpdu, true))],
    ['an unknown element marked comprehension required', d1(identities, encodeComprehensionTlv(0x7d, Uint8Array.of(0), true), encodeComprehensionTlv(0x0b, tpdu, true))],
    ['device identities of one byte', d1(encodeComprehensionTlv(0x02, Uint8Array.of(0x83), true), encodeComprehensionTlv(0x0b, tpdu, true))],
    ['the TPDU twice', d1(identities, encodeComprehensionTlv(0x0b, tpdu, true), encodeComprehensionTlv(0x0b, tpdu, true))],
    ['no data at all', Buffer.from('80c20000', 'hex')],
  ];
  for (const [what, apdu] of cases) t.equal(raw(card, apdu).sw, 0x6a80, what);
  t.equal(raw(card, Buffer.concat([Buffer.of(0x80, 0xc2, 0x01, 0x00), good.subarray(4)])).sw, 0x6a86, 'P1 01');
  t.equal(raw(card, Buffer.concat([Buffer.of(0x00, 0xc2, 0x00, 0x00), good.subarray(4)])).sw, 0x6e00, 'class 00');
  t.strictSame(stateOf(card), before);
  t.same(card.session.proactive, []);
  t.equal(raw(card, good).sw >> 8, 0x91, 'the well-formed one still runs');
});

t.test('logical channels 6881, INS 6X/9X 6D00, malformed APDUs 6700', async (t) => {
  const { card } = operationalCard();
  const before = stateOf(card);
  for (const cla of [0x01, 0x02, 0x03, 0x81, 0x83, 0x40, 0x41, 0x4f, 0x60]) {
    t.equal(raw(card, Buffer.of(cla, 0xf4, 0, 0, 0)).sw, 0x6881, `CLA ${cla.toString(16)}`);
  }
  t.equal(raw(card, '01 70 80 00 01').sw, 0x6881, 'MANAGE CHANNEL on channel 1');
  for (const apdu of ['00 60 00 00', '80 6A 00 00', '80 6F 00 00 00', '00 90 00 00', '80 9F 00 00 00', 'A0 61 00 00 00']) {
    t.equal(raw(card, apdu).sw, 0x6d00, apdu);
  }
  for (const apdu of ['', '80', '80 F4', '80 F4 00', '80 F4 00 00 05 01 02', '80 F4 00 00 02 01', '80 F4 00 00 01 01 02 03', '80 F4 00 00 00 01', '80 F4 00 00 00 00 00 01', '80 F4 00 00 00 00 02 01']) {
    t.equal(raw(card, apdu).sw, 0x6700, `"${apdu}"`);
  }
  t.strictSame(stateOf(card), before);
  t.equal(raw(card, STATUS).sw, 0x9000, 'and the card goes on answering');
});

t.test('the session survives a snapshot, as a trace replayed in several runs needs', async (t) => {
  const { card } = operationalCard();
  const first = raw(card, '80 F4 00 00 04');
  t.equal(first.sw >> 8, 0x61);
  const restored = new Uicc(card.snapshot(), { random: () => new Uint8Array(48) });
  const rest = raw(restored, Buffer.of(0x00, 0xc0, 0, 0, first.sw & 0xff));
  t.equal(rest.sw, 0x9000);
  t.same(Buffer.concat([first.data, rest.data]), Buffer.from(raw(card, STATUS).data));
});

t.test('a card stored as JSON comes back the same, session included, and owns its state', async (t) => {
  const { card } = operationalCard();
  const first = raw(card, '80 F4 00 00 04');
  const json = card.snapshotJson();
  t.same(JSON.parse(json), JSON.parse(JSON.stringify(card.snapshot())), 'the JSON of the snapshot');
  const restored = Uicc.fromJson(json, { random: () => new Uint8Array(48) });
  t.same(restored.snapshot(), card.snapshot());
  const rest = raw(restored, Buffer.of(0x00, 0xc0, 0, 0, first.sw & 0xff));
  t.equal(rest.sw, 0x9000, 'the pending response survived');
  t.same(stateOf(card), stateOf(restored));
  t.not(restored.snapshotJson(), json, 'the restored card moved on (its response fetched), the original did not');
});

t.test('TS 102 221 STATUS (80 F2) is the card OS poll, not the applet', async (t) => {
  const card = newCard();
  t.equal(raw(card, '80 F2 00 0C 00').sw, 0x9000, 'P2 0C: no data');
  const aid = raw(card, '80 F2 00 01 00');
  t.equal(aid.sw, 0x9000);
  t.equal(Buffer.from(aid.data).toString('hex'), '8409f0534d4348414e0101', 'P2 01: the DF name of the selected application');
  t.equal(raw(card, '80 F2 00 00 00').data[0], 0x6f, 'P2 00: the FCI');
  t.equal(raw(card, '80 F2 00 05 00').sw, 0x6a86);
  t.equal(raw(card, '80 F2 03 0C 00').sw, 0x6a86);
});

t.test('while a proactive command waits, any normal ending is 91xx', async (t) => {
  const card = newCard();
  const { commandSms } = await import('../helpers/card.js');
  const { getStatusApdu, encodeCompactCommands } = await import('../../sim-applet/index.js');
  const [tpdu] = commandSms(encodeCompactCommands([getStatusApdu()]), { cntr: 1 });
  const { encodeSmsPpDownloadApdu } = await import('../../sim-applet/index.js');
  const r = raw(card, encodeSmsPpDownloadApdu({ tpdu: tpdu! }));
  t.equal(r.sw >> 8, 0x91, 'the ENVELOPE announces the PoR');
  const status = raw(card, '80 F4 00 00 00');
  t.equal(status.sw, r.sw, 'a GET STATUS in between ends 91xx too, its data intact');
  t.ok(status.data.length > 0);
});
