/**
 * Importing a file straight into the inventory (`simchain import FILE`): one transaction
 * that records the import, then streams the file through the vendor-file reader, seals each
 * row's keysets and COPYs the rows into `sims` itself, then commits. Everything the staged
 * path (./receive.ts, ./load.ts) guarantees holds, with no staging table in between:
 *
 * - A bad row anywhere: the COPY is given up, the transaction rolls back, the rest of the
 *   file is still read for the report; nothing is written.
 * - Duplicates (in the file, against the inventory, against an import running meanwhile):
 *   the unique constraints of `sims` (ICCID, IMSI, MSISDN) stop the COPY at the first one
 *   and the transaction rolls back. The file is then read again through the staged path,
 *   whose set-based load lists every offending line and records the rejected import, as an
 *   upload of the same file would. The staging table exists for that diagnosis (and so that
 *   an upload is answered before its load); a file can be read twice, a request body cannot,
 *   so only the rare failing import pays for it here.
 * - A process killed at any point: the server rolls the transaction back, nothing is left,
 *   and running the command again imports the file.
 * - The same file twice: the import is recorded, by the file's SHA-256, before its first
 *   row; the same file imported at the same time elsewhere waits on that record and then
 *   resolves to this import. A file that changes while it is read is refused.
 *
 * Why no staging table on this path: writing every row twice (COPY into staging, then
 * INSERT ... SELECT into `sims`) costs the server a third more work than one binary COPY
 * into `sims` (a million rows: 1.6 s + 6.4-6.9 s of backend CPU against 5.5-6.8 s), and the
 * load could only start once the whole file was in. Here the server inserts rows while this
 * process parses and seals the next ones, each on a core of its own; the server's part
 * (the checks and five indexes of `sims`) is the longer one.
 */
import { randomUUID } from 'node:crypto';
import { inventory } from '../../sim-applet/index.js';
import { sqlState, UNIQUE_VIOLATION, type Pool, type PoolClient } from '../db/pool.js';
import { createDataKey } from '../db/repositories/data-keys.js';
import { getSimImportByHash, simImportQueries } from '../db/repositories/sim-imports.js';
import { KeysetSealer } from '../secrets/keyset-cipher.js';
import type { MasterKeyring } from '../secrets/master-key.js';
import { BinaryCopyWriter, int8Bytes, uuidBytes } from './copy-binary.js';
import { CopyIn } from './copy-in.js';
import { receiveImport, type ReceiveOutcome } from './receive.js';
import { readInventory, type ByteSource, type RowBatch } from './rows.js';

export interface DirectImportOptions {
  pool: Pool;
  keyring: MasterKeyring;
  /** The importing tenant (the operator): owner of the new SIMs. */
  tenantId: string;
  createdBy?: string | null;
  fileName?: string | null;
  /** Opens the file from its start: called once to import, and once more to diagnose duplicates. */
  open: () => ByteSource;
  /** SHA-256 of the file, computed before the import: the import is recorded by it first. */
  sha256: Buffer;
  /** Problems reported in detail (all are counted). Default 100. */
  maxProblems?: number;
  /** Called every few thousand rows with the bytes and rows read so far. */
  onProgress?: (bytes: number, rows: number) => void;
  /** Called when duplicates send the file through the staged path, before it is read again. */
  onDiagnose?: () => void;
  /** Queues the load job of a diagnosis import (pg-boss `send` with this client). */
  enqueueLoad?: (client: PoolClient, jobId: string) => Promise<void>;
}

/**
 * `completed`: every row is in the inventory. `staged`: duplicates were found and the file
 * was staged again for their diagnosis; loading it (its job) rejects it with every line.
 */
export type DirectImportOutcome = { outcome: 'completed'; importId: string; rowCount: number } | ReceiveOutcome;

const DEADLOCK_DETECTED = '40P01';
const SIM_COLUMNS = '(iccid, imsi, msisdn, tar, tenant_id, import_id, import_line, data_key_id, keysets, attestation_serial)';

