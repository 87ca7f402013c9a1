/**
 * Receiving an inventory file (the first half of an import): one transaction that streams
 * the file through the vendor-file reader, seals each row's keysets, and COPYs the rows into
 * a staging table of their own; then records the import (keyed by the file's SHA-256) and
 * its load job. A file with any bad row is refused whole and the transaction rolls back, so
 * nothing is written; a process killed meanwhile leaves nothing either (the server rolls
 * back). The same file received twice resolves to the first import.
 */
import { createHash, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import copyStreams from 'pg-copy-streams';
import { inventory } from '../../sim-applet/index.js';
import type { Pool, PoolClient } from '../db/pool.js';
import { createDataKey } from '../db/repositories/data-keys.js';
import { insertJob } from '../db/repositories/jobs.js';
import { getSimImportByHash, simImportQueries, stagingTable } from '../db/repositories/sim-imports.js';
import { KeysetSealer } from '../secrets/keyset-cipher.js';
import type { MasterKeyring } from '../secrets/master-key.js';
import { readLines } from './lines.js';

export interface ReceiveOptions {
  pool: Pool;
  keyring: MasterKeyring;
  /** The importing tenant (the operator): owner of the new SIMs. */
  tenantId: string;
  createdBy?: string | null;
  fileName?: string | null;
  source: AsyncIterable<Buffer | Uint8Array | string> | Iterable<Buffer | Uint8Array | string>;
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

/** COPY text field for bytea (PostgreSQL hex format, its backslash escaped for COPY). */
function byteaField(bytes: Buffer): string {
  return '\\\\x' + bytes.toString('hex');
}

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
    tar text NOT NULL, keysets bytea NOT NULL, attestation_serial text)`);
  const copy = client.query(copyStreams.from(`COPY ${table} (line, iccid, imsi, msisdn, tar, keysets, attestation_serial) FROM STDIN`));
  const copyDone = finished(copy);
  copyDone.catch(() => undefined);

  const reader = new inventory.VendorFileReader({ maxProblems: options.maxProblems ?? 100 });
  const hash = createHash('sha256');
  let bytes = 0;
  let lastReport = 0;
  // Rows go to COPY only while the file is clean; after the first problem the rest is
  // still read, for the report, and the transaction will roll back.
  const counted = (async function* () {
    for await (const chunk of options.source) {
      hash.update(chunk);
      bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
      yield chunk;
    }
  })();
  for await (const lines of readLines(counted)) {
    let batch = '';
    for (const text of lines) {
      const row = reader.push(text);
      if (row === null || reader.problemCount > 0) continue;
      const sealed = sealer.seal(row.iccid, row.keysets);
      batch += `${reader.line}\t${row.iccid}\t${row.imsi}\t${row.msisdn}\t${row.tar}\t${byteaField(sealed)}\t${row.attestationSerial ?? '\\N'}\n`;
    }
    if (batch !== '' && !copy.write(batch)) await Promise.race([once(copy, 'drain'), copyDone]);
    if (options.onProgress && reader.rowCount - lastReport >= 5000) {
      lastReport = reader.rowCount;
      options.onProgress(bytes, reader.rowCount);
    }
  }
  reader.end();
  copy.end();
  await copyDone;
  options.onProgress?.(bytes, reader.rowCount);

  if (reader.problemCount > 0) {
    return { outcome: 'rejected', format: reader.format, rowCount: reader.rowCount, problemCount: reader.problemCount, problems: reader.problems };
  }
  const sha256 = hash.digest();
  const inserted = await client.query(simImportQueries.insert, [
    importId, options.tenantId, options.createdBy ?? null, sha256, options.fileName ?? null, reader.format,
    reader.rowCount, bytes, reader.droppedColumns, reader.metadata, dataKey.id,
  ]);
  if (inserted.rowCount === 0) {
    // The same file is already an import (possibly committed while this one streamed).
    const existing = await getSimImportByHash(client, sha256);
    return { outcome: 'existing', importId: existing!.id };
  }
  const job = await insertJob(client, { tenantId: options.tenantId, createdBy: options.createdBy ?? null, kind: 'sim-import.load', input: { importId } });
  await options.enqueueLoad?.(client, job.id);
  return { outcome: 'staged', importId, jobId: job.id, rowCount: reader.rowCount };
}
