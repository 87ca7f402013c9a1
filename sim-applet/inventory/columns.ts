/**
 * The column grammar of a vendor inventory file, shared by both of its forms (CSV with a
 * header row, and the vendor "out file" with a `var_out:` list). Names are case-insensitive.
 *
 * | column | meaning |
 * | --- | --- |
 * | `ICCID`, `IMSI`, `MSISDN` | identifiers (required) |
 * | `TAR` | the simchain applet's TAR on this card, 6 hex digits (required as a column, or as an out-file header default) |
 * | `KICn`, `KIDn`, `KIKn` | keyset n's keys in hex; n (1..15) is the keyset's key index (TS 102 225 KIc/KID high nibble) |
 * | `KICn_ALG`, `KIDn_ALG` | keyset n's algorithms: des, 3des2, 3des3, aes (required per keyset: a column, or an out-file header default `KICn_ALG:`/`KIC_ALG:`) |
 * | `KIKn_ALG` | keyset n's KIk algorithm (optional; default: the KIc algorithm, as the card model has it) |
 * | `ATTESTATION_SN` | serial of the card's attestation certificate, hex (optional) |
 * | `ATTESTATION_CERT` | the card's attestation certificate: X.509 DER as standard base64 (RFC 4648 §4, padded, no line breaks), 64 to 2048 bytes, as GSMA SGP.02's EIS carries eUICC certificates; empty: none for that row (optional; ./certificate-der.ts) |
 * | `KI`, `OPC`, `OP` | network authentication secrets: accepted in the file, dropped unread, never stored |
 * | `PIN1`, `PUK1`, `PIN2`, `PUK2`, `ADM1`..`ADM4` | card holder and administrative codes: dropped unread, never stored |
 * | `ACC` | access control class: ignored |
 *
 * Key lengths must fit their algorithms. Any other column is refused. Every value is free of
 * commas and spaces (base64 included), so the same names serve both forms.
 */
import { isKeyAlgorithm, type KeyAlgorithm } from './key-algorithms.js';
import type { InventoryProblem } from './errors.js';

/** Secrets that the backend has no business holding (DESIGN.md 3.1): dropped unread. */
export const DROPPED_SECRET_COLUMNS: readonly string[] = Object.freeze([
  'KI', 'OPC', 'OP', 'PIN1', 'PUK1', 'PIN2', 'PUK2', 'ADM1', 'ADM2', 'ADM3', 'ADM4',
]);
export const IGNORED_COLUMNS: readonly string[] = Object.freeze(['ACC']);

const KEY_COLUMN = /^(KIC|KID|KIK)([1-9]|1[0-5])$/;
const ALG_COLUMN = /^(KIC|KID|KIK)([1-9]|1[0-5])_ALG$/;

/** Where a value comes from: a column position in the data line, or a fixed file default. */
export type Source<T> = { column: number } | { fixed: T };

export interface KeysetLayout {
  index: number;
  kic: number;
  kid: number;
  kik: number;
  kicAlg: Source<KeyAlgorithm>;
  kidAlg: Source<KeyAlgorithm>;
  /** null: the KIc algorithm. */
  kikAlg: Source<KeyAlgorithm> | null;
}

export interface ColumnLayout {
  /** Number of fields on a data line. */
  width: number;
  names: readonly string[];
  iccid: number;
  imsi: number;
  msisdn: number;
  tar: Source<string>;
  attestationSerial: number | null;
  /** Column of ATTESTATION_CERT, or null when the file has none. */
  attestationCertificate: number | null;
  keysets: readonly KeysetLayout[];
  /** Secret columns present in the file and dropped. */
  dropped: readonly string[];
}

/** File-wide defaults from an out-file header: `TAR`, `KIC_ALG`, `KID_ALG`, `KIK_ALG`, `KICn_ALG`, `KIDn_ALG`, `KIKn_ALG`. */
export interface HeaderDefaults {
  tar?: string;
  /** Keys `KIC_ALG`, `KID_ALG`, `KIC1_ALG`, ... upper-cased, values as written. */
  algorithms: Map<string, string>;
}

export function parseAlgorithm(value: string): KeyAlgorithm | null {
  const v = value.trim().toLowerCase();
  return isKeyAlgorithm(v) ? v : null;
}

