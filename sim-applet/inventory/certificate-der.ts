/**
 * The `ATTESTATION_CERT` field of a vendor inventory row: the card's attestation certificate,
 * X.509 DER written as standard base64 (RFC 4648 §4: A-Z a-z 0-9 '+' '/', '=' padding, no
 * line breaks), as GSMA SGP.02's EIS carries eUICC certificates. Checked here, not parsed:
 * canonical base64, 64 to 2048 bytes once decoded, and the outer shape of a certificate
 * (RFC 5280 §4.1): exactly one DER SEQUENCE (definite length, short or long form, minimal
 * or not, covering exactly the rest of the bytes) whose first element is itself a SEQUENCE
 * (the TBSCertificate). Whether the certificate verifies is the attestation check's business.
 *
 * Hand-written, byte loops over a lookup table, because:
 * - no dependency decodes base64 strictly: Buffer.from(s, 'base64') (and atob's relatives)
 *   silently skip characters outside the alphabet, accept '=' anywhere, base64url's '-' and
 *   '_', missing padding, so a damaged field would import as other bytes;
 * - the import reads millions of rows at about 5 µs a row (./packed-rows.ts): the fast path
 *   decodes a line's bytes straight into the packed row, with no string and no allocation.
 *
 * One core (decodeCertificateBase64Into) serves both of the reader's paths, so that they
 * accept exactly the same fields: the byte fast path calls it on the line's bytes, the
 * general path on the field's characters (./vendor-file.ts, decodeCertificateBase64).
 * Padding bits (the unused low bits of the last character before '=') must be zero
 * (RFC 4648 §3.5: the one canonical text of these bytes).
 */
import type { FieldProblem } from './identifiers.js';

/** Decoded size bounds of an attestation certificate, in bytes (the `sims` column's CHECK too). */
export const CERTIFICATE_MIN_BYTES = 64;
export const CERTIFICATE_MAX_BYTES = 2048;

/**
 * Why a field is not a certificate: the negative results of decodeCertificateBase64Into.
 * certificateProblem turns one into the problem the reader reports.
 */
export const CertificateFault = Object.freeze({
  /** Empty, or a length that is not a multiple of 4. */
  BASE64_LENGTH: -1,
  /** A character outside the base64 alphabet. */
  BASE64_CHARACTER: -2,
  /** '=' other than as the final one or two padding characters. */
  BASE64_PADDING: -3,
  /** Padding bits (before '=') that are not zero: not the canonical text of any bytes. */
  BASE64_NONCANONICAL: -4,
  TOO_SHORT: -5,
  TOO_LONG: -6,
  /** The first byte is not a SEQUENCE tag (0x30). */
  NOT_SEQUENCE: -7,
  /** An indefinite, reserved or truncated length. */
  LENGTH_FORM: -8,
  /** The SEQUENCE's length does not cover exactly the rest of the bytes. */
  LENGTH_MISMATCH: -9,
  /** The SEQUENCE's first element is not a SEQUENCE (the TBSCertificate). */
  INNER_NOT_SEQUENCE: -10,
  /** The first element's length runs past the certificate. */
  INNER_LENGTH: -11,
});
export type CertificateFault = (typeof CertificateFault)[keyof typeof CertificateFault];

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const PAD = 61; // '='
const SEQUENCE = 0x30;

/** Base64 digit values by byte, -1 for anything else ('=' too: padding is handled apart). */
const DIGIT = new Int8Array(256).fill(-1);
for (let i = 0; i < 64; i++) DIGIT[ALPHABET.charCodeAt(i)] = i;
/**
 * Two characters at once: the 12 bits of a pair of base64 digits by (first << 8 | second),
 * -1 when either is not a digit. Half the lookups of DIGIT, for 128 KiB (of which the pairs
 * of digits touch about 16): the main loop runs about 25% faster on certificate-sized text.
 */
const PAIR = new Int16Array(65536).fill(-1);
for (let a = 0; a < 64; a++) for (let b = 0; b < 64; b++) PAIR[(ALPHABET.charCodeAt(a) << 8) | ALPHABET.charCodeAt(b)] = (a << 6) | b;

/** The decoded size of canonical base64 of `length` characters. */
function decodedSize(src: Uint8Array, end: number, length: number): number {
  const pad = src[end - 1] !== PAD ? 0 : src[end - 2] !== PAD ? 1 : 2;
  return (length >> 2) * 3 - pad;
}

