/**
 * A streaming reader of the card vendor's inventory file, in either of its two forms:
 *
 * - CSV: a header row of column names, then one record per line (RFC 4180).
 * - The vendor "out file": a header block of `*`-comment lines and `Name: value` entries,
 *   then `var_out:` with the `/`-separated column names, then whitespace-separated data lines.
 *
 * The first non-empty line decides: `*` starts an out file, anything else is a CSV header.
 * Column names and their meaning are in ./columns.ts. The reader is fed one physical line
 * at a time and keeps no rows: memory stays flat whatever the file size. Problems are
 * collected with their line numbers (all of them counted, the first `maxProblems` kept);
 * a file with any problem must be rejected whole.
 */
import { decodeCertificateBase64 } from './certificate-der.js';
import { buildLayout, parseAlgorithm, type ColumnLayout, type HeaderDefaults, type Source } from './columns.js';
import { splitCsvLine } from './csv-line.js';
import type { InventoryErrorCode, InventoryProblem } from './errors.js';
import { checkCertificateSerial, checkIccid, checkImsi, checkTar, isHex, normalizeMsisdn, type FieldProblem } from './identifiers.js';
import { keyLengthFits, type KeyAlgorithm } from './key-algorithms.js';
import { CsvRowDecoder, type PackedRows } from './packed-rows.js';

export interface InventoryKeyset {
  /** Key index 1..15 (the keyset number in the column names). */
  index: number;
  kic: string;
  kid: string;
  kik: string;
  kicAlg: KeyAlgorithm;
  kidAlg: KeyAlgorithm;
  /** The KIk's algorithm; the KIc's when the file does not name one. */
  kikAlg: KeyAlgorithm;
}

/** One card of the inventory, in the shape `simchain card new` takes. Hex is lower case. */
export interface InventoryRow {
  iccid: string;
  imsi: string;
  /** E.164 with a leading '+'. */
  msisdn: string;
  tar: string;
  keysets: InventoryKeyset[];
  attestationSerial?: string;
  /** The card's attestation certificate (X.509 DER), from ATTESTATION_CERT when the row gives one. */
  attestationCertificate?: Uint8Array;
}

export type VendorFileFormat = 'csv' | 'out';

export interface VendorFileReaderOptions {
  /** Problems kept with their details; all are counted. Default 100. */
  maxProblems?: number;
}

const VAR_OUT = /^var_out\s*:/i;
const HEADER_ENTRY = /^([A-Za-z][A-Za-z0-9_ ]*?)\s*:\s*(.*)$/;

export class VendorFileReader {
  readonly problems: InventoryProblem[] = [];
  problemCount = 0;
  /** Data rows seen (valid or not). */
  rowCount = 0;
  format: VendorFileFormat | null = null;
  /** Out-file header entries that are not interpreted (Customer, Type, Profile, Batch...). */
  readonly metadata: Record<string, string> = {};
  private lineNumber = 0;
  private layout: ColumnLayout | null = null;
  private layoutFailed = false;
  private quantity: { value: number; line: number } | null = null;
  private readonly defaults: HeaderDefaults = { algorithms: new Map() };
  private readonly maxProblems: number;
  /** The fast path for this file's CSV data lines, once its header is read. */
  private fast: CsvRowDecoder | null = null;
  private readonly text = new TextDecoder('utf-8', { ignoreBOM: true });

  constructor(options: VendorFileReaderOptions = {}) {
    this.maxProblems = options.maxProblems ?? 100;
  }

  /** Line number of the last line fed (1-based). */
  get line(): number {
    return this.lineNumber;
  }

  /** Secret columns that were present and dropped unread. */
  get droppedColumns(): readonly string[] {
    return this.layout?.dropped ?? [];
  }

  /** Where each value is on a data line, once the header is read. */
  get columnLayout(): ColumnLayout | null {
    return this.layout;
  }

  get columns(): readonly string[] {
    return this.layout?.names ?? [];
  }

