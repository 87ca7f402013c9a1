/**
 * Valid inventory rows packed into bytes, and the fast way to them from a CSV file's bytes.
 *
 * An import reads millions of rows. As strings (a string per line, an array of field
 * strings, a row object, hex decoded again for sealing, ASCII encoded again for COPY) each
 * row cost the importer about 5 µs of CPU and most of its garbage (profiled, README
 * benchmark `sim-import`). Here a clean CSV data line is checked byte by byte, in one pass,
 * and what the import needs is written straight into one buffer: the ICCID, IMSI, MSISDN
 * (E.164 with '+'), TAR and attestation serial as ASCII (hex lower case), the attestation
 * certificate's DER bytes (decoded from the line's base64, ./certificate-der.ts), and the
 * keysets' plaintext for sealing (./keyset-plaintext.ts).
 *
 * The fast path takes only lines it can judge with certainty: no quote anywhere, every field
 * it reads made of exactly what that field allows (digits, hex, base64, an algorithm's name), the
 * columns it does not read (dropped secrets) as they come. Anything else (a quoted or padded
 * field, an invalid value) goes to the reader's general path (./vendor-file.ts), which
 * accepts what the specification accepts and names each problem; its valid rows are packed
 * the same way. The tests check that both paths give the same rows for the same lines.
 */
import { decodeCertificateBase64Into } from './certificate-der.js';
import type { ColumnLayout, Source } from './columns.js';
import { KEY_ALGORITHMS, KEY_LENGTHS, type KeyAlgorithm } from './key-algorithms.js';
import { encodedKeysetsLength, encodeKeysetsInto, HEX_NIBBLE, keyAlgorithmCode } from './keyset-plaintext.js';
import type { InventoryRow } from './vendor-file.js';

/**
 * Per row, in `index` at row * ROW_FIELDS: line number, start of the row's bytes, then the
 * lengths of its ICCID, IMSI, MSISDN, TAR, attestation serial (-1: none), attestation
 * certificate DER (-1: none) and keyset plaintext, which follow each other in `bytes` in
 * that order (a -1 field takes no bytes).
 */
export const ROW_FIELDS = 9;
export const ROW_LINE = 0;
export const ROW_START = 1;
export const ROW_ICCID = 2;
export const ROW_IMSI = 3;
export const ROW_MSISDN = 4;
export const ROW_TAR = 5;
export const ROW_SERIAL = 6;
export const ROW_CERT = 7;
export const ROW_PLAIN = 8;

/** A batch of valid rows, reused from batch to batch (`clear`). */
export class PackedRows {
  bytes = new Uint8Array(1 << 20);
  /** Bytes of `bytes` in use. */
  used = 0;
  index = new Int32Array(ROW_FIELDS * 4096);
  count = 0;

  clear(): void {
    // The keyset plaintexts are secrets: they do not stay in the buffer between batches.
    this.bytes.fill(0, 0, this.used);
    this.used = 0;
    this.count = 0;
  }

  /** Room for `n` more bytes and one more row. */
  reserve(n: number): void {
    if (this.used + n > this.bytes.length) {
      const next = new Uint8Array(Math.max(this.bytes.length * 2, this.used + n));
      next.set(this.bytes.subarray(0, this.used));
      this.bytes.fill(0, 0, this.used);
      this.bytes = next;
    }
    if ((this.count + 1) * ROW_FIELDS > this.index.length) {
      const next = new Int32Array(this.index.length * 2);
      next.set(this.index);
      this.index = next;
    }
  }

  /** Record the row whose bytes were written from `start` to `used`. */
  commit(line: number, start: number, iccid: number, imsi: number, msisdn: number, tar: number, serial: number, cert: number, plain: number): void {
    const i = this.count * ROW_FIELDS;
    const x = this.index;
    x[i] = line; x[i + 1] = start; x[i + 2] = iccid; x[i + 3] = imsi; x[i + 4] = msisdn; x[i + 5] = tar; x[i + 6] = serial; x[i + 7] = cert; x[i + 8] = plain;
    this.count++;
  }

  /** A valid row from the reader's general path (its strings are ASCII: digits, '+', hex). */
  append(row: InventoryRow, line: number): void {
    const serial = row.attestationSerial;
    const cert = row.attestationCertificate;
    const plain = encodedKeysetsLength(row.keysets);
    this.reserve(row.iccid.length + row.imsi.length + row.msisdn.length + row.tar.length + (serial?.length ?? 0) + (cert?.length ?? 0) + plain);
    const start = this.used;
    let at = this.ascii(row.iccid, start);
    at = this.ascii(row.imsi, at);
    at = this.ascii(row.msisdn, at);
    at = this.ascii(row.tar, at);
    if (serial !== undefined) at = this.ascii(serial, at);
    if (cert !== undefined) {
      this.bytes.set(cert, at);
      at += cert.length;
    }
    this.used = encodeKeysetsInto(row.keysets, this.bytes, at);
    this.commit(line, start, row.iccid.length, row.imsi.length, row.msisdn.length, row.tar.length, serial?.length ?? -1, cert?.length ?? -1, plain);
  }

