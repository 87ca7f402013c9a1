/**
 * The planner statistics keeper against the real PostgreSQL: on a server with autovacuum
 * off (as this project's CI server) a table whose rows changed past autovacuum's threshold
 * is analysed, once, by one keeper at a time; an unchanged one is not. With autovacuum on,
 * the keeper leaves everything to it.
 */
import t from 'tap';
import { keepStatistics } from '../../provisioning-api/db/statistics-keeper.js';
import { testDatabase } from '../helpers/database.js';

t.test('a changed table is analysed once, by one keeper', async (t) => {
  const db = await testDatabase();
  const autovacuum = (await db.pool.query<{ on: boolean }>(`SELECT current_setting('autovacuum') = 'on' AS on`)).rows[0]!.on;
  await db.pool.query('CREATE TABLE stats_probe (id int PRIMARY KEY, v text)');
  await db.pool.query('CREATE TABLE stats_quiet (id int PRIMARY KEY)');
  const client = await db.pool.connect();
  try {
    await client.query(`INSERT INTO stats_probe SELECT g, 'x' FROM generate_series(1, 2000) g`);
    await client.query('INSERT INTO stats_quiet VALUES (1)');
    // PostgreSQL 15 reports a backend's table counters within a second; now, for the test.
    await client.query('SELECT pg_stat_force_next_flush()');
    await client.query('SELECT 1');
  } finally {
    client.release();
  }
  const analysedAt = async () => (await db.pool.query<{ at: Date | null }>(
    `SELECT last_analyze AS at FROM pg_stat_user_tables WHERE relname = 'stats_probe'`)).rows[0]!.at;
  t.equal(await analysedAt(), null, 'never analysed before');

  const rounds = await Promise.all([keepStatistics(db.pool, ['stats_probe', 'stats_quiet']), keepStatistics(db.pool, ['stats_probe', 'stats_quiet'])]);
  if (autovacuum) {
    t.same(rounds, [[], []], 'autovacuum on: left to it');
    return;
  }
  t.same(rounds.flat(), ['stats_probe'], 'the changed table, by one of two keepers at once; not the one below the threshold');
  t.ok(await analysedAt(), 'analysed');
  const stats = (await db.pool.query(`SELECT reltuples FROM pg_class WHERE relname = 'stats_probe'`)).rows[0];
  t.equal(Number(stats.reltuples), 2000, 'the planner now knows its size');
  t.same(await keepStatistics(db.pool, ['stats_probe', 'stats_quiet']), [], 'unchanged since: nothing to do');
});
