/**
 * Schema migrations: the SQL files in migrations/ (each with `-- Up Migration` and
 * `-- Down Migration` sections), applied in order by node-pg-migrate under its advisory
 * lock, so several processes starting at once apply them once. pg-boss keeps its own schema
 * (`pgboss`) and migrates it when a queue starts.
 */
import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations', import.meta.url));

export interface MigrationResult {
  applied: string[];
}

export interface MigrateOptions {
  /** Apply at most this many pending migrations (a test migrating to a given version). Default all. */
  count?: number;
}

export async function migrate(databaseUrl: string, log: (line: string) => void = () => undefined, options: MigrateOptions = {}): Promise<MigrationResult> {
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
