/**
 * The whole path through the card with the protocol layer only: the backend builds a
 * secured command packet, it travels as SMS-DELIVER inside ENVELOPEs, the card answers by
 * SMS-SUBMIT, the backend decodes the PoR and checks the public key and its attestation
 * chain (card certificate → vendor CA) with node:crypto.
 */
import t from 'tap';
import { X509Certificate } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { p256 } from '@noble/curves/nist.js';
import { generateKeyPairApdu, parseKeyTemplate, readPublicKeyApdu, verifyAttestation, type Curve } from '../../sim-applet/index.js';
import { ICCID, newCard, NOW, sendOta, vendorCa } from '../helpers/card.js';

for (const [slot, curve] of [[1, 'secp256k1'], [2, 'p256']] as [number, Curve][]) {
  t.test(`GENERATE KEY PAIR (${curve}) over OTA, PoR, attestation chain`, async (t) => {
    const card = newCard();
    const r = sendOta(card, [generateKeyPairApdu(curve, slot, { label: 'device' })], { cntr: 1 });
    t.equal(r.por?.status, 0);
    t.equal(r.por?.ccValid, true, 'PoR authenticated with the keyset');
    t.equal(r.response?.executed, 1);
    t.equal(r.response?.sw, 0x9000);
    const key = parseKeyTemplate(r.response!.data);
    t.equal(key.curve, curve);
    t.equal(key.label, 'device');
    t.doesNotThrow(() => (curve === 'secp256k1' ? secp256k1 : p256).Point.fromBytes(key.publicKey).assertValidity(), 'a point on the curve');
    const cert = new X509Certificate(key.certificate!);
    const ca = new X509Certificate(vendorCa().certificate);
    t.ok(cert.verify(ca.publicKey), 'card certificate signed by the vendor CA');
    t.equal(cert.serialNumber.toLowerCase(), card.memory.state.attestation.serial);
    const check = { iccid: ICCID, curve, slot, publicKey: key.publicKey, signature: key.attestationSignature!, certificate: key.certificate!, caCertificate: vendorCa().certificate, at: NOW };
    t.same(verifyAttestation(check), { ok: true, serial: card.memory.state.attestation.serial });
    t.equal(verifyAttestation({ ...check, slot: slot + 1 }).ok, false, 'bound to the slot');
    // The private key never leaves: not in any response byte.
    const privateKey = card.memory.state.keySlots[slot - 1]!.privateKey;
    t.notOk(Buffer.from(r.porUserData!).toString('hex').includes(privateKey));
    const read = sendOta(card, [readPublicKeyApdu(slot, true)], { cntr: 2 });
    t.same(parseKeyTemplate(read.response!.data), key, 'READ PUBLIC KEY returns the same key and attestation');
  });
}