/** The fault of a quad that holds something other than a base64 digit. */
function quadFault(src: Uint8Array, i: number): CertificateFault {
  for (let k = i; k < i + 4; k++) {
    const c = src[k]!;
    if (DIGIT[c]! < 0) return c === PAD ? CertificateFault.BASE64_PADDING : CertificateFault.BASE64_CHARACTER;
  }
  return CertificateFault.BASE64_CHARACTER;
}

/**
 * Decode the base64 text `src[start, end)` (one byte per character) into `out` at `at` and
 * check the DER shape. Returns the certificate's length in bytes (its DER is then at
 * `out[at, at + length)`), or a negative CertificateFault. `out` needs room for 3/4 of the
 * text's length, at most CERTIFICATE_MAX_BYTES; on a fault, `out` may hold partial bytes
 * past `at`. Bytes 0x80 and above (non-ASCII) are never base64 characters.
 */
export function decodeCertificateBase64Into(src: Uint8Array, start: number, end: number, out: Uint8Array, at: number): number {
  const length = end - start;
  if (length === 0 || (length & 3) !== 0) return CertificateFault.BASE64_LENGTH;
  // The size is known from the length and the padding: too short or too long fails
  // before any decoding (a stray megabyte in the field costs nothing).
  const size = decodedSize(src, end, length);
  if (size < CERTIFICATE_MIN_BYTES) return CertificateFault.TOO_SHORT;
  if (size > CERTIFICATE_MAX_BYTES) return CertificateFault.TOO_LONG;
  const pad = (length >> 2) * 3 - size;
  const full = pad === 0 ? end : end - 4;
  let o = at;
  let i = start;
  for (; i < full; i += 4) {
    const hi = PAIR[(src[i]! << 8) | src[i + 1]!]!, lo = PAIR[(src[i + 2]! << 8) | src[i + 3]!]!;
    // One test for the four characters: a pair of digits is 0..4095, anything else -1.
    if ((hi | lo) < 0) return quadFault(src, i);
    out[o++] = hi >> 4;
    out[o++] = ((hi & 15) << 4) | (lo >> 8);
    out[o++] = lo & 255;
  }
  if (pad !== 0) {
    const a = DIGIT[src[i]!]!, b = DIGIT[src[i + 1]!]!;
    const c = pad === 1 ? DIGIT[src[i + 2]!]! : 0;
    if ((a | b | c) < 0) return quadFault(src, i);
    if (pad === 2 ? (b & 15) !== 0 : (c & 3) !== 0) return CertificateFault.BASE64_NONCANONICAL;
    out[o++] = (a << 2) | (b >> 4);
    if (pad === 1) out[o++] = ((b & 15) << 4) | (c >> 2);
  }
  const fault = checkCertificateShape(out, at, o);
  return fault === 0 ? size : fault;
}

/** Offset after the length that readLength read last. */
let lengthEnd = 0;

/**
 * The definite length whose first byte is at `b[p]`, with `lengthEnd` set past it;
 * LENGTH_FORM for an indefinite (0x80), reserved (0xff) or truncated one, Infinity
 * for one longer than what is left before `end`.
 */
function readLength(b: Uint8Array, p: number, end: number): number {
  if (p >= end) return CertificateFault.LENGTH_FORM;
  const first = b[p]!;
  if (first < 0x80) {
    lengthEnd = p + 1;
    return first;
  }
  const count = first & 0x7f;
  if (count === 0 || count === 0x7f || p + 1 + count > end) return CertificateFault.LENGTH_FORM;
  let length = 0;
  // Leading zero octets are accepted (minimal encoding is not required).
  for (let k = p + 1; k <= p + count; k++) {
    length = length * 256 + b[k]!;
    if (length > end) length = Infinity;
  }
  lengthEnd = p + 1 + count;
  return length;
}

/**
 * 0 when `b[start, end)` is exactly one DER SEQUENCE whose first element is a SEQUENCE
 * that ends within it; otherwise the fault. The size bounds are not checked here.
 */
export function checkCertificateShape(b: Uint8Array, start: number, end: number): 0 | CertificateFault {
  if (start >= end || b[start] !== SEQUENCE) return CertificateFault.NOT_SEQUENCE;
  const length = readLength(b, start + 1, end);
  if (length < 0) return CertificateFault.LENGTH_FORM;
  if (lengthEnd + length !== end) return CertificateFault.LENGTH_MISMATCH;
  const inner = lengthEnd;
  if (inner >= end || b[inner] !== SEQUENCE) return CertificateFault.INNER_NOT_SEQUENCE;
  const innerLength = readLength(b, inner + 1, end);
  if (innerLength < 0) return CertificateFault.LENGTH_FORM;
  if (lengthEnd + innerLength > end) return CertificateFault.INNER_LENGTH;
  return 0;
}

