/**
 * The simulated card factory's attestation keys: diversified from the vendor CA's key and the
 * ICCID (HKDF-SHA256, reduced mod n), and a certificate for them issued reproducibly, so the
 * factory that writes the vendor file and the card personalised from it later agree.
 */
import t from 'tap';
import { hkdfSync, randomBytes, X509Certificate } from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';
import {
  attestationMessage,
  createVendorCa,
  deriveCardAttestationKey,
  issueCardAttestation,
  issueDerivedCardCertificate,
  signAttestation,
} from '../../sim-applet/card/attestation.js';
import { verifyAttestation } from '../../sim-applet/host/attestation.js';
import { readCardCertificate } from '../../sim-applet/host/card-certificate.js';

const now = new Date('2026-01-01T00:00:00Z');
const iccid = '8988211000000467285';
const otherIccid = '8988211000000467293';
const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

const seeded = (seed: number) => {
  let x = seed;
  return (n: number) => Uint8Array.from({ length: n }, () => ((x = (x * 1103515245 + 12345) >>> 0) >>> 24));
};
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

t.test('the derived key: deterministic, per ICCID and per CA, a valid scalar, and the documented HKDF', async (t) => {
  const ca = createVendorCa({ random: randomBytes, now });
  const other = createVendorCa({ random: randomBytes, now });
  const k = deriveCardAttestationKey(ca, iccid);
  t.equal(k.length, 32);
  t.equal(hex(deriveCardAttestationKey(ca, iccid)), hex(k), 'the same CA and ICCID give the same key');
  t.not(hex(deriveCardAttestationKey(ca, otherIccid)), hex(k), 'another ICCID, another key');
  t.not(hex(deriveCardAttestationKey(other, iccid)), hex(k), 'another CA, another key');
  // A CA rebuilt from the same bytes (as loadVendorCa gives it) derives the same key.
  t.equal(hex(deriveCardAttestationKey({ privateKey: Uint8Array.from(ca.privateKey), certificate: ca.certificate }, iccid)), hex(k));

  // Independently: HKDF-SHA256(CA scalar, "simchain-card-attestation-v1", ICCID, 48), then
  // FIPS 186-5 A.2.1 (as noble's randomSecretKey): okm mod (n - 1) + 1.
  const okm = Buffer.from(hkdfSync('sha256', ca.privateKey, 'simchain-card-attestation-v1', iccid, 48));
  const expected = (BigInt('0x' + okm.toString('hex')) % (N - 1n)) + 1n;
  t.equal(BigInt('0x' + hex(k)), expected, 'HKDF output reduced as FIPS 186-5 A.2.1');

  for (let i = 0; i < 50; i++) {
    const id = `898821100000${String(i).padStart(7, '0')}`;
    const d = BigInt('0x' + hex(deriveCardAttestationKey(ca, id)));
    t.ok(d > 0n && d < N, `scalar ${i} in [1, n)`);
  }
  t.ok(p256.utils.isValidSecretKey(k), 'noble takes it');
  t.doesNotThrow(() => p256.getPublicKey(k, false));
});

t.test('derivation refuses what it cannot use', async (t) => {
  const ca = createVendorCa({ random: randomBytes, now });
  t.throws(() => deriveCardAttestationKey(ca, ''), { code: 'INVALID_ARGUMENT', details: { field: 'iccid' } });
  t.throws(() => deriveCardAttestationKey(ca, 'serial:1'), { code: 'INVALID_ARGUMENT', details: { field: 'iccid' } });
  t.throws(() => deriveCardAttestationKey({ ...ca, privateKey: new Uint8Array(31) }, iccid), { code: 'INVALID_ARGUMENT', details: { field: 'vendorCa.privateKey' } });
});

