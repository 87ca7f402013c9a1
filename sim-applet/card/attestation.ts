/**
 * Attestation: the proof that a device key was born on a genuine card. At personalisation
 * the card vendor gives each card a P-256 attestation key and an X.509 certificate for it,
 * issued by the vendor's CA. When the applet generates a key pair it signs
 * (ICCID, curve, slot, public key) with that attestation key; the backend checks the
 * signature against the card certificate and the certificate against the vendor CA.
 *
 * The simulated card factory's key scheme (deriveCardAttestationKey): the vendor file may
 * carry each card's certificate (column ATTESTATION_CERT), so the operator can keep it and
 * ask the card to leave it out of GENERATE KEY PAIR's answer. The factory that writes the
 * file and the card the fleet simulator personalises from it later must then hold the same
 * attestation key, without a private key travelling between them: the card's key is
 * diversified from the vendor CA's key and the ICCID, as card factories diversify OTA keys
 * from a master key and the ICCID:
 *
 *   okm    = HKDF-SHA256(IKM = CA private scalar (32 bytes), salt = "simchain-card-attestation-v1",
 *                        info = ICCID (ASCII digits), L = 48)
 *   key    = (okm mod (n - 1)) + 1, big-endian, as p256.utils.randomSecretKey does with 48
 *            random bytes (FIPS 186-5 A.2.1: uniform to within 2^-128, never zero)
 *   serial = HKDF-SHA256(same IKM and salt, info = "serial:" ‖ ICCID, L = 8), top bit cleared
 *            and the low bit of the first byte set (positive, never zero)
 *
 * The certificate (issueDerivedCardCertificate) is then issued as issueCardAttestation issues
 * any card certificate: subject CN = ICCID, notBefore = issue time, notAfter 20 years later,
 * RFC 6979 signature by the CA, so it is reproducible from (CA, ICCID, time). The ICCIDs are
 * digits and "serial:" is not, so the two HKDF outputs never share an info string. This is
 * the simulation's scheme only: a real vendor generates the key inside the card (it never
 * leaves it) and writes the certificate it issued for it to its output file.
 */