  /**
   * Feed the next physical line (without its line terminator; a trailing CR is ignored).
   * Returns the row when the line is a valid data row, null otherwise.
   */
  push(raw: string): InventoryRow | null {
    this.lineNumber++;
    const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (this.layout !== null) return this.data(text);
    if (this.layoutFailed) {
      // The header was refused: count data lines so that the report stays truthful.
      if (text.trim() !== '' && !(this.format === 'out' && text.startsWith('*'))) this.rowCount++;
      return null;
    }
    const trimmed = text.trim();
    if (trimmed === '') return null;
    if (this.format === null) this.format = trimmed.startsWith('*') ? 'out' : 'csv';
    if (this.format === 'csv') {
      const names = splitCsvLine(trimmed.replace(/^\uFEFF/, ''));
      if (names === null) this.problem('HEADER_MALFORMED', 'the CSV header row has a malformed quote');
      else this.setLayout(names);
      return null;
    }
    if (trimmed.startsWith('*')) return null;
    if (VAR_OUT.test(trimmed)) {
      const list = trimmed.replace(VAR_OUT, '').trim();
      if (list === '') this.problem('HEADER_MALFORMED', 'var_out: lists no columns');
      else this.setLayout(list.split('/'));
      return null;
    }
    const entry = HEADER_ENTRY.exec(trimmed);
    if (!entry) {
      this.problem('HEADER_MALFORMED', 'a header line must be "Name: value", a *comment, or var_out:');
      return null;
    }
    this.headerEntry(entry[1]!.trim(), entry[2]!.trim());
    return null;
  }

  /**
   * Feed the next physical line as bytes (`buf[start, end)`, without its line feed): a valid
   * row is packed into `out` (./packed-rows.ts). Clean CSV data lines are judged on their
   * bytes; every other line goes through `push` as UTF-8 text, with the same outcome.
   */
  pushBytes(buf: Uint8Array, start: number, end: number, out: PackedRows): void {
    if (this.fast !== null && this.fast.decode(buf, start, end, this.lineNumber + 1, out)) {
      this.lineNumber++;
      this.rowCount++;
      return;
    }
    const row = this.push(this.text.decode(buf.subarray(start, end)));
    if (row !== null) out.append(row, this.lineNumber);
  }

  /** Call after the last line: checks what only the whole file can tell. */
  end(): void {
    if (this.layout === null && !this.layoutFailed) {
      this.problem('HEADER_MISSING', this.format === 'out' ? 'the out file has no var_out: line' : 'the file has no header row');
      return;
    }
    if (this.layoutFailed) return;
    if (this.rowCount === 0) this.problem('NO_ROWS', 'the file has no data rows');
    if (this.quantity !== null && this.quantity.value !== this.rowCount) {
      this.problemAt(this.quantity.line, 'QUANTITY_MISMATCH', `the header says Quantity ${this.quantity.value}, the file has ${this.rowCount} rows`);
    }
  }

  private setLayout(names: string[]): void {
    const found: InventoryProblem[] = [];
    this.layout = buildLayout(names, this.defaults, this.lineNumber, found);
    for (const p of found) this.record(p);
    if (this.layout === null) this.layoutFailed = true;
    else if (this.format === 'csv') this.fast = new CsvRowDecoder(this.layout);
  }

  private headerEntry(name: string, value: string): void {
    const key = name.toUpperCase().replace(/\s+/g, '_');
    if (key === 'TAR') {
      const p = checkTar(value);
      if (p) this.problem(p.code, p.message, 'TAR');
      else this.defaults.tar = value.toLowerCase();
    } else if (/^KI[CDK]([1-9]|1[0-5])?_ALG$/.test(key)) {
      if (parseAlgorithm(value) === null) this.problem('UNKNOWN_ALGORITHM', `${key} must be des, 3des2, 3des3 or aes`, key);
      else this.defaults.algorithms.set(key, value);
    } else if (key === 'QUANTITY') {
      if (!/^\d+$/.test(value)) this.problem('HEADER_MALFORMED', 'Quantity must be a whole number', 'Quantity');
      else this.quantity = { value: Number(value), line: this.lineNumber };
    } else {
      this.metadata[name] = value;
    }
  }

  private data(text: string): InventoryRow | null {
    const layout = this.layout!;
    const trimmed = text.trim();
    if (trimmed === '' || (this.format === 'out' && trimmed.startsWith('*'))) return null;
    this.rowCount++;
    const fields = this.format === 'csv' ? splitCsvLine(trimmed) : trimmed.split(/\s+/);
    if (fields === null) {
      this.problem('FIELD_COUNT', 'malformed CSV quote');
      return null;
    }
    if (fields.length !== layout.width) {
      this.problem('FIELD_COUNT', `expected ${layout.width} fields, found ${fields.length}`);
      return null;
    }
    return this.row(layout, fields);
  }

