/**
 * Importing a file straight into the inventory (`simchain import FILE`): one transaction
 * that records the import, then streams the file through the vendor-file reader, seals each
 * row's keysets and COPYs the rows into a table of the import's own, which becomes a
 * partition of `sims` once its indexes are built (./inventory-partition.ts), then commits.
 * Everything the staged path (./receive.ts, ./load.ts) guarantees holds, with no staging
 * table in between:
 *
 * - A bad row anywhere: the COPY is given up, the transaction rolls back, the rest of the
 *   file is still read for the report; nothing is written.
 * - Duplicates (in the file, against the inventory, against an import running meanwhile):
 *   the partition's unique indexes and the set-based check against the rest of `sims`
 *   refuse them and the transaction rolls back. The file is then read again through the
 *   staged path, whose set-based load lists every offending line and records the rejected
 *   import, as an upload of the same file would. The staging table exists for that
 *   diagnosis (and so that an upload is answered before its load); a file can be read
 *   twice, a request body cannot, so only the rare failing import pays for it here.
 * - A process killed at any point: the server rolls the transaction back, nothing is left,
 *   and running the command again imports the file.
 * - The same file twice: the import is recorded by the file's SHA-256, unique; the same
 *   file imported at the same time elsewhere waits on that record and then resolves to this
 *   import. When the caller hashed the file first, the record is made before the first row
 *   and a file that changes while it is read is refused; otherwise the hash is computed
 *   while the file is read and the record made once the rows are in.
 *
 * Why no staging table on this path: writing every row twice (COPY into staging, then
 * INSERT ... SELECT) costs the server a third more work than one binary COPY, and the load
 * could only start once the whole file was in. Here the server writes rows while this
 * process parses and seals the next ones, each on a core of its own.
 */
import { randomUUID } from 'node:crypto';
// The inventory module alone: the import needs none of the applet's cryptography.
import * as inventory from '../../sim-applet/inventory/index.js';
import { sqlState, UNIQUE_VIOLATION, type Pool, type PoolClient } from '../db/pool.js';
import { createDataKey } from '../db/repositories/data-keys.js';
import { getSimImportByHash, simImportQueries } from '../db/repositories/sim-imports.js';
import { KeysetSealer } from '../secrets/keyset-cipher.js';
import type { MasterKeyring } from '../secrets/master-key.js';
import { BinaryCopyWriter, int8Bytes, uuidBytes } from '../db/copy-binary.js';
import { CopyIn } from '../db/copy-in.js';
import { receiveImport, type ReceiveOutcome } from './receive.js';
import { copyColumns, encodeRows } from './copy-rows.js';
import { IdentifierOrder } from './identifier-order.js';
import { attachLoadTable, createLoadTable } from './inventory-partition.js';
import { readInventory, type ByteSource } from './rows.js';

export interface DirectImportOptions {
  pool: Pool;
  keyring: MasterKeyring;
  /** The importing tenant (the operator): owner of the new SIMs. */
  tenantId: string;
  createdBy?: string | null;
  fileName?: string | null;
  /** Opens the file from its start: called once to import, and once more to diagnose duplicates. */
  open: () => ByteSource;
  /**
   * SHA-256 of the file when it was computed before the import: the import is then recorded
   * by it before its first row (a concurrent import of the same file waits on that record
   * instead of reading the file too), and a file whose content changes meanwhile is refused.
   * Without it the import is recorded by the hash of what was read, once it is all in.
   */
  sha256?: Buffer | undefined;
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
  /** Record the import by the file's hash; its id when the same file is an import already. */
  const record = async (sha256: Buffer): Promise<string | null> => {
    const recorded = await client.query(simImportQueries.insertDirect, [
      importId, options.tenantId, options.createdBy ?? null, sha256, options.fileName ?? null, dataKey.id,
    ]);
    // Committed before, or while this one waited on the other's record.
    return recorded.rowCount === 0 ? (await getSimImportByHash(client, sha256))!.id : null;
  };
  if (options.sha256) {
    const existing = await record(options.sha256);
    if (existing !== null) return { outcome: 'existing', importId: existing };
  }

  const sealer = new KeysetSealer(dataKey.key);
  const constants = { tenant: uuidBytes(options.tenantId), importId: uuidBytes(importId), dataKey: int8Bytes(dataKey.id) };
  // The rows go into a table of this import's own, indexed in bulk and attached to `sims`
  // as a partition once they are all in (./inventory-partition.ts).
  const table = await createLoadTable(client, importId);
  const copy = new CopyIn(client, `COPY ${table} ${copyColumns(true)} FROM STDIN (FORMAT binary)`);
  const out = new BinaryCopyWriter();
  const order = new IdentifierOrder();
  const reader = new inventory.VendorFileReader({ maxProblems: options.maxProblems ?? 100 });
  try {
    await copy.write(out.header().take());
    const read = await readInventory({
      source: options.open(),
      reader,
      onRows: (batch) => {
        order.observe(batch);
        return copy.write(encodeRows(out, batch, sealer, constants));
      },
      onProgress: options.onProgress,
    });
    if (reader.problemCount > 0) {
      await copy.abort('the file was rejected');
      return { outcome: 'rejected', format: reader.format, rowCount: reader.rowCount, problemCount: reader.problemCount, problems: reader.problems };
    }
    await copy.write(out.trailer().take());
    await copy.end();
    if (options.sha256 && !read.sha256.equals(options.sha256)) throw new Error('the file changed while it was being imported; nothing was imported');
    if (!options.sha256) {
      const existing = await record(read.sha256);
      if (existing !== null) return { outcome: 'existing', importId: existing };
    }
    if ((await attachLoadTable(client, table, importId, order.facts())).outcome === 'duplicates') return { outcome: 'duplicates' };
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