t.test('the derived certificate: reproducible, for the derived key, CN = ICCID, 20 years, derived serial', async (t) => {
  const ca = createVendorCa({ random: seeded(3), now });
  const a = issueDerivedCardCertificate({ iccid, ca, now });
  const b = issueDerivedCardCertificate({ iccid, ca, now });
  t.equal(hex(a.certificate), hex(b.certificate), 'the same DER twice');
  t.equal(hex(a.privateKey), hex(deriveCardAttestationKey(ca, iccid)));
  const cert = new X509Certificate(a.certificate);
  t.ok(cert.verify(new X509Certificate(ca.certificate).publicKey), 'signed by the CA');
  t.ok(cert.subject.split('\n').includes(`CN=${iccid}`));
  t.equal(cert.serialNumber.toLowerCase(), a.serial);
  t.equal(a.serial.length, 16, '8-byte serial');
  t.ok(Number.parseInt(a.serial.slice(0, 2), 16) < 0x80, 'positive');
  const read = readCardCertificate(a.certificate);
  t.equal(hex(read.publicKey), hex(p256.getPublicKey(a.privateKey, false)), 'for the derived key');
  t.equal(read.notBefore.toISOString(), now.toISOString());
  t.equal(read.notAfter.toISOString(), '2046-01-01T00:00:00.000Z');
  t.equal(read.serial, a.serial);

  // Serial: derived per ICCID and CA, or the one given.
  const c = issueDerivedCardCertificate({ iccid: otherIccid, ca, now });
  t.not(c.serial, a.serial);
  t.not(issueDerivedCardCertificate({ iccid, ca: createVendorCa({ random: seeded(4), now }), now }).serial, a.serial);
  const given = issueDerivedCardCertificate({ iccid, ca, now, serial: Buffer.from('0102030405', 'hex') });
  t.equal(given.serial, '0102030405');
  t.equal(hex(given.privateKey), hex(a.privateKey), 'the key does not depend on the serial');
  t.not(hex(issueDerivedCardCertificate({ iccid, ca, now: new Date('2027-01-01T00:00:00Z') }).certificate), hex(a.certificate), 'issue time is in it');
  t.throws(() => issueDerivedCardCertificate({ iccid, ca, now, serial: new Uint8Array(3) }), { code: 'INVALID_ARGUMENT', details: { field: 'serial' } });
});

t.test('issueCardAttestation: random as before, given key and serial used as they are', async (t) => {
  const ca = createVendorCa({ random: randomBytes, now });
  const random = issueCardAttestation({ iccid, ca, random: randomBytes, now });
  t.not(hex(random.privateKey), hex(deriveCardAttestationKey(ca, iccid)), 'random key without one given');
  const privateKey = p256.utils.randomSecretKey();
  const given = issueCardAttestation({ iccid, ca, now, privateKey, serial: Buffer.from('ff01', 'hex') });
  t.equal(hex(given.privateKey), hex(privateKey));
  t.equal(given.serial, 'ff01', 'serial hex as OpenSSL prints it');
  t.equal(new X509Certificate(given.certificate).serialNumber.toLowerCase(), 'ff01');
  t.throws(() => issueCardAttestation({ iccid, ca, now, privateKey }), { code: 'INVALID_ARGUMENT', details: { field: 'random' } });
  t.throws(() => issueCardAttestation({ iccid, ca, now, privateKey: new Uint8Array(16), serial: Uint8Array.of(1) }), { code: 'INVALID_ARGUMENT', details: { field: 'privateKey' } });
});

t.test('a key template without certificate verifies against the stored derived certificate', async (t) => {
  const ca = createVendorCa({ random: randomBytes, now });
  const stored = issueDerivedCardCertificate({ iccid, ca, now });
  // What the card signs with its derived key (it holds no certificate copy to speed the import up).
  const publicKey = p256.getPublicKey(p256.utils.randomSecretKey(), false);
  const signature = signAttestation(deriveCardAttestationKey(ca, iccid), attestationMessage(iccid, 'p256', 1, publicKey));
  const check = { iccid, curve: 'p256' as const, slot: 1, publicKey, signature, certificate: stored.certificate, caCertificate: ca.certificate, at: now };
  t.same(verifyAttestation(check), { ok: true, serial: stored.serial });
  t.same(verifyAttestation({ ...check, certificate: issueDerivedCardCertificate({ iccid: otherIccid, ca, now }).certificate }), { ok: false, reason: 'CERTIFICATE_SUBJECT_MISMATCH' });
  const otherCa = createVendorCa({ random: randomBytes, now });
  t.same(verifyAttestation({ ...check, caCertificate: otherCa.certificate }), { ok: false, reason: 'CERTIFICATE_NOT_ISSUED_BY_CA' });
  // Another CA's derivation for the same ICCID is another key: its certificate does not fit the signature.
  t.same(verifyAttestation({ ...check, certificate: issueDerivedCardCertificate({ iccid, ca: otherCa, now }).certificate, caCertificate: otherCa.certificate }), { ok: false, reason: 'SIGNATURE_INVALID' });
});