const MESSAGES: Record<CertificateFault, FieldProblem> = {
  [CertificateFault.BASE64_LENGTH]: { code: 'CERT_BASE64', message: 'attestation certificate must be base64 (RFC 4648) of a length that is a multiple of 4' },
  [CertificateFault.BASE64_CHARACTER]: { code: 'CERT_BASE64', message: 'attestation certificate holds a character outside the base64 alphabet (RFC 4648: A-Z a-z 0-9 + /)' },
  [CertificateFault.BASE64_PADDING]: { code: 'CERT_BASE64', message: "attestation certificate base64 has '=' other than as final padding" },
  [CertificateFault.BASE64_NONCANONICAL]: { code: 'CERT_BASE64', message: 'attestation certificate base64 is not canonical: the bits before the padding must be zero (RFC 4648 §3.5)' },
  [CertificateFault.TOO_SHORT]: { code: 'CERT_SIZE', message: `attestation certificate must be ${CERTIFICATE_MIN_BYTES} to ${CERTIFICATE_MAX_BYTES} bytes; it is shorter` },
  [CertificateFault.TOO_LONG]: { code: 'CERT_SIZE', message: `attestation certificate must be ${CERTIFICATE_MIN_BYTES} to ${CERTIFICATE_MAX_BYTES} bytes; it is longer` },
  [CertificateFault.NOT_SEQUENCE]: { code: 'CERT_DER', message: 'attestation certificate is not DER X.509: it does not start with a SEQUENCE (0x30)' },
  [CertificateFault.LENGTH_FORM]: { code: 'CERT_DER', message: 'attestation certificate is not DER X.509: an indefinite, reserved or truncated length' },
  [CertificateFault.LENGTH_MISMATCH]: { code: 'CERT_DER', message: 'attestation certificate is not DER X.509: its SEQUENCE length does not cover exactly the rest of the bytes' },
  [CertificateFault.INNER_NOT_SEQUENCE]: { code: 'CERT_DER', message: 'attestation certificate is not DER X.509: its first element (the TBSCertificate) is not a SEQUENCE' },
  [CertificateFault.INNER_LENGTH]: { code: 'CERT_DER', message: 'attestation certificate is not DER X.509: the TBSCertificate runs past the certificate' },
};

/** The problem the reader reports for a fault. */
export function certificateProblem(fault: CertificateFault): FieldProblem {
  return MESSAGES[fault];
}

/**
 * The general path's decoder: the DER bytes of an `ATTESTATION_CERT` field (not empty), or
 * why it is not a certificate. For a bad character, the message gives its position.
 */
export function decodeCertificateBase64(text: string): Uint8Array | FieldProblem {
  const n = text.length;
  const src = new Uint8Array(n);
  // A character past ASCII becomes 0, which no base64 digit is (as its UTF-8 bytes are not on the fast path).
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    src[i] = c < 0x80 ? c : 0;
  }
  const out = new Uint8Array(Math.min((n >> 2) * 3, CERTIFICATE_MAX_BYTES));
  const r = decodeCertificateBase64Into(src, 0, n, out, 0);
  if (r >= 0) return r === out.length ? out : out.slice(0, r);
  const problem = certificateProblem(r as CertificateFault);
  if (r === CertificateFault.BASE64_CHARACTER || r === CertificateFault.BASE64_PADDING) {
    const bad = r === CertificateFault.BASE64_PADDING ? text.indexOf('=') : firstNonDigit(src);
    return { code: problem.code, message: `${problem.message} (character ${bad + 1} of ${n})` };
  }
  return problem;
}

function firstNonDigit(src: Uint8Array): number {
  for (let i = 0; i < src.length; i++) if (DIGIT[src[i]!]! < 0 && src[i] !== PAD) return i;
  return -1;
}

/** Canonical base64 of `bytes` (RFC 4648 §4, padded, no line breaks). */
export function encodeCertificateBase64(bytes: Uint8Array): string {
  // Node's encoder writes exactly this form; only decoding needs the strict reader above.
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}