/**
 * Build the layout from a header's column names. Problems are appended to `problems`;
 * the layout is null when any was found.
 */
export function buildLayout(
  rawNames: readonly string[],
  defaults: HeaderDefaults,
  line: number,
  problems: InventoryProblem[],
): ColumnLayout | null {
  const names = rawNames.map((n) => n.trim().toUpperCase());
  const before = problems.length;
  const position = new Map<string, number>();
  const keyIndexes = new Set<number>();
  const dropped: string[] = [];
  names.forEach((name, i) => {
    if (position.has(name)) {
      problems.push({ line, column: name, code: 'DUPLICATE_COLUMN', message: `column ${name} appears twice` });
      return;
    }
    position.set(name, i);
    const key = KEY_COLUMN.exec(name) ?? ALG_COLUMN.exec(name);
    if (key) keyIndexes.add(Number(key[2]));
    else if (DROPPED_SECRET_COLUMNS.includes(name)) dropped.push(name);
    else if (!['ICCID', 'IMSI', 'MSISDN', 'TAR', 'ATTESTATION_SN', 'ATTESTATION_CERT', ...IGNORED_COLUMNS].includes(name)) {
      problems.push({ line, column: name, code: 'UNKNOWN_COLUMN', message: `column ${name} is not part of the vendor file format` });
    }
  });
  const required = (name: string): number => {
    const at = position.get(name);
    if (at === undefined) problems.push({ line, column: name, code: 'MISSING_COLUMN', message: `column ${name} is required` });
    return at ?? -1;
  };
  const iccid = required('ICCID');
  const imsi = required('IMSI');
  const msisdn = required('MSISDN');
  let tar: Source<string> = { fixed: '' };
  const tarColumn = position.get('TAR');
  if (tarColumn !== undefined && defaults.tar !== undefined) {
    problems.push({ line, column: 'TAR', code: 'DUPLICATE_COLUMN', message: 'TAR is given both as a column and as a header default' });
  } else if (tarColumn !== undefined) tar = { column: tarColumn };
  else if (defaults.tar !== undefined) tar = { fixed: defaults.tar };
  else problems.push({ line, column: 'TAR', code: 'MISSING_COLUMN', message: 'TAR is required, as a column or a header default' });

  const algorithm = (prefix: 'KIC' | 'KID' | 'KIK', index: number, optional = false): Source<KeyAlgorithm> | null => {
    const name = `${prefix}${index}_ALG`;
    const column = position.get(name);
    const fixed = defaults.algorithms.get(name) ?? defaults.algorithms.get(`${prefix}_ALG`);
    if (column !== undefined && defaults.algorithms.has(name)) {
      problems.push({ line, column: name, code: 'DUPLICATE_COLUMN', message: `${name} is given both as a column and as a header default` });
    }
    if (column !== undefined) return { column };
    if (fixed === undefined && optional) return null;
    if (fixed === undefined) {
      problems.push({ line, column: name, code: 'MISSING_COLUMN', message: `keyset ${index} needs its ${prefix} algorithm: a ${name} column or header default` });
      return { fixed: 'aes' };
    }
    const alg = parseAlgorithm(fixed);
    if (alg === null) {
      problems.push({ line, column: name, code: 'UNKNOWN_ALGORITHM', message: `${name} must be des, 3des2, 3des3 or aes` });
      return { fixed: 'aes' };
    }
    return { fixed: alg };
  };
  const keysets: KeysetLayout[] = [...keyIndexes].sort((a, b) => a - b).map((index) => ({
    index,
    kic: required(`KIC${index}`),
    kid: required(`KID${index}`),
    kik: required(`KIK${index}`),
    kicAlg: algorithm('KIC', index)!,
    kidAlg: algorithm('KID', index)!,
    kikAlg: algorithm('KIK', index, true),
  }));
  if (keysets.length === 0) {
    problems.push({ line, column: 'KIC1', code: 'MISSING_COLUMN', message: 'at least one keyset (KICn, KIDn, KIKn) is required' });
  }
  if (problems.length > before) return null;
  return {
    width: names.length,
    names,
    iccid,
    imsi,
    msisdn,
    tar,
    attestationSerial: position.get('ATTESTATION_SN') ?? null,
    attestationCertificate: position.get('ATTESTATION_CERT') ?? null,
    keysets,
    dropped,
  };
}
