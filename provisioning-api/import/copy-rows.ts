/**
 * Packed inventory rows (sim-applet/inventory/packed-rows.ts) as binary COPY rows, their
 * keysets sealed on the way: each row is written with a hole for its sealed keysets, then
 * the whole batch is sealed into those holes (../secrets/keyset-cipher.ts): no string, no
 * object and no intermediate buffer per row.
 */
// The inventory module alone: the import needs none of the applet's cryptography.
import * as inventory from '../../sim-applet/inventory/index.js';
import { GcmBatchCipher } from '../secrets/gcm-batch.js';
import type { KeysetSealer } from '../secrets/keyset-cipher.js';
import type { BinaryCopyWriter } from '../db/copy-binary.js';

const { ROW_FIELDS, ROW_LINE, ROW_START, ROW_ICCID, ROW_IMSI, ROW_MSISDN, ROW_TAR, ROW_SERIAL, ROW_CERT, ROW_PLAIN } = inventory;

/** What every row of one import shares, in binary form. */
export interface ImportConstants {
  tenant: Buffer;
  importId: Buffer;
  dataKey: Buffer;
}

/** The columns encodeRows writes, in order; `constants` adds tenant_id, import_id, data_key_id. */
export function copyColumns(constants: boolean): string {
  return constants
    ? '(iccid, imsi, msisdn, tar, tenant_id, import_id, import_line, data_key_id, keysets, attestation_serial, attestation_certificate)'
    : '(line, iccid, imsi, msisdn, tar, keysets, attestation_serial, attestation_certificate)';
}

/**
 * The batch as COPY rows: for `sims` (with the import's constants) or for a staging table
 * (without); the columns as copyColumns gives them.
 */
export function encodeRows(out: BinaryCopyWriter, rows: inventory.PackedRows, sealer: KeysetSealer, constants: ImportConstants | null): Buffer {
  const x = rows.index;
  const src = rows.bytes;
  const holes = new Int32Array(rows.count);
  // tenant_id, import_id and data_key_id, with their lengths.
  const fixed = constants === null ? 0 : 16 + 16 + 8 + 12;
  for (let r = 0; r < rows.count; r++) {
    const i = r * ROW_FIELDS;
    let at = x[i + ROW_START]!;
    const iccid = x[i + ROW_ICCID]!, imsi = x[i + ROW_IMSI]!, msisdn = x[i + ROW_MSISDN]!, tar = x[i + ROW_TAR]!;
    const serial = x[i + ROW_SERIAL]!, cert = x[i + ROW_CERT]!;
    const sealed = GcmBatchCipher.sealedLength(x[i + ROW_PLAIN]!);
    out.row(constants === null ? 8 : 11, 11 * 4 + 4 + iccid + imsi + msisdn + tar + sealed + Math.max(0, serial) + Math.max(0, cert) + fixed);
    if (constants === null) out.int4(x[i + ROW_LINE]!);
    out.bytes(src, at, at += iccid).bytes(src, at, at += imsi).bytes(src, at, at += msisdn).bytes(src, at, at += tar);
    if (constants !== null) out.bytes(constants.tenant).bytes(constants.importId).int4(x[i + ROW_LINE]!).bytes(constants.dataKey);
    holes[r] = out.hole(sealed);
    if (serial < 0) out.null();
    else out.bytes(src, at, at += serial);
    if (cert < 0) out.null();
    else out.bytes(src, at, at + cert);
  }
  sealer.sealPacked(rows, out.buffer, holes);
  return out.take();
}
