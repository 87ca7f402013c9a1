/**
 * Attestation: the proof that a device key was born on a genuine card. At personalisation
 * the card vendor gives each card a P-256 attestation key and an X.509 certificate for it,
 * issued by the vendor's CA. When the applet generates a key pair it signs
 * (ICCID, curve, slot, public key) with that attestation key; the backend checks the
 * signature against the card certificate and the certificate against the vendor CA.
 */
import { createPrivateKey, sign, X509Certificate } from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';
import { fail } from '../errors.js';
import { derToPem, issueCertificate, pemToDer } from './x509.js';

export type Random = (length: number) => Uint8Array;

export interface VendorCa {
  /** P-256 private scalar (32 bytes). */
  privateKey: Uint8Array;
  /** DER X.509 certificate of the CA. */
  certificate: Uint8Array;
}

export interface CardAttestationIdentity {
  privateKey: Uint8Array;
  certificate: Uint8Array;
  /** Certificate serial number, hex: the "attestation certificate serial" of the vendor file. */
  serial: string;
}

export const CURVE_IDS = { secp256k1: 0x01, p256: 0x02 } as const;
export type Curve = keyof typeof CURVE_IDS;

const DOMAIN_TAG = new TextEncoder().encode('simchain-attestation-v1');

/**
 * The attested message: "simchain-attestation-v1" 00 ‖ ICCID (ASCII digits) 00 ‖ curve id ‖ slot ‖ public key.
 * The domain tag keeps the attestation key from ever signing anything that could be read
 * as another message.
 */
export function attestationMessage(iccid: string, curve: Curve, slot: number, publicKey: Uint8Array): Uint8Array {
  const iccidBytes = new TextEncoder().encode(iccid);
  const out = new Uint8Array(DOMAIN_TAG.length + 1 + iccidBytes.length + 1 + 2 + publicKey.length);
  let o = 0;
  out.set(DOMAIN_TAG, o);
  o += DOMAIN_TAG.length + 1;
  out.set(iccidBytes, o);
  o += iccidBytes.length + 1;
  out[o++] = CURVE_IDS[curve];
  out[o++] = slot;
  out.set(publicKey, o);
  return out;
}

/** SEC 1 ECPrivateKey for a P-256 scalar, without its public key (OpenSSL derives it). */
const SEC1_HEAD = Buffer.from('30310201010420', 'hex');
const SEC1_TAIL = Buffer.from('a00a06082a8648ce3d030107', 'hex');
/** The DER SubjectPublicKeyInfo of a P-256 key up to its point's x ‖ y. */
const P256_SPKI_HEAD = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d03010703420004', 'hex');

/**
 * ECDSA P-256 / SHA-256, DER-encoded, by OpenSSL through node:crypto: every provisioned card
 * signs once (README, benchmark `provisioning`). With the card's certificate the key is
 * imported as a JWK with its public point (about 45 µs); without it, as SEC 1 DER from which
 * OpenSSL derives the point (about 90-160 µs); @noble/curves takes about 510 µs to sign.
 * The signature depends on the scalar alone. Nonces are OpenSSL's random ones, as a card's.
 */
export function signAttestation(attestationKey: Uint8Array, message: Uint8Array, certificate?: Uint8Array): Uint8Array {
  if (attestationKey.length !== 32) throw new RangeError('a P-256 attestation key is 32 bytes');
  const cert = certificate ? Buffer.from(certificate.buffer, certificate.byteOffset, certificate.byteLength) : null;
  const at = cert ? cert.indexOf(P256_SPKI_HEAD) : -1;
  if (cert && at >= 0 && at + P256_SPKI_HEAD.length + 64 <= cert.length) {
    const x = at + P256_SPKI_HEAD.length;
    const key = createPrivateKey({
      key: {
        kty: 'EC', crv: 'P-256', d: Buffer.from(attestationKey).toString('base64url'),
        x: cert.subarray(x, x + 32).toString('base64url'), y: cert.subarray(x + 32, x + 64).toString('base64url'),
      },
      format: 'jwk',
    });
    return sign('sha256', message, key);
  }
  const der = Buffer.concat([SEC1_HEAD, attestationKey, SEC1_TAIL]);
  try {
    return sign('sha256', message, createPrivateKey({ key: der, format: 'der', type: 'sec1' }));
  } finally {
    der.fill(0);
  }
}

