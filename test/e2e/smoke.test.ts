import t from 'tap';
import { newCard, sendOta, ICCID, vendorCa, NOW } from '../helpers/card.js';
import { generateKeyPairApdu, parseKeyTemplate, verifyAttestation, swHex } from '../../sim-applet/index.js';
t.test('smoke', async (t) => {
  const card = newCard();
  const r = sendOta(card, [generateKeyPairApdu('secp256k1', 1)], { cntr: 1 });
  t.ok(r.por, 'por'); t.equal(r.por!.ccValid, true); t.equal(r.response!.sw.toString(16), '9000');
  const k = parseKeyTemplate(r.response!.data);
  const v = verifyAttestation({ iccid: ICCID, curve: k.curve, slot: 1, publicKey: k.publicKey, signature: k.attestationSignature!, certificate: k.certificate!, caCertificate: vendorCa().certificate, at: NOW });
  t.same(v.ok, true);
  console.log(swHex(r.sw), r.porUserData!.length);
});