  private row(layout: ColumnLayout, fields: string[]): InventoryRow | null {
    const before = this.problemCount;
    const iccid = fields[layout.iccid]!;
    this.check(checkIccid(iccid), 'ICCID');
    const imsi = fields[layout.imsi]!;
    this.check(checkImsi(imsi), 'IMSI');
    const msisdn = normalizeMsisdn(fields[layout.msisdn]!);
    if (typeof msisdn !== 'string') this.check(msisdn, 'MSISDN');
    let tar: string;
    if ('column' in layout.tar) {
      tar = fields[layout.tar.column]!;
      this.check(checkTar(tar), 'TAR');
      tar = tar.toLowerCase();
    } else tar = layout.tar.fixed;
    const keysets: InventoryKeyset[] = [];
    for (const ks of layout.keysets) {
      const kic = fields[ks.kic]!;
      const kid = fields[ks.kid]!;
      const kik = fields[ks.kik]!;
      const given = (kic !== '' ? 1 : 0) + (kid !== '' ? 1 : 0) + (kik !== '' ? 1 : 0);
      if (given === 0) continue;
      if (given < 3) {
        this.problem('KEYSET_INCOMPLETE', `keyset ${ks.index} must give KIc, KID and KIk together`, `KIC${ks.index}`);
        continue;
      }
      const kicAlg = this.algorithm(fields, ks.kicAlg, `KIC${ks.index}_ALG`);
      const kidAlg = this.algorithm(fields, ks.kidAlg, `KID${ks.index}_ALG`);
      // Without its own algorithm the KIk ciphers like the KIc (as the card model has it).
      const kikAlg = ks.kikAlg === null ? kicAlg : this.algorithm(fields, ks.kikAlg, `KIK${ks.index}_ALG`);
      this.key(kic, kicAlg, `KIC${ks.index}`);
      this.key(kid, kidAlg, `KID${ks.index}`);
      this.key(kik, kikAlg, `KIK${ks.index}`);
      if (kicAlg !== null && kidAlg !== null && kikAlg !== null) {
        keysets.push({ index: ks.index, kic: kic.toLowerCase(), kid: kid.toLowerCase(), kik: kik.toLowerCase(), kicAlg, kidAlg, kikAlg });
      }
    }
    if (keysets.length === 0 && this.problemCount === before) this.problem('NO_KEYSET', 'the row has no keyset', 'KIC1');
    let attestationSerial: string | undefined;
    if (layout.attestationSerial !== null) {
      const serial = fields[layout.attestationSerial]!;
      if (serial !== '') {
        this.check(checkCertificateSerial(serial), 'ATTESTATION_SN');
        attestationSerial = serial.toLowerCase();
      }
    }
    let attestationCertificate: Uint8Array | undefined;
    if (layout.attestationCertificate !== null) {
      const text = fields[layout.attestationCertificate]!;
      if (text !== '') {
        const der = decodeCertificateBase64(text);
        if (der instanceof Uint8Array) attestationCertificate = der;
        else this.check(der, 'ATTESTATION_CERT');
      }
    }
    if (this.problemCount !== before) return null;
    const row: InventoryRow = { iccid, imsi, msisdn: msisdn as string, tar, keysets };
    if (attestationSerial !== undefined) row.attestationSerial = attestationSerial;
    if (attestationCertificate !== undefined) row.attestationCertificate = attestationCertificate;
    return row;
  }

  private algorithm(fields: string[], source: Source<KeyAlgorithm>, column: string): KeyAlgorithm | null {
    if ('fixed' in source) return source.fixed;
    const alg = parseAlgorithm(fields[source.column]!);
    if (alg === null) this.problem('UNKNOWN_ALGORITHM', `${column} must be des, 3des2, 3des3 or aes`, column);
    return alg;
  }

  private key(hex: string, alg: KeyAlgorithm | null, column: string): void {
    if (!isHex(hex)) {
      this.problem('KEY_FORMAT', `${column} must be hex`, column);
    } else if (alg !== null && !keyLengthFits(alg, hex.length / 2)) {
      this.problem('KEY_LENGTH', `${column} is ${hex.length / 2} bytes, which does not fit ${alg}`, column);
    }
  }

  private check(p: FieldProblem | null, column: string): void {
    if (p) this.problem(p.code, p.message, column);
  }

  private problem(code: InventoryErrorCode, message: string, column?: string): void {
    this.problemAt(this.lineNumber, code, message, column);
  }

  private problemAt(line: number, code: InventoryErrorCode, message: string, column?: string): void {
    this.record(column === undefined ? { line, code, message } : { line, column, code, message });
  }

  private record(p: InventoryProblem): void {
    this.problemCount++;
    if (this.problems.length < this.maxProblems) this.problems.push(p);
  }
}