function secretKey(random: Random): Uint8Array {
  // noble reduces 48 random bytes modulo n (FIPS 186-5 A.2.1), so the key is uniform and never zero.
  return p256.utils.randomSecretKey(random(48));
}

function addYears(date: Date, years: number): Date {
  const d = new Date(date.getTime());
  d.setUTCFullYear(d.getUTCFullYear() + years);
  return d;
}

function serialFrom(random: Random): Uint8Array {
  const s = random(8);
  s[0] = (s[0]! & 0x7f) | 0x01; // positive and never all-zero (RFC 5280 §4.1.2.2)
  return s;
}

export function createVendorCa(options: { random: Random; now: Date; name?: string }): VendorCa {
  const privateKey = secretKey(options.random);
  const dn = { commonName: options.name ?? 'simchain Vendor CA' };
  const certificate = issueCertificate({
    serial: serialFrom(options.random),
    issuer: dn,
    subject: dn,
    notBefore: options.now,
    notAfter: addYears(options.now, 30),
    subjectPublicKey: p256.getPublicKey(privateKey, false),
    isCa: true,
    issuerPrivateKey: privateKey,
  });
  return { privateKey, certificate };
}

/** Load a vendor CA from PEM (PKCS#8 or SEC1 EC private key, and its certificate); the key must match the certificate. */
export function loadVendorCa(pem: { key: string; certificate: string }): VendorCa {
  let d: string | undefined;
  try {
    const jwk = createPrivateKey(pem.key).export({ format: 'jwk' });
    if (jwk.kty !== 'EC' || jwk.crv !== 'P-256') fail('INVALID_ARGUMENT', 'vendor CA key must be an EC P-256 key', { field: 'vendorCa.key' });
    d = jwk.d;
  } catch (e) {
    if (e instanceof Error && e.name === 'ProtocolError') throw e;
    fail('MALFORMED', 'vendor CA key is not a PEM EC private key', { field: 'vendorCa.key' });
  }
  const privateKey = Uint8Array.from(Buffer.from(d!, 'base64url'));
  const certificate = pemToDer(pem.certificate);
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certificate);
  } catch {
    fail('MALFORMED', 'vendor CA certificate does not parse', { field: 'vendorCa.certificate' });
  }
  const jwk = cert.publicKey.export({ format: 'jwk' });
  const expected = p256.getPublicKey(privateKey, false);
  const actual = Buffer.concat([Buffer.of(4), Buffer.from(jwk.x ?? '', 'base64url'), Buffer.from(jwk.y ?? '', 'base64url')]);
  if (!actual.equals(expected)) fail('INVALID_ARGUMENT', 'vendor CA key does not match its certificate', { field: 'vendorCa' });
  return { privateKey, certificate };
}

export function vendorCaToPem(ca: VendorCa): { key: string; certificate: string } {
  // PKCS#8 through node:crypto's JWK import, so the PEM is what OpenSSL writes.
  const pub = p256.getPublicKey(ca.privateKey, false);
  const key = createPrivateKey({
    key: {
      kty: 'EC',
      crv: 'P-256',
      d: Buffer.from(ca.privateKey).toString('base64url'),
      x: Buffer.from(pub.subarray(1, 33)).toString('base64url'),
      y: Buffer.from(pub.subarray(33)).toString('base64url'),
    },
    format: 'jwk',
  });
  return { key: key.export({ format: 'pem', type: 'pkcs8' }).toString(), certificate: derToPem(ca.certificate) };
}

/** The card's attestation key and its certificate (subject CN = ICCID), issued by the vendor CA at personalisation. */
export function issueCardAttestation(options: { iccid: string; ca: VendorCa; random: Random; now: Date }): CardAttestationIdentity {
  const caCert = new X509Certificate(options.ca.certificate);
  const caCn = /CN=([^\n]+)/.exec(caCert.subject)?.[1] ?? 'simchain Vendor CA';
  const caO = /O=([^\n]+)/.exec(caCert.subject)?.[1];
  const privateKey = secretKey(options.random);
  const serial = serialFrom(options.random);
  const certificate = issueCertificate({
    serial,
    issuer: caO ? { commonName: caCn, organizationName: caO } : { commonName: caCn },
    subject: { commonName: options.iccid },
    notBefore: options.now,
    notAfter: addYears(options.now, 20),
    subjectPublicKey: p256.getPublicKey(privateKey, false),
    isCa: false,
    issuerPrivateKey: options.ca.privateKey,
  });
  return { privateKey, certificate, serial: Buffer.from(serial).toString('hex') };
}
