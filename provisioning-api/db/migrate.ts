/**
 * Schema migrations: the SQL files in migrations/ (each with `-- Up Migration` and
 * `-- Down Migration` sections), applied in order by node-pg-migrate under its advisory
 * lock, so several processes starting at once apply them once. pg-boss keeps its own schema
 * (`pgboss`) and migrates it when a queue starts.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations', import.meta.url));

export interface MigrationResult {
  applied: string[];
}

export interface MigrateOptions {
  /** Apply at most this many pending migrations (a test migrating to a given version). Default all. */
  count?: number;
}

/**
 * Whether the database has run exactly the migrations in migrations/, in order: then there
 * is nothing to do, and node-pg-migrate (about 0.1 s to load: every command starts by
 * migrating) is not loaded. Anything else (a fresh database, a pending migration, one this
 * version does not know) goes to node-pg-migrate, which applies or refuses it.
 */
async function upToDate(databaseUrl: string): Promise<boolean> {
  const files = readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.sql')).map((f) => f.slice(0, -4)).sort();
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const ran = (await client.query<{ name: string }>('SELECT name FROM pgmigrations ORDER BY id')).rows.map((r) => r.name);
    return ran.length === files.length && ran.every((name, i) => name === files[i]);
  } catch {
    return false;
  } finally {
    await client.end();
  }
}

export async function migrate(databaseUrl: string, log: (line: string) => void = () => undefined, options: MigrateOptions = {}): Promise<MigrationResult> {
  if (options.count === undefined && (await upToDate(databaseUrl))) return { applied: [] };
  const { runner } = await import('node-pg-migrate');
  const ran = await runner({
    databaseUrl,
    dir: MIGRATIONS_DIR,
    direction: 'up',
    ...(options.count !== undefined ? { count: options.count } : {}),
    migrationsTable: 'pgmigrations',
    checkOrder: true,
    singleTransaction: true,
    advisoryLockMode: 'wait',
    logger: { debug: () => undefined, info: () => undefined, warn: log, error: log },
  });
  const applied = ran.map((m) => m.name);
  for (const name of applied) log(`applied migration ${name}`);
  return { applied };
}
