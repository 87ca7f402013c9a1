/**
 * A card's attestation certificate read for checking: the fields the attestation check needs,
 * and the exact bytes the issuer signed. node-forge's ASN.1 reader walks the DER (about 10 µs
 * for a card certificate); node:crypto's X509Certificate takes 95-130 µs to parse one under
 * OpenSSL 3, and the backend checks one per provisioned SIM (README, benchmark `provisioning`).
 * forge's certificate layer is not used because it only reads RSA keys.
 */
import forge from 'node-forge';

const { asn1 } = forge;

/** forge reads options here (strict lengths; BIT STRING contents left as bytes); its typings only know the boolean form. */
const READ_OPTIONS = { strict: true, decodeBitStrings: false } as unknown as boolean;

function parse(der: Buffer): forge.asn1.Asn1 {
  try {
    return asn1.fromDer(forge.util.createBuffer(der.toString('binary')), READ_OPTIONS);
  } catch (e) {
    bad(`not DER: ${e instanceof Error ? e.message : String(e)}`);
  }
}

const OID = {
  ecPublicKey: '1.2.840.10045.2.1',
  prime256v1: '1.2.840.10045.3.1.7',
  ecdsaWithSHA256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
} as const;

export interface CardCertificate {
  /** The DER TBSCertificate: what the issuer's signature covers. */
  tbs: Buffer;
  /** The DER issuer Name, compared byte for byte with the CA's subject. */
  issuer: Buffer;
  /** The DER subject Name. */
  subject: Buffer;
  /** Every commonName of the subject. */
  subjectCommonNames: string[];
  notBefore: Date;
  notAfter: Date;
  /** The subject's P-256 key, SEC 1 uncompressed (65 bytes). */
  publicKey: Buffer;
  /** The issuer's DER ECDSA-with-SHA256 signature over `tbs`. */
  signature: Buffer;
  /** The serial number, lower-case hex without leading zero bytes (as OpenSSL prints it). */
  serial: string;
}

/** Why a certificate could not be read. */
export class CertificateFormatError extends Error {
  override name = 'CertificateFormatError';
}

function bad(what: string): never {
  throw new CertificateFormatError(what);
}

/** Offset and length of the DER element starting at `at` (header included). */
function element(der: Uint8Array, at: number): { start: number; end: number } {
  if (at + 2 > der.length) bad('truncated');
  const first = der[at + 1]!;
  let length = first;
  let header = 2;
  if (first & 0x80) {
    const n = first & 0x7f;
    if (n === 0 || n > 3 || at + 2 + n > der.length) bad('unsupported length');
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + der[at + 2 + i]!;
    header += n;
  }
  const end = at + header + length;
  if (end > der.length) bad('truncated');
  return { start: at, end };
}

function children(node: forge.asn1.Asn1, tag: number, what: string): forge.asn1.Asn1[] {
  if (node.tagClass !== asn1.Class.UNIVERSAL || node.type !== tag || !Array.isArray(node.value)) bad(what);
  return node.value;
}

function bytes(node: forge.asn1.Asn1, tag: number, what: string): Buffer {
  if (node.tagClass !== asn1.Class.UNIVERSAL || node.type !== tag || typeof node.value !== 'string') bad(what);
  return Buffer.from(node.value, 'binary');
}

function oidOf(node: forge.asn1.Asn1 | undefined, what: string): string {
  if (!node) bad(what);
  return asn1.derToOid(forge.util.createBuffer(bytes(node, asn1.Type.OID, what).toString('binary')));
}

function timeOf(node: forge.asn1.Asn1 | undefined): Date {
  if (!node || typeof node.value !== 'string') bad('validity');
  const d = node.type === asn1.Type.UTCTIME ? asn1.utcTimeToDate(node.value) : node.type === asn1.Type.GENERALIZEDTIME ? asn1.generalizedTimeToDate(node.value) : bad('validity');
  if (Number.isNaN(d.getTime())) bad('validity');
  return d;
}

/** The TBSCertificate's fields from serialNumber on (version [0] EXPLICIT, present in v3, skipped; the rest are positional). */
function tbsFields(tbsNode: forge.asn1.Asn1): forge.asn1.Asn1[] {
  const tbs = children(tbsNode, asn1.Type.SEQUENCE, 'TBSCertificate');
  const hasVersion = tbs[0]?.tagClass === asn1.Class.CONTEXT_SPECIFIC && tbs[0].type === 0;
  return tbs.slice(hasVersion ? 1 : 0);
}

