/**
 * Personalisation from a row that brings the card's attestation certificate (the vendor file's
 * ATTESTATION_CERT): the card's key is the one derived from the vendor CA and the ICCID, the
 * card keeps that certificate, and a certificate that does not fit the card is refused.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import {
  checkInventoryRow,
  createVendorCa,
  deriveCardAttestationKey,
  generateKeyPairApdu,
  issueCardAttestation,
  issueDerivedCardCertificate,
  parseKeyTemplate,
  personaliseCard,
  toHex,
  Uicc,
  vendorCaToPem,
  verifyAttestation,
  type Curve,
} from '../../sim-applet/index.js';
import { ICCID, inventoryRow, NOW, vendorCa } from '../helpers/card.js';
import { otaResponse } from '../helpers/applet.js';

const ISSUED = new Date('2026-03-01T00:00:00Z');
const OTHER_ICCID = '8988211000000467293';
const b64 = (der: Uint8Array) => Buffer.from(der).toString('base64');

function personalise(attestationCertificate: unknown, ca = vendorCa()) {
  return personaliseCard({ ...inventoryRow(), attestationCertificate }, { vendorCa: ca, random: randomBytes, now: NOW });
}

for (const [form, encode] of [
  ['base64 string', (der: Uint8Array): unknown => b64(der)],
  ['Uint8Array', (der: Uint8Array): unknown => Uint8Array.from(der)],
  ['Buffer', (der: Uint8Array): unknown => Buffer.from(der)],
] as const) {
  t.test(`a matching certificate as a ${form}: the card keeps it and attests with the derived key`, async (t) => {
    const issued = issueDerivedCardCertificate({ iccid: ICCID, ca: vendorCa(), now: ISSUED });
    const state = personalise(encode(issued.certificate));
    t.equal(state.attestation.certificate, toHex(issued.certificate), 'the given certificate, byte for byte');
    t.equal(state.attestation.privateKey, toHex(deriveCardAttestationKey(vendorCa(), ICCID)), 'the derived key');
    t.equal(state.attestation.serial, issued.serial, "the certificate's serial");
    t.equal(state.attestation.caCertificate, toHex(vendorCa().certificate));
    const card = new Uicc(state, { random: randomBytes });
    for (const [slot, curve] of [[1, 'secp256k1'], [2, 'p256']] as [number, Curve][]) {
      // Without the certificate in the answer: the operator uses the one it holds (from the vendor file).
      const k = parseKeyTemplate(otaResponse(card, [generateKeyPairApdu(curve, slot, { withoutCertificate: true })]).data);
      t.equal(k.certificate, undefined);
      const v = verifyAttestation({ iccid: ICCID, curve, slot, publicKey: k.publicKey, signature: k.attestationSignature!, certificate: issued.certificate, caCertificate: vendorCa().certificate, at: NOW });
      t.same(v, { ok: true, serial: issued.serial }, `slot ${slot} attested against the stored certificate`);
    }
    // With it: the card sends the very certificate of the vendor file.
    const full = parseKeyTemplate(otaResponse(card, [generateKeyPairApdu('p256', 3)]).data);
    t.same(Buffer.from(full.certificate!), Buffer.from(issued.certificate));
  });
}

t.test('base64 wrapped over lines is taken; checkInventoryRow returns the DER', async (t) => {
  const issued = issueDerivedCardCertificate({ iccid: ICCID, ca: vendorCa(), now: ISSUED });
  const wrapped = b64(issued.certificate).replace(/(.{64})/g, '$1\n');
  const row = checkInventoryRow({ ...inventoryRow(), attestationCertificate: wrapped });
  t.same(Buffer.from(row.attestationCertificate!), Buffer.from(issued.certificate));
  t.equal(personalise(wrapped).attestation.certificate, toHex(issued.certificate));
  t.notOk('attestationCertificate' in checkInventoryRow(inventoryRow()), 'absent stays absent');
  t.notOk('attestationCertificate' in checkInventoryRow({ ...inventoryRow(), attestationCertificate: null }), 'null is absent');
});

t.test('without a certificate: a random key and a certificate issued at personalisation, as before', async (t) => {
  const state = personaliseCard(inventoryRow(), { vendorCa: vendorCa(), random: randomBytes, now: NOW });
  t.not(state.attestation.privateKey, toHex(deriveCardAttestationKey(vendorCa(), ICCID)), 'not the derived key');
  const cert = Buffer.from(state.attestation.certificate, 'hex');
  const card = new Uicc(state, { random: randomBytes });
  const k = parseKeyTemplate(otaResponse(card, [generateKeyPairApdu('p256', 1)]).data);
  t.same(Buffer.from(k.certificate!), cert);
  t.ok(verifyAttestation({ iccid: ICCID, curve: 'p256', slot: 1, publicKey: k.publicKey, signature: k.attestationSignature!, certificate: cert, caCertificate: vendorCa().certificate, at: NOW }).ok);
});

t.test('a certificate that does not fit the card is refused, naming the field', async (t) => {
  const field = { field: 'attestationCertificate' };
  const otherCa = createVendorCa({ random: randomBytes, now: NOW });
  const cases: [string, unknown, string, string?][] = [
    // Right ICCID and CA, but a key the card cannot have: the factory's key was random.
    ['for another key', b64(issueCardAttestation({ iccid: ICCID, ca: vendorCa(), random: randomBytes, now: ISSUED }).certificate), 'INVALID_ARGUMENT', 'KEY_MISMATCH'],
    ["another card's certificate", b64(issueDerivedCardCertificate({ iccid: OTHER_ICCID, ca: vendorCa(), now: ISSUED }).certificate), 'INVALID_ARGUMENT', 'KEY_MISMATCH'],
    // The derived key of this ICCID, but the certificate names another card.
    ['for another ICCID', b64(issueCardAttestation({ iccid: OTHER_ICCID, ca: vendorCa(), now: ISSUED, privateKey: deriveCardAttestationKey(vendorCa(), ICCID), serial: Uint8Array.of(7) }).certificate), 'INVALID_ARGUMENT', 'SUBJECT_MISMATCH'],
    // Another CA's derivation: another key.
    ["another CA's", b64(issueDerivedCardCertificate({ iccid: ICCID, ca: otherCa, now: ISSUED }).certificate), 'INVALID_ARGUMENT', 'KEY_MISMATCH'],
    // This card's key and ICCID, signed by another CA.
    ['issued by another CA', b64(issueCardAttestation({ iccid: ICCID, ca: otherCa, now: ISSUED, privateKey: deriveCardAttestationKey(vendorCa(), ICCID), serial: Uint8Array.of(7) }).certificate), 'INVALID_ARGUMENT', 'NOT_ISSUED_BY_CA'],
    ['not base64', 'not base64!', 'INVALID_ARGUMENT'],
    ['empty', '', 'INVALID_ARGUMENT'],
    ['a number', 42, 'INVALID_ARGUMENT'],
    ['not a certificate', b64(Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x01)), 'MALFORMED'],
  ];
  for (const [name, value, code, reason] of cases) {
    t.throws(() => personalise(value), { code, details: reason ? { ...field, reason } : field }, name);
  }
  // The same certificate is fine for the CA that derived it.
  const theirs = issueDerivedCardCertificate({ iccid: ICCID, ca: otherCa, now: ISSUED });
  t.equal(personalise(b64(theirs.certificate), otherCa).attestation.serial, theirs.serial);
});

t.test('simchain card new takes attestationCertificate in base64 with the vendor CA', async (t) => {
  const BIN = fileURLToPath(new URL('../../bin/simchain.js', import.meta.url));
  const run = (row: unknown) => spawnSync(process.execPath, [BIN, 'card', 'new'], { input: JSON.stringify(row), encoding: 'utf8', timeout: 60_000 });
  const issued = issueDerivedCardCertificate({ iccid: ICCID, ca: vendorCa(), now: ISSUED });
  const ok = run({ ...inventoryRow(), vendorCa: vendorCaToPem(vendorCa()), attestationCertificate: b64(issued.certificate) });
  t.equal(ok.status, 0, ok.stderr);
  const state = JSON.parse(ok.stdout);
  t.equal(state.attestation.certificate, toHex(issued.certificate));
  t.equal(state.attestation.serial, issued.serial);
  const bad = run({ ...inventoryRow(), vendorCa: vendorCaToPem(vendorCa()), attestationCertificate: b64(issueDerivedCardCertificate({ iccid: OTHER_ICCID, ca: vendorCa(), now: ISSUED }).certificate) });
  t.equal(bad.status, 1);
  t.match(bad.stderr, /attestationCertificate/);
});
