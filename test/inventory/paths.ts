/**
 * Reading the same vendor file lines both ways, for tests that compare the reader's byte-level
 * fast path with its general path (packed rows, problems).
 */
import { inventory } from '../../sim-applet/index.js';

const enc = new TextEncoder();

/** Through the fast path where it can: each line as bytes, in the middle of a buffer (as in a file chunk). */
export function viaBytes(lines: string[]) {
  const reader = new inventory.VendorFileReader();
  const rows = new inventory.PackedRows();
  for (const line of lines) {
    const b = enc.encode(`#${line}#`);
    reader.pushBytes(b, 1, b.length - 1, rows);
  }
  reader.end();
  return { reader, rows };
}

/** Through the general path only: strings, rows packed afterwards (and kept as rows too). */
export function viaText(lines: string[]) {
  const reader = new inventory.VendorFileReader();
  const rows = new inventory.PackedRows();
  const typed: inventory.InventoryRow[] = [];
  for (const line of lines) {
    const row = reader.push(line);
    if (row) {
      typed.push(row);
      rows.append(row, reader.line);
    }
  }
  reader.end();
  return { reader, rows, typed };
}

/** Packed rows as comparable values. */
export function packed(rows: inventory.PackedRows) {
  return {
    count: rows.count,
    index: [...rows.index.subarray(0, rows.count * inventory.ROW_FIELDS)],
    bytes: Buffer.from(rows.bytes.subarray(0, rows.used)).toString('hex'),
  };
}
