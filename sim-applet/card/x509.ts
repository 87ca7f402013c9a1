/**
 * Minimal X.509 v3 certificates for ECDSA P-256 keys: the card vendor's CA and each card's
 * attestation certificate. Built with node-forge's ASN.1/DER encoder because forge's
 * `pki.createCertificate` only handles RSA keys, and card vendors issue ECC P-256 card
 * certificates (as GSMA SGP.22 and IoT SAFE cards do). Signatures come from @noble/curves
 * (RFC 6979 deterministic, so personalisation is reproducible from its injected inputs).
 */
import forge from 'node-forge';
import { p256 } from '@noble/curves/nist.js';
import { fail } from '../errors.js';

const { asn1 } = forge;
const T = asn1.Type;
const C = asn1.Class;

const OID = {
  ecPublicKey: '1.2.840.10045.2.1',
  prime256v1: '1.2.840.10045.3.1.7',
  ecdsaWithSHA256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  organizationName: '2.5.4.10',
  serialNumber: '2.5.4.5',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  subjectKeyIdentifier: '2.5.29.14',
} as const;

export interface DistinguishedName {
  commonName: string;
  organizationName?: string;
  serialNumber?: string;
}

export interface CertificateRequest {
  serial: Uint8Array;
  issuer: DistinguishedName;
  subject: DistinguishedName;
  notBefore: Date;
  notAfter: Date;
  /** SEC1 uncompressed P-256 point (65 bytes). */
  subjectPublicKey: Uint8Array;
  isCa: boolean;
  /** The issuer's P-256 private scalar (32 bytes). */
  issuerPrivateKey: Uint8Array;
  /** The DER ECDSA-with-SHA256 signature over the TBSCertificate; default @noble/curves (RFC 6979, reproducible). */
  sign?: (tbs: Uint8Array) => Uint8Array;
}

const bin = (bytes: Uint8Array): string => forge.util.binary.raw.encode(bytes);
const unbin = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'binary'));

function seq(items: forge.asn1.Asn1[]): forge.asn1.Asn1 {
  return asn1.create(C.UNIVERSAL, T.SEQUENCE, true, items);
}

function oid(id: string): forge.asn1.Asn1 {
  return asn1.create(C.UNIVERSAL, T.OID, false, asn1.oidToDer(id).getBytes());
}

function name(dn: DistinguishedName): forge.asn1.Asn1 {
  const rdn = (type: string, value: string) =>
    asn1.create(C.UNIVERSAL, T.SET, true, [seq([oid(type), asn1.create(C.UNIVERSAL, T.UTF8, false, forge.util.encodeUtf8(value))])]);
  const parts = [];
  if (dn.organizationName) parts.push(rdn(OID.organizationName, dn.organizationName));
  if (dn.serialNumber) parts.push(rdn(OID.serialNumber, dn.serialNumber));
  parts.push(rdn(OID.commonName, dn.commonName));
  return seq(parts);
}

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050. */
function time(date: Date): forge.asn1.Asn1 {
  return date.getUTCFullYear() < 2050
    ? asn1.create(C.UNIVERSAL, T.UTCTIME, false, asn1.dateToUtcTime(date))
    : asn1.create(C.UNIVERSAL, T.GENERALIZEDTIME, false, asn1.dateToGeneralizedTime(date));
}

function positiveInteger(bytes: Uint8Array): forge.asn1.Asn1 {
  let b = bytes;
  while (b.length > 1 && b[0] === 0 && b[1]! < 0x80) b = b.subarray(1);
  const value = b[0]! >= 0x80 ? Uint8Array.of(0, ...b) : b;
  return asn1.create(C.UNIVERSAL, T.INTEGER, false, bin(value));
}

function extension(id: string, critical: boolean, value: forge.asn1.Asn1): forge.asn1.Asn1 {
  const items = [oid(id)];
  if (critical) items.push(asn1.create(C.UNIVERSAL, T.BOOLEAN, false, String.fromCharCode(0xff)));
  items.push(asn1.create(C.UNIVERSAL, T.OCTETSTRING, false, asn1.toDer(value).getBytes()));
  return seq(items);
}

/** Issue a DER certificate for a P-256 subject key, signed ECDSA-with-SHA256 by the issuer key. */
export function issueCertificate(req: CertificateRequest): Uint8Array {
  if (req.subjectPublicKey.length !== 65 || req.subjectPublicKey[0] !== 0x04) {
    fail('INVALID_ARGUMENT', 'subject public key must be an uncompressed P-256 point', { field: 'subjectPublicKey' });
  }
  if (req.serial.length < 1 || req.serial.length > 20) fail('INVALID_ARGUMENT', 'serial is 1..20 bytes (RFC 5280 §4.1.2.2)', { field: 'serial' });
  const sigAlg = seq([oid(OID.ecdsaWithSHA256)]);
  const spki = seq([
    seq([oid(OID.ecPublicKey), oid(OID.prime256v1)]),
    asn1.create(C.UNIVERSAL, T.BITSTRING, false, '\x00' + bin(req.subjectPublicKey)),
  ]);
  // keyUsage bits (RFC 5280 §4.2.1.3): digitalSignature = bit 0; keyCertSign = bit 5, cRLSign = bit 6.
  const keyUsage = req.isCa
    ? asn1.create(C.UNIVERSAL, T.BITSTRING, false, String.fromCharCode(1, 0x06))
    : asn1.create(C.UNIVERSAL, T.BITSTRING, false, String.fromCharCode(7, 0x80));
  const basic = req.isCa ? seq([asn1.create(C.UNIVERSAL, T.BOOLEAN, false, String.fromCharCode(0xff))]) : seq([]);
  // A CA's key identifier lets verifiers match issued certificates to it; a card certificate
  // issues nothing, and every byte of it travels in the GENERATE KEY PAIR PoR (README).
  const ski = () => asn1.create(C.UNIVERSAL, T.OCTETSTRING, false, forge.md.sha1.create().update(bin(req.subjectPublicKey)).digest().getBytes());
  const tbs = seq([
    asn1.create(C.CONTEXT_SPECIFIC, 0, true, [asn1.create(C.UNIVERSAL, T.INTEGER, false, String.fromCharCode(2))]),
    positiveInteger(req.serial),
    sigAlg,
    name(req.issuer),
    seq([time(req.notBefore), time(req.notAfter)]),
    name(req.subject),
    spki,
    asn1.create(C.CONTEXT_SPECIFIC, 3, true, [
      seq([
        extension(OID.basicConstraints, true, basic),
        extension(OID.keyUsage, true, keyUsage),
        ...(req.isCa ? [extension(OID.subjectKeyIdentifier, false, ski())] : []),
      ]),
    ]),
  ]);
  const tbsDer = unbin(asn1.toDer(tbs).getBytes());
  const signature = req.sign ? req.sign(tbsDer) : p256.sign(tbsDer, req.issuerPrivateKey, { format: 'der' });
  const cert = seq([tbs, seq([oid(OID.ecdsaWithSHA256)]), asn1.create(C.UNIVERSAL, T.BITSTRING, false, '\x00' + bin(signature))]);
  return unbin(asn1.toDer(cert).getBytes());
}

export function derToPem(der: Uint8Array, label = 'CERTIFICATE'): string {
  const b64 = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

export function pemToDer(pem: string, label = 'CERTIFICATE'): Uint8Array {
  const m = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`).exec(pem);
  if (!m) fail('MALFORMED', `not a PEM ${label.toLowerCase()}`, { field: label.toLowerCase() });
  return Uint8Array.from(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64'));
}
