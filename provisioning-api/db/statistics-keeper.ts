/**
 * Planner statistics for the tables a provisioning batch grows by hundreds of thousands of
 * rows in minutes (OTA messages and their SMS, provisioning items, counters, devices).
 *
 * PostgreSQL plans each statement from the statistics ANALYZE last gathered; autovacuum
 * refreshes them as tables change. A server with autovacuum off (this project's CI server
 * is one) never does: the planner keeps believing these tables hold a few thousand rows,
 * and the statements that update a few hundred rows by key (delivery receipts, keyed SIMs)
 * are planned as hash joins over a sequential scan of the whole table; a 100,000-SIM batch
 * read tens of millions of rows that way. So, on such a server, this keeper does what
 * autovacuum's analyze would: every few seconds it ANALYZEs each of these tables whose rows
 * changed since its last analysis by more than 50 + 10% of its size (autovacuum's default
 * threshold). One keeper at a time across processes (a transaction-level advisory lock); a
 * server with autovacuum on is left to it.
 */
import type { Pool } from './pool.js';

/** The tables provisioning grows fastest. */
export const BUSY_TABLES: readonly string[] = Object.freeze([
  'ota_messages', 'ota_submissions', 'ota_counters', 'provisioning_items', 'devices', 'outbox',
]);

/** pg_advisory_xact_lock key of the keeper: ASCII 'ANALYZE!'. */
const KEEPER_LOCK = 0x414e_414c_595a_4521n;

export const statisticsQueries = {
  autovacuum: `SELECT current_setting('autovacuum') = 'on' AS on`,
  lock: `SELECT pg_try_advisory_xact_lock($1::bigint) AS locked`,
  /** The listed tables whose changes since their last analysis pass autovacuum's default threshold. */
  stale: `SELECT relname FROM pg_stat_user_tables
    WHERE schemaname = current_schema() AND relname = ANY($1::text[])
      AND n_mod_since_analyze > 50 + 0.1 * greatest(n_live_tup, 0)
    ORDER BY relname`,
} as const;

/** What the keeper says: a refresh (info), a failure (warn). */
interface KeeperLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface StatisticsKeeperOptions {
  pool: Pool;
  log?: KeeperLog | undefined;
  tables?: readonly string[];
  /** Between rounds. Default 5 s. */
  intervalMs?: number;
}

/** One round: the tables it analysed (none when autovacuum is on or another keeper holds the lock). */
export async function keepStatistics(pool: Pool, tables: readonly string[] = BUSY_TABLES): Promise<string[]> {
  const client = await pool.connect();
  try {
    if ((await client.query<{ on: boolean }>(statisticsQueries.autovacuum)).rows[0]!.on) return [];
    await client.query('BEGIN');
    try {
      if (!(await client.query<{ locked: boolean }>(statisticsQueries.lock, [KEEPER_LOCK.toString()])).rows[0]!.locked) return [];
      const stale = (await client.query<{ relname: string }>(statisticsQueries.stale, [tables])).rows.map((r) => r.relname);
      // Names from the catalog, matched against our own list: safe to put in the statement.
      for (const table of stale) await client.query(`ANALYZE ${client.escapeIdentifier(table)}`);
      return stale;
    } finally {
      await client.query('COMMIT');
    }
  } finally {
    client.release();
  }
}

/** Runs `keepStatistics` every few seconds until stopped. */
export class StatisticsKeeper {
  #timer: NodeJS.Timeout | null = null;
  #round: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: StatisticsKeeperOptions) {}

  start(): void {
    const tick = () => {
      this.#round = keepStatistics(this.options.pool, this.options.tables)
        .then((analysed) => {
          if (analysed.length > 0) this.options.log?.info({ analysed }, 'planner statistics refreshed');
        })
        .catch((e: unknown) => this.options.log?.warn({ err: e }, 'planner statistics not refreshed'))
        .finally(() => {
          if (this.#timer !== null) this.#timer = setTimeout(tick, this.options.intervalMs ?? 5000).unref();
        });
    };
    // Unreferenced: the keeper never keeps a process alive by itself.
    this.#timer = setTimeout(tick, this.options.intervalMs ?? 5000).unref();
  }

  async stop(): Promise<void> {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#round;
  }
}