import { createPrivateKey, hkdfSync, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';
import { fail } from '../errors.js';
import { derToPem, issueCertificate, pemToDer, type DistinguishedName } from './x509.js';
import { p256PublicKey } from './public-key.js';
import { signP256 } from './ecdsa-p256.js';

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

/**
 * ECDSA P-256 / SHA-256 over the attested message, DER-encoded: every provisioned card signs
 * once (README, benchmark `provisioning`). node:crypto signs only with an imported key, and
 * importing the raw scalar costs more than the signature; signP256 (ecdsa-p256.ts) does the
 * scalar multiplication with OpenSSL and the rest modulo n. Nonces are random, as a card's.
 */
export function signAttestation(attestationKey: Uint8Array, message: Uint8Array): Uint8Array {
  // signP256 refuses (RangeError) a key that is not a P-256 scalar.
  return signP256(attestationKey, message);
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

/** 8 bytes made a certificate serial: positive and never all-zero (RFC 5280 §4.1.2.2). */
function positiveSerial(s: Uint8Array): Uint8Array {
  s[0] = (s[0]! & 0x7f) | 0x01;
  return s;
}

function serialFrom(random: Random): Uint8Array {
  return positiveSerial(random(8));
}

/** Serial bytes as lower-case hex without leading zero bytes: how OpenSSL and readCardCertificate print it. */
function serialHex(serial: Uint8Array): string {
  let s = 0;
  while (s < serial.length - 1 && serial[s] === 0) s++;
  return Buffer.from(serial.subarray(s)).toString('hex');
}

const CARD_KEY_SALT = Buffer.from('simchain-card-attestation-v1', 'ascii');

function cardHkdf(ca: VendorCa, info: string, length: number): Uint8Array {
  if (!(ca?.privateKey instanceof Uint8Array) || ca.privateKey.length !== 32) {
    fail('INVALID_ARGUMENT', 'the vendor CA private key is a 32-byte P-256 scalar', { field: 'vendorCa.privateKey' });
  }
  return new Uint8Array(hkdfSync('sha256', ca.privateKey, CARD_KEY_SALT, Buffer.from(info, 'ascii'), length));
}

function checkIccidText(iccid: string): void {
  if (typeof iccid !== 'string' || !/^[0-9]{1,22}$/.test(iccid)) {
    fail('INVALID_ARGUMENT', 'the ICCID must be 1..22 ASCII digits', { field: 'iccid' });
  }
}

/**
 * The card's attestation private key, diversified from the vendor CA's key and the ICCID
 * (the simulated card factory's scheme, see the top of this file): HKDF-SHA256 with the CA
 * scalar as IKM, salt "simchain-card-attestation-v1", info = the ICCID's ASCII, 48 bytes
 * reduced to [1, n) as FIPS 186-5 A.2.1. Deterministic; another ICCID or CA, an unrelated key.
 */
export function deriveCardAttestationKey(ca: VendorCa, iccid: string): Uint8Array {
  checkIccidText(iccid);
  const okm = cardHkdf(ca, iccid, 48);
  try {
    return p256.utils.randomSecretKey(okm);
  } finally {
    okm.fill(0);
  }
}

/** The derived certificate's serial: 8 bytes of the same HKDF, info "serial:" ‖ ICCID. */
function deriveCardSerial(ca: VendorCa, iccid: string): Uint8Array {
  checkIccidText(iccid);
  return positiveSerial(cardHkdf(ca, `serial:${iccid}`, 8));
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
    subjectPublicKey: p256PublicKey(privateKey),
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
  if (!p256PointOf(cert.publicKey).equals(p256PublicKey(privateKey))) fail('INVALID_ARGUMENT', 'vendor CA key does not match its certificate', { field: 'vendorCa' });
  return { privateKey, certificate };
}

export function vendorCaToPem(ca: VendorCa): { key: string; certificate: string } {
  // PKCS#8 through node:crypto's JWK import, so the PEM is what OpenSSL writes.
  const pub = p256PublicKey(ca.privateKey);
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

export interface CardAttestationOptions {
  iccid: string;
  ca: VendorCa;
  /** Issue time: the certificate's notBefore (notAfter is 20 years later). */
  now: Date;
  /** The card's attestation key (32-byte P-256 scalar); drawn from `random` when absent. */
  privateKey?: Uint8Array;
  /** The certificate serial (1..20 bytes, not zero); 8 bytes drawn from `random` when absent. */
  serial?: Uint8Array;
  /** Needed unless both privateKey and serial are given. */
  random?: Random;
  /**
   * Sign with OpenSSL (the CA key imported once per CA, random nonce) instead of
   * @noble/curves' RFC 6979 (about 550 µs here): a card certificate then takes about 240 µs
   * to issue instead of 1.2 ms. For a factory issuing a vendor file's worth, where the
   * certificate is issued once and need not be reproducible.
   */
  fastSignature?: boolean;
}

/**
 * The card's attestation key and its certificate (subject CN = ICCID), issued by the vendor CA
 * at personalisation. Key and serial are random unless given; given both, the result depends
 * only on the options (the CA signs with RFC 6979).
 */
export function issueCardAttestation(options: CardAttestationOptions): CardAttestationIdentity {
  const draw = (what: string): Random =>
    options.random ?? fail('INVALID_ARGUMENT', `a random source is needed when no ${what} is given`, { field: 'random' });
  let privateKey: Uint8Array;
  if (options.privateKey === undefined) {
    privateKey = secretKey(draw('private key'));
  } else {
    privateKey = options.privateKey;
    if (!(privateKey instanceof Uint8Array) || privateKey.length !== 32) {
      fail('INVALID_ARGUMENT', 'a P-256 attestation key is 32 bytes', { field: 'privateKey' });
    }
  }
  const serial = options.serial ?? serialFrom(draw('serial'));
  if (!(serial instanceof Uint8Array) || serial.every((b) => b === 0)) {
    fail('INVALID_ARGUMENT', 'a certificate serial is positive (RFC 5280 §4.1.2.2)', { field: 'serial' });
  }
  const certificate = issueCertificate({
    serial,
    issuer: caContext(options.ca).issuer,
    subject: { commonName: options.iccid },
    notBefore: options.now,
    notAfter: addYears(options.now, 20),
    subjectPublicKey: p256PublicKey(privateKey),
    isCa: false,
    issuerPrivateKey: options.ca.privateKey,
    ...(options.fastSignature ? { sign: (tbs: Uint8Array) => signFast(options.ca, tbs) } : {}),
  });
  return { privateKey, certificate, serial: serialHex(serial) };
}

/** What issuing card certificates needs of a vendor CA, worked out once per CA (not once per card). */
interface CaContext {
  certificate: X509Certificate;
  /** The CA's subject as card certificates name their issuer. */
  issuer: DistinguishedName;
  /** The CA key imported for OpenSSL (fastSignature). */
  signingKey: KeyObject | null;
}
const caContexts = new WeakMap<Uint8Array, CaContext>();
function caContext(ca: VendorCa): CaContext {
  let c = caContexts.get(ca.certificate);
  if (!c) {
    const certificate = new X509Certificate(ca.certificate);
    const cn = /CN=([^\n]+)/.exec(certificate.subject)?.[1] ?? 'simchain Vendor CA';
    const o = /O=([^\n]+)/.exec(certificate.subject)?.[1];
    c = { certificate, issuer: o ? { commonName: cn, organizationName: o } : { commonName: cn }, signingKey: null };
    caContexts.set(ca.certificate, c);
  }
  return c;
}

/** ECDSA-with-SHA256 by the CA through OpenSSL (random nonce), its key imported once. */
function signFast(ca: VendorCa, tbs: Uint8Array): Uint8Array {
  const c = caContext(ca);
  if (!c.signingKey) {
    const point = p256PointOf(c.certificate.publicKey);
    c.signingKey = createPrivateKey({
      key: {
        kty: 'EC', crv: 'P-256', d: Buffer.from(ca.privateKey).toString('base64url'),
        x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33).toString('base64url'),
      },
      format: 'jwk',
    });
  }
  return sign('sha256', tbs, c.signingKey);
}

/** A key's P-256 point, SEC 1 uncompressed (65 bytes); empty when it is not a P-256 key. */
function p256PointOf(key: KeyObject): Buffer {
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') return Buffer.alloc(0);
  const jwk = key.export({ format: 'jwk' });
  return Buffer.concat([Buffer.of(4), Buffer.from(jwk.x ?? '', 'base64url'), Buffer.from(jwk.y ?? '', 'base64url')]);
}

/**
 * The card factory's issue for the derived key (deriveCardAttestationKey): the certificate the
 * vendor file carries for the card. Deterministic: the same CA, ICCID, time (and serial, when
 * given; otherwise derived from the CA key and ICCID) give the same DER, unless
 * `fastSignature` (OpenSSL's random nonce) is asked for.
 */
export function issueDerivedCardCertificate(options: { iccid: string; ca: VendorCa; now: Date; serial?: Uint8Array; fastSignature?: boolean }): CardAttestationIdentity {
  return issueCardAttestation({
    iccid: options.iccid,
    ca: options.ca,
    now: options.now,
    fastSignature: options.fastSignature ?? false,
    privateKey: deriveCardAttestationKey(options.ca, options.iccid),
    serial: options.serial ?? deriveCardSerial(options.ca, options.iccid),
  });
}

/**
 * The card's attestation identity when the vendor file brings its certificate: the key is
 * derived (deriveCardAttestationKey) and the certificate must be for it, name the ICCID as a
 * subject CN and be issued by the vendor CA; otherwise INVALID_ARGUMENT naming `field`
 * (MALFORMED when it is not an X.509 certificate). The serial is the certificate's. Parsed
 * with node:crypto's X509Certificate (about 100 µs: once per card, at personalisation).
 */
export function cardAttestationFromCertificate(options: {
  iccid: string;
  ca: VendorCa;
  certificate: Uint8Array;
  /** The field named in errors. Default 'attestationCertificate'. */
  field?: string;
}): CardAttestationIdentity {
  const field = options.field ?? 'attestationCertificate';
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(options.certificate);
  } catch {
    fail('MALFORMED', `${field} is not a DER X.509 certificate`, { field });
  }
  const privateKey = deriveCardAttestationKey(options.ca, options.iccid);
  const expected = p256PublicKey(privateKey);
  if (!p256PointOf(cert.publicKey).equals(expected)) {
    privateKey.fill(0);
    fail('INVALID_ARGUMENT', `${field} is not for this card's attestation key (derived from the vendor CA and ICCID)`, { field, reason: 'KEY_MISMATCH' });
  }
  const commonNames = cert.subject.split('\n').filter((l) => l.startsWith('CN=')).map((l) => l.slice(3));
  if (!commonNames.includes(options.iccid)) {
    privateKey.fill(0);
    fail('INVALID_ARGUMENT', `${field} is not issued to ICCID ${options.iccid}`, { field, reason: 'SUBJECT_MISMATCH', subject: cert.subject });
  }
  const caCert = caContext(options.ca).certificate;
  if (!cert.checkIssued(caCert) || !cert.verify(caCert.publicKey)) {
    privateKey.fill(0);
    fail('INVALID_ARGUMENT', `${field} is not issued by the vendor CA`, { field, reason: 'NOT_ISSUED_BY_CA' });
  }
  const serial = cert.serialNumber.toLowerCase().replace(/^(00)+(?=..)/, '');
  return { privateKey, certificate: Uint8Array.from(options.certificate), serial };
}
