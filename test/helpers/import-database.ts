/**
 * What the import tests share: a migrated test database with an operator tenant, and the
 * counts that show an import left nothing behind (SIMs, imports, data keys, staging tables).
 */
import type { Pool } from '../../provisioning-api/index.js';
import { testDatabase, type TestDatabase } from './database.js';

export interface ImportCounts {
  sims: number;
  imports: number;
  keys: number;
  staging: number;
}

export async function importDatabase(): Promise<{ db: TestDatabase; tenant: string }> {
  const db = await testDatabase();
  const tenant = (await db.pool.query<{ id: string }>(`INSERT INTO tenants (name, kind) VALUES ('op', 'operator') RETURNING id`)).rows[0]!.id;
  return { db, tenant };
}

export async function importCounts(pool: Pool): Promise<ImportCounts> {
  const r = await pool.query<ImportCounts>(`SELECT
    (SELECT count(*) FROM sims)::int AS sims, (SELECT count(*) FROM sim_imports)::int AS imports,
    (SELECT count(*) FROM data_keys)::int AS keys,
    (SELECT count(*) FROM pg_tables WHERE schemaname = 'sim_import_staging')::int AS staging`);
  return r.rows[0]!;
}
