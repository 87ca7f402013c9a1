/** Inventory imports: one row per distinct file (by content hash). */
import type { inventory } from '../../../sim-applet/index.js';
import type { Queryable } from '../pool.js';

export type ImportState = 'staged' | 'loading' | 'completed' | 'rejected';

export interface SimImport {
  id: string;
  tenantId: string;
  createdBy: string | null;
  contentSha256: Buffer;
  fileName: string | null;
  format: 'csv' | 'out';
  state: ImportState;
  rowCount: number;
  loadedCount: number;
  byteCount: string;
  droppedColumns: string[];
  metadata: Record<string, string>;
  problems: inventory.InventoryProblem[];
  problemCount: number;
  dataKeyId: string;
  jobId: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

const COLUMNS = `i.id, i.tenant_id AS "tenantId", i.created_by AS "createdBy", i.content_sha256 AS "contentSha256",
  i.file_name AS "fileName", i.format, i.state, i.row_count AS "rowCount",
  CASE WHEN i.state = 'completed' THEN i.loaded_count ELSE coalesce(p.loaded, i.loaded_count) END AS "loadedCount",
  i.byte_count AS "byteCount", i.dropped_columns AS "droppedColumns", i.metadata, i.problems, i.problem_count AS "problemCount",
  i.data_key_id AS "dataKeyId",
  (SELECT j.id FROM jobs j WHERE j.kind = 'sim-import.load' AND j.input->>'importId' = i.id::text ORDER BY j.created_at LIMIT 1) AS "jobId",
  i.created_at AS "createdAt", i.started_at AS "startedAt", i.finished_at AS "finishedAt"`;
const FROM = 'sim_imports i LEFT JOIN sim_import_progress p ON p.import_id = i.id';

export const simImportQueries = {
  byId: `SELECT ${COLUMNS} FROM ${FROM} WHERE i.id = $1`,
  byHash: `SELECT ${COLUMNS} FROM ${FROM} WHERE i.content_sha256 = $1`,
  ofSize: `SELECT 1 FROM sim_imports WHERE byte_count = $1 LIMIT 1`,
  lock: `SELECT i.id, i.state, i.row_count AS "rowCount", i.tenant_id AS "tenantId", i.data_key_id AS "dataKeyId"
    FROM sim_imports i WHERE i.id = $1 FOR UPDATE`,
  page: `SELECT ${COLUMNS} FROM ${FROM} WHERE ($1::uuid IS NULL OR i.tenant_id = $1)
    AND ($2::timestamptz IS NULL OR (i.created_at, i.id) < ($2, $3::uuid)) ORDER BY i.created_at DESC, i.id DESC LIMIT $4`,
  insert: `INSERT INTO sim_imports (id, tenant_id, created_by, content_sha256, file_name, format, state, row_count, byte_count,
      dropped_columns, metadata, data_key_id)
    VALUES ($1, $2, $3, $4, $5, $6, 'staged', $7, $8, $9, $10, $11)
    ON CONFLICT (content_sha256) DO NOTHING RETURNING id`,
  /**
   * A direct import (`simchain import FILE`) is recorded before its first row goes in, so
   * that the same file imported at the same time elsewhere waits for it; `completeDirect`
   * fills in what only the whole file tells, in the same transaction.
   */
  insertDirect: `INSERT INTO sim_imports (id, tenant_id, created_by, content_sha256, file_name, format, state, row_count, byte_count,
      data_key_id, started_at)
    VALUES ($1, $2, $3, $4, $5, 'csv', 'loading', 0, 0, $6, now())
    ON CONFLICT (content_sha256) DO NOTHING RETURNING id`,
  completeDirect: `UPDATE sim_imports SET state = 'completed', format = $2, row_count = $3, loaded_count = $3, byte_count = $4,
      dropped_columns = $5, metadata = $6, finished_at = now() WHERE id = $1`,
  progress: `INSERT INTO sim_import_progress (import_id, loaded) VALUES ($1, $2)
    ON CONFLICT (import_id) DO UPDATE SET loaded = excluded.loaded, updated_at = now()`,
  complete: `UPDATE sim_imports SET state = 'completed', loaded_count = $2, finished_at = now() WHERE id = $1`,
  reject: `UPDATE sim_imports SET state = 'rejected', problems = $2, problem_count = $3, finished_at = now() WHERE id = $1`,
  start: `UPDATE sim_imports SET state = 'loading', started_at = coalesce(started_at, now()) WHERE id = $1`,
} as const;

export async function getSimImport(db: Queryable, id: string): Promise<SimImport | null> {
  return (await db.query<SimImport>(simImportQueries.byId, [id])).rows[0] ?? null;
}

export async function getSimImportByHash(db: Queryable, sha256: Buffer): Promise<SimImport | null> {
  return (await db.query<SimImport>(simImportQueries.byHash, [sha256])).rows[0] ?? null;
}

/**
 * Whether any import was of a file of this many bytes: when none was, a file cannot be an
 * import already, and need not be hashed before it is read.
 */
export async function anyImportOfSize(db: Queryable, bytes: number): Promise<boolean> {
  return (await db.query(simImportQueries.ofSize, [bytes])).rowCount! > 0;
}

export async function listSimImports(
  db: Queryable,
  f: { tenantId?: string; before?: { createdAt: Date; id: string }; limit: number },
): Promise<SimImport[]> {
  return (await db.query<SimImport>(simImportQueries.page, [f.tenantId ?? null, f.before?.createdAt ?? null, f.before?.id ?? null, f.limit])).rows;
}

/** The name of an import's staging table (schema-qualified, quoted). */
export function stagingTable(importId: string): string {
  if (!/^[0-9a-f-]{36}$/.test(importId)) throw new Error('import id is not a uuid');
  return `sim_import_staging."${importId}"`;
}

/** The card vendor's CA certificate (DER) configured for an import, or null. */
export async function getVendorCa(db: Queryable, importId: string): Promise<Buffer | null> {
  return (await db.query<{ der: Buffer | null }>('SELECT vendor_ca_certificate AS der FROM sim_imports WHERE id = $1', [importId])).rows[0]?.der ?? null;
}

/** Configure (or replace) the card vendor's CA certificate (DER) of an import. */
export async function setVendorCa(db: Queryable, importId: string, der: Buffer): Promise<void> {
  await db.query('UPDATE sim_imports SET vendor_ca_certificate = $2 WHERE id = $1', [importId, der]);
}