  /** Row r's field as a string (for reports and tests; the import itself copies bytes). */
  text(r: number, field: typeof ROW_ICCID | typeof ROW_IMSI | typeof ROW_MSISDN | typeof ROW_TAR | typeof ROW_SERIAL): string | null {
    const i = r * ROW_FIELDS;
    let at = this.index[i + ROW_START]!;
    for (let f = ROW_ICCID; f < field; f++) at += Math.max(0, this.index[i + f]!);
    const n = this.index[i + field]!;
    if (n < 0) return null;
    let s = '';
    for (let k = 0; k < n; k++) s += String.fromCharCode(this.bytes[at + k]!);
    return s;
  }

  /** Row r's attestation certificate (DER), a copy; null when the row has none. */
  certificate(r: number): Uint8Array | null {
    const i = r * ROW_FIELDS;
    const x = this.index;
    const n = x[i + ROW_CERT]!;
    if (n < 0) return null;
    const at = x[i + ROW_START]! + x[i + ROW_ICCID]! + x[i + ROW_IMSI]! + x[i + ROW_MSISDN]! + x[i + ROW_TAR]! + Math.max(0, x[i + ROW_SERIAL]!);
    return this.bytes.slice(at, at + n);
  }

  /** Offset of row r's keyset plaintext in `bytes`. */
  plainStart(r: number): number {
    const i = r * ROW_FIELDS;
    const x = this.index;
    return x[i + ROW_START]! + x[i + ROW_ICCID]! + x[i + ROW_IMSI]! + x[i + ROW_MSISDN]! + x[i + ROW_TAR]! + Math.max(0, x[i + ROW_SERIAL]!) + Math.max(0, x[i + ROW_CERT]!);
  }

  private ascii(s: string, at: number): number {
    const b = this.bytes;
    for (let k = 0; k < s.length; k++) {
      const c = s.charCodeAt(k);
      if (c > 0x7f) throw new TypeError('an inventory identifier is not ASCII');
      b[at++] = c;
    }
    return at;
  }
}

const ZERO = 48;
const LOWER = new Uint8Array(256);
for (let c = 0; c < 256; c++) LOWER[c] = c >= 65 && c <= 90 ? c + 32 : c;

interface AlgorithmSource {
  /** Column, or -1 for a fixed algorithm. */
  column: number;
  fixed: number;
}

interface FastKeyset {
  index: number;
  kic: number;
  kid: number;
  kik: number;
  kicAlg: AlgorithmSource;
  kidAlg: AlgorithmSource;
  /** null: the KIc's. */
  kikAlg: AlgorithmSource | null;
}

/** Algorithm names as bytes, lower case, by code. */
const ALGORITHM_NAMES = KEY_ALGORITHMS.map((a) => Array.from(a, (c) => c.charCodeAt(0)));
/** Whether a key of n bytes fits the algorithm with this code. */
const FITS = KEY_ALGORITHMS.map((a) => {
  const ok = new Uint8Array(33);
  for (const n of KEY_LENGTHS[a]) ok[n] = 1;
  return ok;
});

function algorithmSource(source: Source<KeyAlgorithm>): AlgorithmSource {
  return 'column' in source ? { column: source.column, fixed: -1 } : { column: -1, fixed: keyAlgorithmCode(source.fixed) };
}

/** The fast path for the data lines of one CSV layout. */
export class CsvRowDecoder {
  readonly #width: number;
  readonly #iccid: number;
  readonly #imsi: number;
  readonly #msisdn: number;
  readonly #tarColumn: number;
  readonly #tarFixed: Uint8Array;
  readonly #serial: number;
  readonly #cert: number;
  readonly #keysets: FastKeyset[];
  readonly #starts: Int32Array;
  readonly #ends: Int32Array;

