/**
 * Migration 0016: delivery receipts and counter allocations update their rows in place (HOT:
 * no new index entries), because their pages keep room for it; before it, a full page sent
 * nearly every such update to every index of the table. Counted by PostgreSQL itself
 * (pg_stat_user_tables.n_tup_hot_upd), with the migration and, migrated down, without it. A
 * receipt makes its row longer (stat, time), so not every new version fits: 85% here, 88% in
 * the benchmark.
 */
import t from 'tap';
import { readdirSync } from 'node:fs';
import { runner } from 'node-pg-migrate';
import { MIGRATIONS_DIR } from '../../provisioning-api/db/migrate.js';
import { createPool, withTransaction } from '../../provisioning-api/db/pool.js';
import { allocateCounters, recordReceipts } from '../../provisioning-api/db/repositories/ota-messages.js';
import { testDatabase } from '../helpers/database.js';

const N = 2000;

t.test('receipts and counters update in place with migration 0016, and mostly did not without it', async (t) => {
  const db = await testDatabase();
  // One connection: its statistics are flushed on demand (pg_stat_force_next_flush) before reading them.
  const pool = createPool(db.url, { max: 1 });
  t.teardown(() => pool.end());
  const round = async (tag: string) => {
    await pool.query('TRUNCATE ota_submissions, ota_counters, ota_messages CASCADE');
    await pool.query(`INSERT INTO ota_messages (iccid, msisdn, tar, keyset_index, cntr, spi, state, user_data, expires_at)
      SELECT lpad(g::text, 19, '0'), '+4477' || lpad(g::text, 8, '0'), 'bfff01', 1, 1, '1621', 'submitted', ARRAY['\\x00'::bytea], now() + interval '1 day'
        FROM generate_series(1, $1::int) g`, [N]);
    await pool.query(`INSERT INTO ota_submissions (ota_message_id, part, attempt, smpp_message_id, submitted_at)
      SELECT id, 1, 1, $1 || id, now() FROM ota_messages`, [tag]);
    const iccids = Array.from({ length: N }, (_, i) => String(i + 1).padStart(19, '0'));
    await withTransaction(pool, (c) => allocateCounters(c, iccids.map((iccid) => ({ iccid, keysetIndex: 1, count: 1 }))));
    const hot = async () => {
      await pool.query('SELECT pg_stat_force_next_flush()');
      await pool.query('SELECT 1');
      return (await pool.query<{ rel: string; upd: number; hot: number }>(
        `SELECT relname AS rel, n_tup_upd::int AS upd, n_tup_hot_upd::int AS hot FROM pg_stat_user_tables WHERE relname IN ('ota_submissions', 'ota_counters')`)).rows;
    };
    const before = await hot();
    const ids = (await pool.query<{ mid: string }>('SELECT smpp_message_id AS mid FROM ota_submissions ORDER BY id')).rows.map((r) => r.mid);
    const r = await recordReceipts(pool, ids.map((mid) => ({ smppMessageId: mid, stat: 'DELIVRD', err: null, at: new Date() })));
    t.equal(r.matched, N, `${tag}: every receipt matched its submission`);
    await withTransaction(pool, (c) => allocateCounters(c, iccids.map((iccid) => ({ iccid, keysetIndex: 1, count: 1 }))));
    t.equal((await pool.query(`SELECT count(*)::int AS n FROM ota_counters WHERE last_counter = 2`)).rows[0].n, N, `${tag}: every counter raised`);
    const after = await hot();
    const delta = (rel: string) => {
      const a = after.find((x) => x.rel === rel)!;
      const b = before.find((x) => x.rel === rel)!;
      return { upd: a.upd - b.upd, hot: a.hot - b.hot };
    };
    return { submissions: delta('ota_submissions'), counters: delta('ota_counters') };
  };

  const withMigration = await round('with');
  t.equal(withMigration.submissions.upd, N);
  t.ok(withMigration.submissions.hot >= 0.8 * N, `receipts in place: ${withMigration.submissions.hot} of ${N}`);
  t.ok(withMigration.counters.hot >= 0.9 * N, `counters in place: ${withMigration.counters.hot} of ${N}`);
  t.match((await pool.query(`SELECT reloptions FROM pg_class WHERE relname = 'ota_submissions'`)).rows[0].reloptions, ['fillfactor=50']);

  const files = readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.sql')).sort();
  const at = files.indexOf('0016_hot_receipts_and_counters.sql');
  t.ok(at > 0, 'migration 0016 exists');
  await runner({ databaseUrl: db.url, dir: MIGRATIONS_DIR, direction: 'down', count: files.length - at, migrationsTable: 'pgmigrations', log: () => undefined });
  const without = await round('without');
  t.ok(without.submissions.hot < 0.2 * N, `without it, receipts left the page: ${without.submissions.hot} of ${N} in place`);
  t.ok(without.counters.hot < 0.2 * N, `and counters: ${without.counters.hot} of ${N} in place`);
});
