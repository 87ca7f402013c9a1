/**
 * Receiving an inventory file (the first half of a staged import, the API's way): one
 * transaction that streams the file through the vendor-file reader, seals each row's
 * keysets, and COPYs the rows into a staging table of their own; then records the import
 * (keyed by the file's SHA-256) and its load job. A file with any bad row is refused whole
 * and the transaction rolls back, so nothing is written; a process killed meanwhile leaves
 * nothing either (the server rolls back). The same file received twice resolves to the
 * first import.
 *
 * The staging table lets an HTTP upload be answered (202) before the load, by a worker that
 * may run anywhere, and keeps the rows for a duplicate diagnosis: a request body cannot be
 * read twice. `simchain import FILE`, which can, imports straight into the inventory
 * (./direct.ts).
 */
import { randomUUID } from 'node:crypto';
// The inventory module alone: the import needs none of the applet's cryptography.
import * as inventory from '../../sim-applet/inventory/index.js';
import type { Pool, PoolClient } from '../db/pool.js';
import { createDataKey } from '../db/repositories/data-keys.js';
import { insertJob } from '../db/repositories/jobs.js';
import { getSimImportByHash, simImportQueries, stagingTable } from '../db/repositories/sim-imports.js';
import { KeysetSealer } from '../secrets/keyset-cipher.js';
import type { MasterKeyring } from '../secrets/master-key.js';
import { BinaryCopyWriter } from '../db/copy-binary.js';
import { CopyIn } from '../db/copy-in.js';
import { copyColumns, encodeRows } from './copy-rows.js';
import { readInventory, type ByteSource } from './rows.js';

export interface ReceiveOptions {
  pool: Pool;
  keyring: MasterKeyring;
  /** The importing tenant (the operator): owner of the new SIMs. */
  tenantId: string;
  createdBy?: string | null;
  fileName?: string | null;
  source: ByteSource;
  /** Problems reported in detail (all are counted). Default 100. */
  maxProblems?: number;
  /** Queue the load job in the same transaction (pg-boss `send` with this client). */
  enqueueLoad?: (client: PoolClient, jobId: string) => Promise<void>;
  /** Called every few thousand rows with the bytes and rows read so far. */
  onProgress?: (bytes: number, rows: number) => void;
}

export type ReceiveOutcome =
  | { outcome: 'staged'; importId: string; jobId: string; rowCount: number }
  | { outcome: 'existing'; importId: string }
  | { outcome: 'rejected'; format: inventory.VendorFileFormat | null; rowCount: number; problemCount: number; problems: inventory.InventoryProblem[] };

export async function receiveImport(options: ReceiveOptions): Promise<ReceiveOutcome> {
  const client = await options.pool.connect();
  try {
    await client.query('BEGIN');
    const outcome = await stage(client, options);
    if (outcome.outcome === 'staged') await client.query('COMMIT');
    else await client.query('ROLLBACK');
    return outcome;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    client.release();
  }
}

async function stage(client: PoolClient, options: ReceiveOptions): Promise<ReceiveOutcome> {
  const dataKey = await createDataKey(client, options.keyring);
  const sealer = new KeysetSealer(dataKey.key);
  const importId = randomUUID();
  const table = stagingTable(importId);
  await client.query(`CREATE TABLE ${table} (
    line integer NOT NULL, iccid text COLLATE "C" NOT NULL, imsi text COLLATE "C" NOT NULL, msisdn text COLLATE "C" NOT NULL,
    tar text NOT NULL, keysets bytea NOT NULL, attestation_serial text, attestation_certificate bytea)`);
  const copy = new CopyIn(client, `COPY ${table} ${copyColumns(false)} FROM STDIN (FORMAT binary)`);
  const out = new BinaryCopyWriter();
  await copy.write(out.header().take());

  const reader = new inventory.VendorFileReader({ maxProblems: options.maxProblems ?? 100 });
  const read = await readInventory({
    source: options.source,
    reader,
    onRows: (batch) => copy.write(encodeRows(out, batch, sealer, null)),
    onProgress: options.onProgress,
  }).catch(async (e: unknown) => {
    // A source that fails (a client gone mid-upload) must not leave the COPY open: the
    // client could not even roll back.
    await copy.abort('the source failed');
    throw e;
  });
  if (reader.problemCount > 0) {
    await copy.abort('the file was rejected');
    return { outcome: 'rejected', format: reader.format, rowCount: reader.rowCount, problemCount: reader.problemCount, problems: reader.problems };
  }
  await copy.write(out.trailer().take());
  await copy.end();

  const inserted = await client.query(simImportQueries.insert, [
    importId, options.tenantId, options.createdBy ?? null, read.sha256, options.fileName ?? null, reader.format,
    reader.rowCount, read.bytes, reader.droppedColumns, reader.metadata, dataKey.id,
  ]);
  if (inserted.rowCount === 0) {
    // The same file is already an import (possibly committed while this one streamed).
    const existing = await getSimImportByHash(client, read.sha256);
    return { outcome: 'existing', importId: existing!.id };
  }
  const job = await insertJob(client, { tenantId: options.tenantId, createdBy: options.createdBy ?? null, kind: 'sim-import.load', input: { importId } });
  await options.enqueueLoad?.(client, job.id);
  return { outcome: 'staged', importId, jobId: job.id, rowCount: reader.rowCount };
}
