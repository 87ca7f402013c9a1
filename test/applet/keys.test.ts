/**
 * GENERATE KEY PAIR and READ PUBLIC KEY: keys born on the card in each slot and curve,
 * attested by the card's personalisation key (checked with node:crypto against the vendor
 * CA), replaced only when asked, readable by anyone, and every refusal with its status word.
 */
import t, { type Test } from 'tap';
import { X509Certificate } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { p256 } from '@noble/curves/nist.js';
import {
  CardTornError,
  generateKeyPairApdu,
  getDataApdu,
  GET_DATA_CERTIFICATE,
  lockApdu,
  parseKeyTemplate,
  readPublicKeyApdu,
  terminateApdu,
  Uicc,
  verifyAttestation,
  type Curve,
} from '../../sim-applet/index.js';
import { ICCID, NOW, newCard, newCardState, vendorCa } from '../helpers/card.js';
import { operationalCard, ota, otaResponse, plain, raw, stateOf } from '../helpers/applet.js';

const curveLib = (curve: Curve) => (curve === 'secp256k1' ? secp256k1 : p256);

function attested(t: Test, card: Uicc, data: Uint8Array, curve: Curve, slot: number): Uint8Array {
  const k = parseKeyTemplate(data);
  t.equal(k.curve, curve, 'curve in the key info');
  t.doesNotThrow(() => curveLib(curve).Point.fromBytes(k.publicKey).assertValidity(), 'a point on the curve');
  t.equal(k.publicKey.length, 65, 'SEC1 uncompressed');
  t.ok(k.attestationSignature && k.certificate, 'attestation and certificate present');
  const v = verifyAttestation({
    iccid: ICCID,
    curve,
    slot,
    publicKey: k.publicKey,
    signature: k.attestationSignature!,
    certificate: k.certificate!,
    caCertificate: vendorCa().certificate,
    at: NOW,
  });
  t.same(v, { ok: true, serial: stateOf(card).attestation.serial }, `slot ${slot} ${curve} attested`);
  // The attestation binds the slot: the same signature does not pass for another slot.
  t.equal(verifyAttestation({ iccid: ICCID, curve, slot: slot === 1 ? 2 : 1, publicKey: k.publicKey, signature: k.attestationSignature!, certificate: k.certificate!, caCertificate: vendorCa().certificate, at: NOW }).ok, false);
  return k.publicKey;
}

for (const curve of ['secp256k1', 'p256'] as const) {
  t.test(`GENERATE KEY PAIR ${curve} in every slot, attested`, async (t) => {
    const card = newCard();
    const seen = new Set<string>();
    for (let slot = 1; slot <= 4; slot++) {
      const r = otaResponse(card, [generateKeyPairApdu(curve, slot, { label: `key ${slot}` })]);
      t.same([r.executed, r.sw], [1, 0x9000]);
      const publicKey = attested(t, card, r.data, curve, slot);
      t.equal(parseKeyTemplate(r.data).label, `key ${slot}`);
      seen.add(Buffer.from(publicKey).toString('hex'));
      // The key in the slot is the private key of the point returned, and the private key is in no response.
      const record = stateOf(card).keySlots[slot - 1]!;
      t.same(Buffer.from(curveLib(curve).getPublicKey(Buffer.from(record.privateKey, 'hex'), false)), Buffer.from(publicKey));
      t.notOk(Buffer.from(r.data).includes(Buffer.from(record.privateKey, 'hex')), 'the private key never leaves the card');
    }
    t.equal(seen.size, 4, 'four different keys');
    t.equal(stateOf(card).lifecycle, 'operational');
  });
}