  constructor(layout: ColumnLayout) {
    this.#width = layout.width;
    this.#iccid = layout.iccid;
    this.#imsi = layout.imsi;
    this.#msisdn = layout.msisdn;
    this.#tarColumn = 'column' in layout.tar ? layout.tar.column : -1;
    this.#tarFixed = Uint8Array.from('fixed' in layout.tar ? layout.tar.fixed : '', (c) => c.charCodeAt(0));
    this.#serial = layout.attestationSerial ?? -1;
    this.#cert = layout.attestationCertificate ?? -1;
    this.#keysets = layout.keysets.map((k) => ({
      index: k.index, kic: k.kic, kid: k.kid, kik: k.kik,
      kicAlg: algorithmSource(k.kicAlg), kidAlg: algorithmSource(k.kidAlg), kikAlg: k.kikAlg === null ? null : algorithmSource(k.kikAlg),
    }));
    this.#starts = new Int32Array(layout.width);
    this.#ends = new Int32Array(layout.width);
  }

  /**
   * Check the data line `buf[start, end)` (no line feed; a trailing CR is ignored) and, when
   * it is a clean valid row, pack it into `out` and return true. False: nothing was written,
   * and the line must go through the reader's general path.
   */
  decode(buf: Uint8Array, start: number, end: number, line: number, out: PackedRows): boolean {
    if (end > start && buf[end - 1] === 13) end--;
    if (end === start) return false;
    const starts = this.#starts, ends = this.#ends, width = this.#width;
    // Field boundaries: the separators found natively (indexOf is memchr on a Buffer).
    // Every checked field below takes only digits, hex or an algorithm's name, so a space,
    // a quote or a non-ASCII byte there fails its own check. In the others (dropped or
    // ignored columns) only a quote changes what the general path makes of the line.
    if (this.#quoteIn(buf, start, end)) return false;
    let p = start;
    for (let f = 0; f < width - 1; f++) {
      const comma = buf.indexOf(44, p);
      if (comma === -1 || comma >= end) return false;
      starts[f] = p;
      ends[f] = comma;
      p = comma + 1;
    }
    const last = buf.indexOf(44, p);
    if (last !== -1 && last < end) return false;
    starts[width - 1] = p;
    ends[width - 1] = end;

    // The row is never longer than its line, plus the '+', the keyset count and a default TAR:
    // every other field takes at most its text's bytes (hex keys and base64 certificate
    // fewer: 1/2 and 3/4; a keyset's 7 bytes of index, algorithms and key lengths are far
    // fewer than the 48 or more hex digits its keys take on the line).
    out.reserve(end - start + 16 + this.#tarFixed.length);
    const o = out.bytes;
    const rowStart = out.used;
    let at = rowStart;

    // ICCID: 19 or 20 digits, 89..., Luhn check digit (E.118).
    let s = starts[this.#iccid]!, e = ends[this.#iccid]!;
    const iccid = e - s;
    if (iccid < 19 || iccid > 20 || buf[s] !== 56 || buf[s + 1] !== 57) return false;
    let sum = 0;
    let double = false;
    for (let i = e - 1; i >= s; i--) {
      let d = buf[i]! - ZERO;
      if (d < 0 || d > 9) return false;
      if (double) {
        d *= 2;
        if (d > 9) d -= 9;
      }
      sum += d;
      double = !double;
    }
    if (sum % 10 !== 0) return false;
    for (let i = s; i < e; i++) o[at++] = buf[i]!;

    // IMSI: 15 digits.
    s = starts[this.#imsi]!; e = ends[this.#imsi]!;
    if (e - s !== 15) return false;
    for (let i = s; i < e; i++) {
      const c = buf[i]!;
      if (c < 48 || c > 57) return false;
      o[at++] = c;
    }

    // MSISDN: optional '+', 8..15 digits, no leading 0; written with its '+'.
    s = starts[this.#msisdn]!; e = ends[this.#msisdn]!;
    if (buf[s] === 43) s++;
    if (e - s < 8 || e - s > 15 || buf[s] === 48) return false;
    o[at++] = 43;
    for (let i = s; i < e; i++) {
      const c = buf[i]!;
      if (c < 48 || c > 57) return false;
      o[at++] = c;
    }
    const msisdn = e - s + 1;

    // TAR: 6 hex digits, lower case; or the file's default.
    let tar: number;
    if (this.#tarColumn >= 0) {
      s = starts[this.#tarColumn]!; e = ends[this.#tarColumn]!;
      if (e - s !== 6) return false;
      for (let i = s; i < e; i++) {
        const c = buf[i]!;
        if (HEX_NIBBLE[c]! < 0) return false;
        o[at++] = LOWER[c]!;
      }
      tar = 6;
    } else {
      o.set(this.#tarFixed, at);
      at += this.#tarFixed.length;
      tar = this.#tarFixed.length;
    }

    // Attestation certificate serial: empty, or 1..20 bytes of hex, not zero.
    let serial = -1;
    if (this.#serial >= 0) {
      s = starts[this.#serial]!; e = ends[this.#serial]!;
      if (e > s) {
        if (e - s > 40 || (e - s) % 2 !== 0) return false;
        let nonZero = false;
        for (let i = s; i < e; i++) {
          const c = buf[i]!;
          if (HEX_NIBBLE[c]! < 0) return false;
          if (c !== 48) nonZero = true;
          o[at++] = LOWER[c]!;
        }
        if (!nonZero) return false;
        serial = e - s;
      }
    }

    // Attestation certificate: empty, or canonical base64 of a DER certificate's shape,
    // decoded straight into the row (the same decoder as the general path's).
    let cert = -1;
    if (this.#cert >= 0) {
      s = starts[this.#cert]!; e = ends[this.#cert]!;
      if (e > s) {
        cert = decodeCertificateBase64Into(buf, s, e, o, at);
        if (cert < 0) return false;
        at += cert;
      }
    }

    // Keysets, as their plaintext: count, then index, algorithms and keys of each.
    const plainStart = at;
    let count = 0;
    at++;
    for (const ks of this.#keysets) {
      const given = (ends[ks.kic]! > starts[ks.kic]! ? 1 : 0) + (ends[ks.kid]! > starts[ks.kid]! ? 1 : 0) + (ends[ks.kik]! > starts[ks.kik]! ? 1 : 0);
      if (given === 0) continue;
      if (given < 3) return false;
      const kicAlg = this.#algorithm(buf, ks.kicAlg);
      const kidAlg = this.#algorithm(buf, ks.kidAlg);
      const kikAlg = ks.kikAlg === null ? kicAlg : this.#algorithm(buf, ks.kikAlg);
      if (kicAlg < 0 || kidAlg < 0 || kikAlg < 0) return false;
      o[at++] = ks.index;
      o[at++] = kicAlg;
      o[at++] = kidAlg;
      o[at++] = kikAlg;
      at = this.#key(buf, starts[ks.kic]!, ends[ks.kic]!, kicAlg, o, at);
      if (at < 0) return false;
      at = this.#key(buf, starts[ks.kid]!, ends[ks.kid]!, kidAlg, o, at);
      if (at < 0) return false;
      at = this.#key(buf, starts[ks.kik]!, ends[ks.kik]!, kikAlg, o, at);
      if (at < 0) return false;
      count++;
    }
    if (count === 0) return false;
    o[plainStart] = count;

    out.used = at;
    out.commit(line, rowStart, iccid, 15, msisdn, tar, serial, cert, at - plainStart);
    return true;
  }

  /** The buffer last searched for a quote, and the next quote in it from there (-1: none). */
  #quoteBuf: Uint8Array | null = null;
  #quoteFrom = 0;
  #quoteAt = -1;

  /** Whether buf[start, end) holds a quote: one search per buffer (and per quote), not per line. */
  #quoteIn(buf: Uint8Array, start: number, end: number): boolean {
    if (buf !== this.#quoteBuf || start < this.#quoteFrom || (this.#quoteAt !== -1 && this.#quoteAt < start)) {
      this.#quoteBuf = buf;
      this.#quoteFrom = start;
      this.#quoteAt = buf.indexOf(34, start);
    }
    return this.#quoteAt !== -1 && this.#quoteAt < end;
  }

  /** The algorithm's code, or -1 for a name the fast path does not take. */
  #algorithm(buf: Uint8Array, source: AlgorithmSource): number {
    if (source.column < 0) return source.fixed;
    const s = this.#starts[source.column]!, n = this.#ends[source.column]! - s;
    for (let code = 0; code < ALGORITHM_NAMES.length; code++) {
      const name = ALGORITHM_NAMES[code]!;
      if (name.length !== n) continue;
      let k = 0;
      while (k < n && LOWER[buf[s + k]!] === name[k]) k++;
      if (k === n) return code;
    }
    return -1;
  }

  /** length || bytes of a hex key that fits its algorithm, at `at`; -1 if it does not. */
  #key(buf: Uint8Array, s: number, e: number, algorithm: number, o: Uint8Array, at: number): number {
    const hex = e - s;
    if (hex % 2 !== 0 || hex > 64 || FITS[algorithm]![hex >> 1] !== 1) return -1;
    o[at++] = hex >> 1;
    for (let i = s; i < e; i += 2) {
      const hi = HEX_NIBBLE[buf[i]!]!, lo = HEX_NIBBLE[buf[i + 1]!]!;
      if (hi < 0 || lo < 0) return -1;
      o[at++] = (hi << 4) | lo;
    }
    return at;
  }
}