/** The DER of a parsed node (names are small; their bytes are compared, not their text). */
function derOf(node: forge.asn1.Asn1): Buffer {
  return Buffer.from(asn1.toDer(node).getBytes(), 'binary');
}

/** Read an X.509 v3 certificate for an ECDSA P-256 key signed ECDSA-with-SHA256; throws CertificateFormatError otherwise. */
export function readCardCertificate(der: Uint8Array): CardCertificate {
  const buf = Buffer.from(der.buffer, der.byteOffset, der.byteLength);
  const outer = element(buf, 0);
  if (buf[0] !== 0x30 || outer.end !== buf.length) bad('not one DER SEQUENCE');
  const headerLength = buf[1]! & 0x80 ? 2 + (buf[1]! & 0x7f) : 2;
  if (buf[headerLength] !== 0x30) bad('no TBSCertificate');
  const tbsRange = element(buf, headerLength);
  const root = parse(buf);
  const [tbsNode, algorithm, signatureValue] = children(root, asn1.Type.SEQUENCE, 'Certificate');
  if (!tbsNode || !algorithm || !signatureValue) bad('Certificate');
  const [serial, signatureAlgorithm, issuer, validity, subject, spki] = tbsFields(tbsNode);
  if (!serial || !signatureAlgorithm || !issuer || !validity || !subject || !spki) bad('TBSCertificate');
  if (oidOf(children(algorithm, asn1.Type.SEQUENCE, 'signatureAlgorithm')[0], 'signatureAlgorithm') !== OID.ecdsaWithSHA256) bad('not signed ECDSA-with-SHA256');
  if (oidOf(children(signatureAlgorithm, asn1.Type.SEQUENCE, 'signature')[0], 'signature') !== OID.ecdsaWithSHA256) bad('not signed ECDSA-with-SHA256');
  const [keyAlgorithm, keyBits] = children(spki, asn1.Type.SEQUENCE, 'subjectPublicKeyInfo');
  const [keyType, keyCurve] = children(keyAlgorithm ?? bad('subjectPublicKeyInfo'), asn1.Type.SEQUENCE, 'subjectPublicKeyInfo');
  if (oidOf(keyType, 'key algorithm') !== OID.ecPublicKey || oidOf(keyCurve, 'key curve') !== OID.prime256v1) bad('not a P-256 key');
  const point = bytes(keyBits ?? bad('subjectPublicKey'), asn1.Type.BITSTRING, 'subjectPublicKey');
  if (point.length !== 66 || point[0] !== 0 || point[1] !== 0x04) bad('not an uncompressed P-256 point');
  const signature = bytes(signatureValue, asn1.Type.BITSTRING, 'signatureValue');
  if (signature.length < 2 || signature[0] !== 0) bad('signatureValue');
  const [notBefore, notAfter] = children(validity, asn1.Type.SEQUENCE, 'validity');
  const serialBytes = bytes(serial, asn1.Type.INTEGER, 'serialNumber');
  let s = 0;
  while (s < serialBytes.length - 1 && serialBytes[s] === 0) s++;
  const subjectCommonNames: string[] = [];
  for (const rdn of children(subject, asn1.Type.SEQUENCE, 'subject')) {
    for (const attribute of children(rdn, asn1.Type.SET, 'subject')) {
      const [type, value] = children(attribute, asn1.Type.SEQUENCE, 'subject');
      if (oidOf(type, 'subject') !== OID.commonName || typeof value?.value !== 'string') continue;
      try {
        subjectCommonNames.push(forge.util.decodeUtf8(value.value));
      } catch {
        bad('a commonName that is not UTF-8');
      }
    }
  }
  return {
    tbs: buf.subarray(tbsRange.start, tbsRange.end),
    issuer: derOf(issuer),
    subject: derOf(subject),
    subjectCommonNames,
    notBefore: timeOf(notBefore),
    notAfter: timeOf(notAfter),
    publicKey: point.subarray(1),
    signature: signature.subarray(1),
    serial: serialBytes.subarray(s).toString('hex'),
  };
}

/** The DER subject Name of any X.509 certificate (a vendor CA's key may be of any type). */
export function certificateSubject(der: Uint8Array): Buffer {
  const root = parse(Buffer.from(der.buffer, der.byteOffset, der.byteLength));
  const [tbsNode] = children(root, asn1.Type.SEQUENCE, 'Certificate');
  const subject = tbsFields(tbsNode ?? bad('Certificate'))[4] ?? bad('subject');
  children(subject, asn1.Type.SEQUENCE, 'subject');
  return derOf(subject);
}
