/**
 * A fresh database per test file on the server named by TEST_DATABASE_URL, DATABASE_URL or
 * the local default, migrated, and dropped when the file's tests end.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import t from 'tap';
import { createPool, migrate, type Pool } from '../../provisioning-api/index.js';

export const SERVER_URL = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  url: string;
  name: string;
  pool: Pool;
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: SERVER_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Create, migrate and register the teardown of a database for the current test file. */
export async function testDatabase(options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const name = `simchain_test_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const url = withDatabase(SERVER_URL, name);
  if (options.migrate !== false) await migrate(url);
  const pool = createPool(url, { max: 8, applicationName: 'simchain-test' });
  t.teardown(async () => {
    await pool.end();
    await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  });
  return { url, name, pool };
}
