import t from 'tap';
import { X509Certificate, createPublicKey, randomBytes } from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';
import forge from 'node-forge';
import {
  attestationMessage,
  createVendorCa,
  issueCardAttestation,
  loadVendorCa,
  signAttestation,
  vendorCaToPem,
} from '../../sim-applet/card/attestation.js';
import { verifyAttestation } from '../../sim-applet/host/attestation.js';

const now = new Date('2026-01-01T00:00:00Z');
const iccid = '8988211000000467285';

t.test('vendor CA and card certificates verify with node:crypto and OpenSSL-compatible parsers', async (t) => {
  const ca = createVendorCa({ random: randomBytes, now });
  const caCert = new X509Certificate(ca.certificate);
  t.ok(caCert.ca, 'CA certificate has basicConstraints CA:TRUE');
  t.ok(caCert.verify(caCert.publicKey), 'self-signed');
  const card = issueCardAttestation({ iccid, ca, random: randomBytes, now });
  const cert = new X509Certificate(card.certificate);
  t.ok(cert.checkIssued(caCert), 'issuer matches the CA subject');
  t.ok(cert.verify(caCert.publicKey), 'signature by the CA verifies');
  t.notOk(cert.ca, 'card certificate is not a CA');
  t.match(cert.subject, `CN=${iccid}`);
  t.equal(cert.serialNumber.toLowerCase(), card.serial);
  t.equal(cert.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  // forge's ASN.1 reader takes it too (a second parser).
  t.doesNotThrow(() => forge.asn1.fromDer(forge.util.binary.raw.encode(card.certificate)));
});

t.test('attestation over a key verifies; any change does not', async (t) => {
  const ca = createVendorCa({ random: randomBytes, now });
  const other = createVendorCa({ random: randomBytes, now });
  const card = issueCardAttestation({ iccid, ca, random: randomBytes, now });
  const publicKey = p256.getPublicKey(p256.utils.randomSecretKey(), false);
  const signature = signAttestation(card.privateKey, attestationMessage(iccid, 'p256', 1, publicKey));
  const base = { iccid, curve: 'p256' as const, slot: 1, publicKey, signature, certificate: card.certificate, caCertificate: ca.certificate, at: now };
  t.same(verifyAttestation(base), { ok: true, serial: card.serial });
  t.same(verifyAttestation({ ...base, caCertificate: other.certificate }), { ok: false, reason: 'CERTIFICATE_NOT_ISSUED_BY_CA' });
  t.same(verifyAttestation({ ...base, iccid: '8988211000000467293' }), { ok: false, reason: 'CERTIFICATE_SUBJECT_MISMATCH' });
  t.same(verifyAttestation({ ...base, slot: 2 }), { ok: false, reason: 'SIGNATURE_INVALID' });
  const flipped = Uint8Array.from(publicKey);
  flipped[10]! ^= 1;
  t.same(verifyAttestation({ ...base, publicKey: flipped }), { ok: false, reason: 'SIGNATURE_INVALID' });
  t.same(verifyAttestation({ ...base, at: new Date('2060-01-01T00:00:00Z') }), { ok: false, reason: 'CERTIFICATE_EXPIRED' });
  t.same(verifyAttestation({ ...base, certificate: new Uint8Array(10) }), { ok: false, reason: 'CERTIFICATE_MALFORMED' });
});

t.test('vendor CA PEM round trip, and mismatched or foreign keys are refused', async (t) => {
  const ca = createVendorCa({ random: randomBytes, now });
  const pem = vendorCaToPem(ca);
  t.match(pem.key, /BEGIN PRIVATE KEY/);
  t.doesNotThrow(() => createPublicKey(pem.key));
  const back = loadVendorCa(pem);
  t.same(Buffer.from(back.privateKey), Buffer.from(ca.privateKey));
  const other = vendorCaToPem(createVendorCa({ random: randomBytes, now }));
  t.throws(() => loadVendorCa({ key: other.key, certificate: pem.certificate }), { code: 'INVALID_ARGUMENT' });
  t.throws(() => loadVendorCa({ key: 'nope', certificate: pem.certificate }), { code: 'MALFORMED' });
  t.throws(() => loadVendorCa({ key: pem.key, certificate: 'nope' }), { code: 'MALFORMED' });
});

t.test('personalisation is deterministic given its random source and time', async (t) => {
  const seeded = (seed: number) => {
    let x = seed;
    return (n: number) => Uint8Array.from({ length: n }, () => ((x = (x * 1103515245 + 12345) >>> 0) >>> 24));
  };
  const a = createVendorCa({ random: seeded(1), now });
  const b = createVendorCa({ random: seeded(1), now });
  t.same(Buffer.from(a.certificate), Buffer.from(b.certificate));
});
