/**
 * Loading a staged import (the second half): one transaction that moves the staged rows
 * into a load table of the import's own with set-based INSERT ... SELECT, in slices of the
 * staging table's pages so that progress can be shown, then indexes it and attaches it to
 * the inventory as a partition (./inventory-partition.ts). The load table's unique indexes
 * check the file, and the attach checks it against the inventory (ICCID, IMSI, MSISDN); if
 * any identifier repeats, the load rolls back to before its first row and a set-based
 * diagnosis lists each offending line, and the import is rejected with nothing loaded. A
 * process killed meanwhile leaves the import staged, and loading it again completes it.
 */
import type { inventory } from '../../sim-applet/index.js';
import { sqlState, UNIQUE_VIOLATION, type Pool, type PoolClient } from '../db/pool.js';
import { simImportQueries, stagingTable, type ImportState } from '../db/repositories/sim-imports.js';
import { attachLoadTable, createLoadTable } from './inventory-partition.js';

export interface LoadOptions {
  /** Problems reported in detail when the import is rejected. Default 100. */
  maxProblems?: number;
  /** Staging pages per INSERT slice (8 kB each). Default 2048 (about 80,000 rows). */
  pagesPerSlice?: number;
  onProgress?: (loaded: number, total: number) => void;
}

export interface LoadOutcome {
  importId: string;
  state: ImportState;
  loaded: number;
  problemCount: number;
}

interface LockedImport {
  id: string;
  state: ImportState;
  rowCount: number;
  tenantId: string;
  dataKeyId: string;
}

export async function loadImport(pool: Pool, importId: string, options: LoadOptions = {}): Promise<LoadOutcome> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    // NO KEY UPDATE: the progress rows written meanwhile reference this row (FOR KEY SHARE).
    const locked = (await client.query<LockedImport>(simImportQueries.lock.replace('FOR UPDATE', 'FOR NO KEY UPDATE'), [importId])).rows[0];
    if (!locked) throw new Error(`import ${importId} does not exist`);
    if (locked.state === 'completed' || locked.state === 'rejected') {
      await client.query('COMMIT');
      return { importId, state: locked.state, loaded: locked.state === 'completed' ? locked.rowCount : 0, problemCount: 0 };
    }
    await client.query(simImportQueries.start, [importId]);
    const outcome = await moveRows(client, pool, locked, options);
    await client.query(`DROP TABLE ${stagingTable(importId)}`);
    await client.query('COMMIT');
    return outcome;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    client.release();
  }
}

async function moveRows(client: PoolClient, pool: Pool, imp: LockedImport, options: LoadOptions): Promise<LoadOutcome> {
  const table = stagingTable(imp.id);
  const pages = (await client.query<{ pages: string }>(`SELECT (pg_relation_size('${table.replace(/'/g, "''")}') / current_setting('block_size')::int)::bigint AS pages`)).rows[0]!.pages;
  const slice = options.pagesPerSlice ?? 2048;
  let loaded = 0;
  await client.query('SAVEPOINT load');
  try {
    const target = await createLoadTable(client, imp.id);
    for (let first = 0; first < Number(pages); first += slice) {
      // A TID range scan (PostgreSQL 14+) reads just these pages of the staging table.
      const r = await client.query(
        `INSERT INTO ${target} (iccid, imsi, msisdn, tar, tenant_id, import_id, import_line, data_key_id, keysets, attestation_serial, attestation_certificate)
         SELECT iccid, imsi, msisdn, tar, $1, $2, line, $3, keysets, attestation_serial, attestation_certificate FROM ${table}
         WHERE ctid >= $4::tid AND ctid < $5::tid`,
        [imp.tenantId, imp.id, imp.dataKeyId, `(${first},0)`, `(${first + slice},0)`],
      );
      loaded += r.rowCount ?? 0;
      await pool.query(simImportQueries.progress, [imp.id, loaded]);
      options.onProgress?.(loaded, imp.rowCount);
    }
    if ((await attachLoadTable(client, target, imp.id)).outcome === 'duplicates') return reject(client, pool, imp, table, options);
  } catch (e) {
    if (sqlState(e) !== UNIQUE_VIOLATION) throw e;
    return reject(client, pool, imp, table, options);
  }
  await client.query(simImportQueries.complete, [imp.id, loaded]);
  return { importId: imp.id, state: 'completed', loaded, problemCount: 0 };
}

/** Undo the load (back to before its first row) and reject the import with every offending line. */
async function reject(client: PoolClient, pool: Pool, imp: LockedImport, table: string, options: LoadOptions): Promise<LoadOutcome> {
  await client.query('ROLLBACK TO SAVEPOINT load');
  const { problems, count } = await diagnose(client, table, options.maxProblems ?? 100);
  await client.query(simImportQueries.reject, [imp.id, JSON.stringify(problems), count]);
  await pool.query(simImportQueries.progress, [imp.id, 0]);
  return { importId: imp.id, state: 'rejected', loaded: 0, problemCount: count };
}

const IDENTIFIERS = [
  { column: 'iccid', label: 'ICCID' },
  { column: 'imsi', label: 'IMSI' },
  { column: 'msisdn', label: 'MSISDN' },
] as const;

/** Every line that repeats an identifier of an earlier line, or one already in the inventory. */
async function diagnose(client: PoolClient, table: string, limit: number): Promise<{ problems: inventory.InventoryProblem[]; count: number }> {
  const parts = IDENTIFIERS.flatMap(({ column, label }) => [
    `SELECT line, 'DUPLICATE_${label}' AS code, '${label}' AS col, ${column} AS value, first_line FROM
       (SELECT line, ${column}, min(line) OVER (PARTITION BY ${column}) AS first_line FROM ${table}) d WHERE line > first_line`,
    `SELECT s.line, '${label}_EXISTS', '${label}', s.${column}, NULL::int FROM ${table} s JOIN sims x ON x.${column} = s.${column}`,
  ]);
  const rows = (await client.query<{ line: number; code: inventory.InventoryErrorCode; col: string; value: string; first_line: number | null; total: string }>(
    `SELECT *, count(*) OVER () AS total FROM (${parts.join(' UNION ALL ')}) p ORDER BY line, code LIMIT $1`,
    [limit],
  )).rows;
  const problems = rows.map((r): inventory.InventoryProblem => ({
    line: r.line,
    column: r.col,
    code: r.code,
    message: r.first_line === null ? `${r.col} ${r.value} is already in the inventory` : `${r.col} ${r.value} already appears on line ${r.first_line}`,
  }));
  return { problems, count: rows.length === 0 ? 0 : Number(rows[0]!.total) };
}
