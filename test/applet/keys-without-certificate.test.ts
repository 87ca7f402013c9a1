/**
 * GENERATE KEY PAIR with P1 b8 (P1_WITHOUT_CERTIFICATE): the key template without the card
 * certificate, for an operator that holds it from the vendor file. Same key handling, same
 * attestation signature; READ PUBLIC KEY is unchanged; other unknown P1 bits are refused.
 */
import t from 'tap';
import {
  CURVE_P1,
  decodeBerTlvs,
  generateKeyPairApdu,
  INS,
  P1_WITHOUT_CERTIFICATE,
  parseKeyTemplate,
  readPublicKeyApdu,
  TAG,
  verifyAttestation,
  type Curve,
} from '../../sim-applet/index.js';
import { ICCID, newCard, NOW, vendorCa } from '../helpers/card.js';
import { ota, otaResponse, plain, stateOf } from '../helpers/applet.js';

t.test('generateKeyPairApdu sets P1 b8 when asked, and only then', async (t) => {
  t.equal(P1_WITHOUT_CERTIFICATE, 0x80);
  for (const curve of ['secp256k1', 'p256'] as Curve[]) {
    const a = generateKeyPairApdu(curve, 3, { withoutCertificate: true, replace: true, label: 'x' });
    t.same([a.ins, a.p1, a.p2, Buffer.from(a.data).toString()], [INS.GENERATE_KEY_PAIR, CURVE_P1[curve] | 0x80, 0x83, 'x']);
    t.equal(generateKeyPairApdu(curve, 3).p1, CURVE_P1[curve]);
    t.equal(generateKeyPairApdu(curve, 3, { withoutCertificate: false }).p1, CURVE_P1[curve]);
  }
});

for (const curve of ['secp256k1', 'p256'] as Curve[]) {
  t.test(`${curve}: without the certificate the template is public key, signature, key info, 349-ish bytes shorter`, async (t) => {
    const card = newCard();
    const certificate = Buffer.from(stateOf(card).attestation.certificate, 'hex');
    const short = otaResponse(card, [generateKeyPairApdu(curve, 1, { label: 'chain', withoutCertificate: true })]);
    t.equal(short.sw, 0x9000);
    t.same(decodeBerTlvs(short.data).map((x) => x.tag), [TAG.PUBLIC_KEY, TAG.ATTESTATION_SIGNATURE, TAG.KEY_INFO], 'no CARD_CERTIFICATE TLV');
    const k = parseKeyTemplate(short.data);
    t.same([k.curve, k.label, k.certificate], [curve, 'chain', undefined]);
    t.same(
      verifyAttestation({ iccid: ICCID, curve, slot: 1, publicKey: k.publicKey, signature: k.attestationSignature!, certificate, caCertificate: vendorCa().certificate, at: NOW }),
      { ok: true, serial: stateOf(card).attestation.serial },
      'the signature verifies against the certificate the card holds',
    );
    t.equal(stateOf(card).lifecycle, 'operational');

    const full = otaResponse(card, [generateKeyPairApdu(curve, 2, { label: 'chain' })]);
    const certificateTlv = 1 + (certificate.length < 0x80 ? 1 : certificate.length < 0x100 ? 2 : 3) + certificate.length;
    // ECDSA DER signatures vary by a byte or two: compare without them.
    const withoutSignature = (data: Uint8Array) => data.length - decodeBerTlvs(data).find((x) => x.tag === TAG.ATTESTATION_SIGNATURE)!.value.length;
    t.equal(withoutSignature(full.data) - withoutSignature(short.data), certificateTlv, `the certificate TLV (${certificateTlv} bytes) is all that is left out`);
    t.ok(certificateTlv > 300 && certificateTlv < 400, `about 349 bytes (${certificateTlv})`);

    // READ PUBLIC KEY is unchanged: P1 01 still brings the certificate, for the key generated without it too.
    const read = plain(card, readPublicKeyApdu(1, true));
    t.equal(read.sw, 0x9000);
    const r = parseKeyTemplate(read.data);
    t.same(Buffer.from(r.certificate!), certificate);
    t.same(Buffer.from(r.attestationSignature!), Buffer.from(k.attestationSignature!), 'the same signature as GENERATE returned');
  });
}

t.test('the OTA PoR is the certificate TLV shorter', async (t) => {
  const card = newCard();
  const short = ota(card, [generateKeyPairApdu('secp256k1', 1, { withoutCertificate: true })]);
  const full = ota(card, [generateKeyPairApdu('secp256k1', 2)]);
  const certificate = stateOf(card).attestation.certificate.length / 2;
  const certificateTlv = 1 + 3 + certificate;
  const diff = full.porUserData!.length - short.porUserData!.length;
  // The PoR is ciphered in 16-byte blocks and DER signatures vary by a byte or two.
  t.ok(Math.abs(diff - certificateTlv) <= 18, `PoR user data ${full.porUserData!.length} → ${short.porUserData!.length} bytes (${diff} fewer; certificate TLV ${certificateTlv})`);
  // Concatenated 8-bit SMS carry 134 bytes each after their 6-byte UDH: 4 parts become 2.
  t.ok(short.porUserData!.length <= 2 * 134, 'the short PoR fits 2 SMS');
});

t.test('P1 bits other than the curve and b8 are refused with 6A86, nothing changes', async (t) => {
  const card = newCard();
  const before = stateOf(card);
  const base = generateKeyPairApdu('p256', 1);
  for (const p1 of [0x80, 0x83, 0x40 | 0x02, 0x20 | 0x01, 0xc1, 0x82 | 0x04, 0xff]) {
    t.equal(ota(card, [{ ...base, p1 }]).response?.sw, 0x6a86, `P1 ${p1.toString(16)}`);
  }
  t.strictSame({ ...stateOf(card), keysets: before.keysets }, before);
  t.equal(otaResponse(card, [{ ...base, p1: 0x82 }]).sw, 0x9000, 'P1 82: p256 without certificate');
  t.equal(otaResponse(card, [{ ...generateKeyPairApdu('secp256k1', 2), p1: 0x81 }]).sw, 0x9000, 'P1 81: secp256k1 without certificate');
});
