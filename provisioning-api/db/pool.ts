/** The connection pool, and transactions over it. */
import pg from 'pg';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;
/** Anything that runs a query: the pool or a client inside a transaction. */
export type Queryable = Pick<pg.Pool, 'query'> | pg.PoolClient;

export interface PoolOptions {
  max?: number;
  applicationName?: string;
  /** Receives the errors of lost connections (a server restart, a killed backend), idle or in use. */
  onError?: (e: Error) => void;
}

export function createPool(url: string, options: PoolOptions = {}): Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'simchain',
  });
  // A lost connection must not crash the process. pg-pool listens for the errors of idle
  // clients only (and emits them on the pool); a client in use whose connection is cut (a
  // backend terminated, the server restarting) rejects its query and then emits 'error' with
  // nobody listening: an uncaught exception. So every client gets a listener of its own for
  // its whole life; the pool drops the client when it is released (it is no longer queryable).
  pool.on('connect', (client) => client.on('error', (e) => options.onError?.(e)));
  // The pool's own event repeats an idle client's error, which the listener above reported.
  pool.on('error', () => undefined);
  return pool;
}

/** Run `fn` in a transaction on one client; commit on success, roll back on any error. */
export function withTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  return inTransaction(pool, 'BEGIN', fn);
}

/**
 * `fn` with a connection of its own in a read-only REPEATABLE READ transaction: one snapshot
 * for everything it reads, beside whatever transaction the caller holds on another.
 */
export function withSnapshot<T>(pool: Pool, fn: (reader: PoolClient) => Promise<T>): Promise<T> {
  return inTransaction(pool, 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', fn);
}

async function inTransaction<T>(pool: Pool, begin: string, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query(begin);
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    client.release();
  }
}

/**
 * Joins as nested loops over index probes, for the rest of the caller's transaction.
 *
 * The provisioning workers write in batches: an array of a few hundred keys joined to a
 * table of every SIM of a batch (`UPDATE … FROM unnest($1) … WHERE key = u.key`). Costed
 * with random_page_cost 4, a few hundred index probes look dearer than reading the whole
 * table into a hash, and the planner chose that until the table was several times the batch:
 * at 20,000 SIMs, 20,000 rows read to change 250 (auto_explain in the `provisioning`
 * benchmark, README). Probes are what these statements need at any size.
 */
export async function preferIndexProbes(client: PoolClient, alsoOff: readonly PlannerMethod[] = []): Promise<void> {
  await client.query(['enable_hashjoin', 'enable_mergejoin', ...alsoOff].map((m) => `SET LOCAL ${m} = off`).join('; '));
}

/** Plan methods a statement may have to do without besides hash and merge joins. */
export type PlannerMethod = 'enable_seqscan' | 'enable_bitmapscan' | 'enable_material';

/** `withTransaction` with `preferIndexProbes` applied first. */
export function withIndexProbes<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>, alsoOff: readonly PlannerMethod[] = []): Promise<T> {
  return withTransaction(pool, async (client) => {
    await preferIndexProbes(client, alsoOff);
    return fn(client);
  });
}

/** PostgreSQL SQLSTATE of a driver error, if any. */
export function sqlState(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export const UNIQUE_VIOLATION = '23505';