t.test('READ PUBLIC KEY: the key alone (P1 00) or with the same attestation as GENERATE (P1 01)', async (t) => {
  const card = newCard();
  const generated = otaResponse(card, [generateKeyPairApdu('p256', 2, { label: 'door' })]).data;
  const g = parseKeyTemplate(generated);

  const bare = plain(card, readPublicKeyApdu(2));
  t.equal(bare.sw, 0x9000);
  const b = parseKeyTemplate(bare.data);
  t.same(Buffer.from(b.publicKey), Buffer.from(g.publicKey));
  t.same([b.curve, b.label, b.attestationSignature, b.certificate], ['p256', 'door', undefined, undefined]);

  const full = plain(card, readPublicKeyApdu(2, true));
  t.equal(full.sw, 0x9000);
  t.same(Buffer.from(full.data), Buffer.from(generated), 'byte for byte what GENERATE returned');
  attested(t, card, full.data, 'p256', 2);

  const viaOta = otaResponse(card, [readPublicKeyApdu(2, true)]);
  t.same(Buffer.from(viaOta.data), Buffer.from(generated), 'the same through OTA');

  // The certificate is the card's, issued to its ICCID, and GET DATA 7F21 returns it too.
  const cert = new X509Certificate(g.certificate!);
  t.ok(cert.subject.split('\n').includes(`CN=${ICCID}`));
  const byGetData = plain(card, getDataApdu(GET_DATA_CERTIFICATE >> 8, GET_DATA_CERTIFICATE & 0xff));
  t.same(Buffer.from(byGetData.data), Buffer.from(g.certificate!));
});

t.test('replacing a key needs P2 b8; without it the slot is kept (6A89)', async (t) => {
  const card = newCard();
  const first = parseKeyTemplate(otaResponse(card, [generateKeyPairApdu('secp256k1', 1)]).data).publicKey;
  const before = stateOf(card);
  const refused = ota(card, [generateKeyPairApdu('p256', 1)]);
  t.equal(refused.response?.sw, 0x6a89);
  t.strictSame({ ...stateOf(card), keysets: before.keysets }, before, 'the key is untouched');

  const r = otaResponse(card, [generateKeyPairApdu('p256', 1, { replace: true })]);
  t.equal(r.sw, 0x9000);
  const second = attested(t, card, r.data, 'p256', 1);
  t.not(Buffer.from(second).toString('hex'), Buffer.from(first).toString('hex'), 'a new key');
  t.same(Buffer.from(parseKeyTemplate(plain(card, readPublicKeyApdu(1)).data).publicKey), Buffer.from(second));
  // Replacing with the same curve changes the key too.
  const third = parseKeyTemplate(otaResponse(card, [generateKeyPairApdu('p256', 1, { replace: true })]).data).publicKey;
  t.not(Buffer.from(third).toString('hex'), Buffer.from(second).toString('hex'));
  // The replace bit on an empty slot is fine.
  t.equal(otaResponse(card, [generateKeyPairApdu('secp256k1', 4, { replace: true })]).sw, 0x9000);
});

t.test('GENERATE refusals: P1/P2 6A86, label 6700/6A80, lifecycle 6985; nothing changes', async (t) => {
  const card = newCard();
  const before = stateOf(card);
  const cases: [string, ReturnType<typeof generateKeyPairApdu>, number][] = [
    ['P1 00 (no curve)', { ...generateKeyPairApdu('secp256k1', 1), p1: 0 }, 0x6a86],
    ['P1 03 (unknown curve)', { ...generateKeyPairApdu('secp256k1', 1), p1: 3 }, 0x6a86],
    ['slot 0', generateKeyPairApdu('secp256k1', 0), 0x6a86],
    ['slot 5', generateKeyPairApdu('secp256k1', 5), 0x6a86],
    ['slot 0 with replace', generateKeyPairApdu('secp256k1', 0, { replace: true }), 0x6a86],
    ['label of 33 bytes', generateKeyPairApdu('secp256k1', 1, { label: 'x'.repeat(33) }), 0x6700],
    ['label not UTF-8', { ...generateKeyPairApdu('secp256k1', 1), data: Uint8Array.of(0x41, 0xff, 0xfe) }, 0x6a80],
  ];
  for (const [name, apdu, sw] of cases) {
    const r = ota(card, [apdu]);
    t.equal(r.response?.sw, sw, name);
  }
  t.strictSame({ ...stateOf(card), keysets: before.keysets }, before);
  // 32 bytes of label is the maximum.
  const r = otaResponse(card, [generateKeyPairApdu('secp256k1', 1, { label: 'é'.repeat(16) })]);
  t.equal(r.sw, 0x9000);
  t.equal(parseKeyTemplate(r.data).label, 'é'.repeat(16));

  otaResponse(card, [lockApdu()]);
  const locked = stateOf(card);
  t.equal(ota(card, [generateKeyPairApdu('secp256k1', 2)]).response?.sw, 0x6985, 'locked');
  t.strictSame({ ...stateOf(card), keysets: locked.keysets }, locked);
  otaResponse(card, [terminateApdu()]);
  const terminated = stateOf(card);
  t.equal(ota(card, [generateKeyPairApdu('secp256k1', 2, { replace: true })]).response?.sw, 0x6985, 'terminated');
  t.strictSame({ ...stateOf(card), keysets: terminated.keysets }, terminated);
});