export async function importDirect(options: DirectImportOptions): Promise<DirectImportOutcome> {
  const client = await options.pool.connect();
  let outcome: DirectImportOutcome | { outcome: 'duplicates' };
  try {
    await client.query('BEGIN');
    outcome = await importRows(client, options);
    await client.query(outcome.outcome === 'completed' ? 'COMMIT' : 'ROLLBACK');
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    client.release();
  }
  if (outcome.outcome !== 'duplicates') return outcome;
  options.onDiagnose?.();
  return receiveImport({
    pool: options.pool,
    keyring: options.keyring,
    tenantId: options.tenantId,
    createdBy: options.createdBy ?? null,
    fileName: options.fileName ?? null,
    source: options.open(),
    ...(options.maxProblems !== undefined ? { maxProblems: options.maxProblems } : {}),
    ...(options.enqueueLoad ? { enqueueLoad: options.enqueueLoad } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
}

async function importRows(client: PoolClient, options: DirectImportOptions): Promise<DirectImportOutcome | { outcome: 'duplicates' }> {
  const dataKey = await createDataKey(client, options.keyring);
  const importId = randomUUID();
  const recorded = await client.query(simImportQueries.insertDirect, [
    importId, options.tenantId, options.createdBy ?? null, options.sha256, options.fileName ?? null, dataKey.id,
  ]);
  if (recorded.rowCount === 0) {
    // The same file is an import already (committed before, or while this one waited on it).
    const existing = await getSimImportByHash(client, options.sha256);
    return { outcome: 'existing', importId: existing!.id };
  }

  const sealer = new KeysetSealer(dataKey.key);
  const fixed = { tenant: uuidBytes(options.tenantId), importId: uuidBytes(importId), dataKey: int8Bytes(dataKey.id) };
  const encode = (out: BinaryCopyWriter, batch: RowBatch): Buffer => {
    const { bytes, offsets } = sealer.sealMany(batch.rows);
    for (let i = 0; i < batch.rows.length; i++) {
      const row = batch.rows[i]!;
      const sealed = offsets[i + 1]! - offsets[i]!;
      const serial = row.attestationSerial?.length ?? 0;
      out.row(10, 10 * 4 + row.iccid.length + row.imsi.length + row.msisdn.length + row.tar.length + 16 + 16 + 4 + 8 + sealed + serial)
        .ascii(row.iccid).ascii(row.imsi).ascii(row.msisdn).ascii(row.tar)
        .bytes(fixed.tenant).bytes(fixed.importId).int4(batch.lines[i]!).bytes(fixed.dataKey)
        .bytes(bytes, offsets[i]!, offsets[i + 1]!);
      if (row.attestationSerial === undefined) out.null();
      else out.ascii(row.attestationSerial);
    }
    return out.take();
  };
  const copy = new CopyIn(client, `COPY sims ${SIM_COLUMNS} FROM STDIN (FORMAT binary)`);
  const out = new BinaryCopyWriter();
  const reader = new inventory.VendorFileReader({ maxProblems: options.maxProblems ?? 100 });
  try {
    await copy.write(out.header().take());
    const read = await readInventory({
      source: options.open(),
      reader,
      onRows: (batch) => copy.write(encode(out, batch)),
      onProgress: options.onProgress,
    });
    if (reader.problemCount > 0) {
      await copy.abort('the file was rejected');
      return { outcome: 'rejected', format: reader.format, rowCount: reader.rowCount, problemCount: reader.problemCount, problems: reader.problems };
    }
    await copy.write(out.trailer().take());
    await copy.end();
    if (!read.sha256.equals(options.sha256)) throw new Error('the file changed while it was being imported; nothing was imported');
    await client.query(simImportQueries.completeDirect, [importId, reader.format, reader.rowCount, read.bytes, reader.droppedColumns, reader.metadata]);
    return { outcome: 'completed', importId, rowCount: reader.rowCount };
  } catch (e) {
    await copy.abort('the import failed');
    // A deadlock can only come from another import writing some of the same identifiers
    // in another order: the diagnosis tells which.
    if (sqlState(e) === UNIQUE_VIOLATION || sqlState(e) === DEADLOCK_DETECTED) return { outcome: 'duplicates' };
    throw e;
  }
}
