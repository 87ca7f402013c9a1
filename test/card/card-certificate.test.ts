import t from 'tap';
import { X509Certificate, randomBytes, verify } from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';
import { attestationMessage, createVendorCa, issueCardAttestation, signAttestation } from '../../sim-applet/card/attestation.js';
import { issueCertificate } from '../../sim-applet/card/x509.js';
import { certificateSubject, readCardCertificate } from '../../sim-applet/host/card-certificate.js';
import { vendorAuthority, verifyAttestation } from '../../sim-applet/host/attestation.js';

const now = new Date('2026-01-01T00:00:00Z');
const iccid = '8988211000000467285';

t.test('a card certificate reads as OpenSSL reads it', async (t) => {
  const ca = createVendorCa({ random: randomBytes, now });
  for (let i = 0; i < 20; i++) {
    const card = issueCardAttestation({ iccid, ca, random: randomBytes, now });
    const read = readCardCertificate(card.certificate);
    const x = new X509Certificate(card.certificate);
    const caX = new X509Certificate(ca.certificate);
    t.equal(read.serial, x.serialNumber.toLowerCase(), 'serial as OpenSSL prints it');
    t.equal(read.serial, card.serial);
    t.equal(read.notBefore.getTime(), Date.parse(x.validFrom));
    t.equal(read.notAfter.getTime(), Date.parse(x.validTo));
    t.same(read.subjectCommonNames, [iccid]);
    t.same(read.issuer, certificateSubject(ca.certificate), 'issuer bytes are the CA subject bytes');
    t.ok(read.subject.equals(certificateSubject(card.certificate)));
    const jwk = x.publicKey.export({ format: 'jwk' });
    t.same(read.publicKey.toString('hex'), Buffer.concat([Buffer.of(4), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]).toString('hex'));
    t.ok(verify('sha256', read.tbs, caX.publicKey, read.signature), 'tbs and signature are what the CA signed');
  }
});

t.test('anything but a P-256 certificate signed ECDSA-with-SHA256 is refused as malformed', async (t) => {
  const ca = createVendorCa({ random: randomBytes, now });
  const card = issueCardAttestation({ iccid, ca, random: randomBytes, now });
  const der = Buffer.from(card.certificate);
  const cases: Array<[string, Buffer]> = [
    ['empty', Buffer.alloc(0)],
    ['truncated', der.subarray(0, der.length - 1)],
    ['trailing byte', Buffer.concat([der, Buffer.of(0)])],
    ['not a sequence', Buffer.concat([Buffer.of(0x31), der.subarray(1)])],
    ['garbage', randomBytes(300)],
  ];
  // The point's first byte: an uncompressed point is 04.
  const pointAt = der.indexOf(Buffer.from('03420004', 'hex')) + 3;
  const compressed = Buffer.from(der);
  compressed[pointAt] = 0x02;
  cases.push(['not an uncompressed point', compressed]);
  const curveAt = der.indexOf(Buffer.from('2a8648ce3d030107', 'hex'));
  const otherCurve = Buffer.from(der);
  otherCurve[curveAt + 7] = 0x08;
  cases.push(['another curve', otherCurve]);
  for (const [what, bytes] of cases) t.throws(() => readCardCertificate(bytes), { name: 'CertificateFormatError' }, what);
  const check = { iccid, curve: 'p256' as const, slot: 1, publicKey: new Uint8Array(65), signature: new Uint8Array(70), caCertificate: ca.certificate, at: now };
  for (const [what, bytes] of cases) t.same(verifyAttestation({ ...check, certificate: bytes }), { ok: false, reason: 'CERTIFICATE_MALFORMED' }, what);
});

t.test('a certificate naming the CA but signed by another key, or issued by a non-CA, is not issued by the CA', async (t) => {
  const ca = createVendorCa({ random: randomBytes, now });
  const impostor = createVendorCa({ random: randomBytes, now });
  t.same(certificateSubject(ca.certificate), certificateSubject(impostor.certificate), 'same subject name');
  const card = issueCardAttestation({ iccid, ca: impostor, random: randomBytes, now });
  const publicKey = p256.getPublicKey(p256.utils.randomSecretKey(), false);
  const signature = signAttestation(card.privateKey, attestationMessage(iccid, 'p256', 1, publicKey));
  const base = { iccid, curve: 'p256' as const, slot: 1, publicKey, signature, certificate: card.certificate, at: now };
  t.same(verifyAttestation({ ...base, caCertificate: impostor.certificate }), { ok: true, serial: card.serial });
  t.same(verifyAttestation({ ...base, caCertificate: ca.certificate }), { ok: false, reason: 'CERTIFICATE_NOT_ISSUED_BY_CA' });
  t.same(verifyAttestation({ ...base, caCertificate: vendorAuthority(ca.certificate) }), { ok: false, reason: 'CERTIFICATE_NOT_ISSUED_BY_CA' });
  // An end-entity certificate (CA:FALSE) that signed a card certificate issues nothing.
  const leafKey = p256.utils.randomSecretKey();
  const leaf = issueCertificate({
    serial: Uint8Array.of(7), issuer: { commonName: 'leaf' }, subject: { commonName: 'leaf' }, notBefore: now, notAfter: new Date('2040-01-01T00:00:00Z'),
    subjectPublicKey: p256.getPublicKey(leafKey, false), isCa: false, issuerPrivateKey: leafKey,
  });
  const issuedByLeaf = issueCardAttestation({ iccid, ca: { privateKey: leafKey, certificate: leaf }, random: randomBytes, now });
  const leafSigned = signAttestation(issuedByLeaf.privateKey, attestationMessage(iccid, 'p256', 1, publicKey));
  t.same(verifyAttestation({ ...base, signature: leafSigned, certificate: issuedByLeaf.certificate, caCertificate: leaf }), { ok: false, reason: 'CERTIFICATE_NOT_ISSUED_BY_CA' });
});