t.test('READ PUBLIC KEY refusals: empty slot 6A88, P1/P2 6A86', async (t) => {
  const { card } = operationalCard();
  const before = stateOf(card);
  t.equal(plain(card, readPublicKeyApdu(2)).sw, 0x6a88, 'empty slot');
  t.equal(plain(card, readPublicKeyApdu(4, true)).sw, 0x6a88, 'empty slot, with attestation');
  t.equal(plain(card, readPublicKeyApdu(0)).sw, 0x6a86, 'slot 0');
  t.equal(plain(card, readPublicKeyApdu(5)).sw, 0x6a86, 'slot 5');
  t.equal(plain(card, { ...readPublicKeyApdu(1), p2: 0x81 }).sw, 0x6a86, 'the replace bit means nothing here');
  t.equal(plain(card, { ...readPublicKeyApdu(1), p1: 2 }).sw, 0x6a86, 'P1 02');
  t.equal(raw(card, '80 B4 00 01 00').sw, 0x9000, 'slot 1 is there');
  t.strictSame(stateOf(card), before);
  // Reading is allowed while locked (only signatures are refused).
  otaResponse(card, [lockApdu()]);
  t.equal(plain(card, readPublicKeyApdu(1, true)).sw, 0x9000);
});

t.test('a tear while writing the key leaves the card as before the packet', async (t) => {
  const card = newCard();
  const before = stateOf(card);
  card.fault = (point) => {
    if (point === 'key-written') throw new CardTornError(point);
  };
  t.throws(() => ota(card, [generateKeyPairApdu('secp256k1', 1)], { cntr: 1 }), CardTornError);
  card.fault = undefined;
  // The OTA counter and the script commit together: nothing of the packet survived.
  t.strictSame(stateOf(card), before);
  t.equal(otaResponse(card, [generateKeyPairApdu('secp256k1', 1)], { cntr: 1 }).sw, 0x9000, 'the same packet is accepted again');
  t.not(stateOf(card).keySlots[0], null);
});

t.test('the key comes from the injected random source only; each attestation of it verifies', async (t) => {
  const seeded = () => {
    let x = 7;
    return (n: number) => Uint8Array.from({ length: n }, () => (x = (x * 1103515245 + 12345) >>> 0) >>> 24);
  };
  const state = newCardState();
  const a = new Uicc(state, { random: seeded() });
  const b = new Uicc(state, { random: seeded() });
  const ka = attested(t, a, otaResponse(a, [generateKeyPairApdu('secp256k1', 1)]).data, 'secp256k1', 1);
  const kb = attested(t, b, otaResponse(b, [generateKeyPairApdu('secp256k1', 1)]).data, 'secp256k1', 1);
  // The attestation signature's nonce is OpenSSL's (sim-applet/card/attestation.ts), as a
  // card's would be its own TRNG's: the key is the seeded one, the signatures differ.
  t.same(Buffer.from(ka), Buffer.from(kb), 'same random source, same key');
});
