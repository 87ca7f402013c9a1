/**
 * Updates in place (HOT: no new index entries), counted by PostgreSQL itself
 * (pg_stat_user_tables.n_tup_hot_upd) with the migrations and, migrated down, without them:
 * - 0016: delivery receipts and counter allocations, because their pages keep room for them;
 *   before it, a full page sent nearly every such update to every index of the table. A
 *   receipt makes its row longer (stat, time), so not every new version fits: 85% here, 88%
 *   in the benchmark.
 * - 0017: an OTA message's submitted and delivered updates, because no index names its state
 *   any more (the open-message indexes name `is_open`, true from queued to delivered).
 */
import t from 'tap';
import { readdirSync } from 'node:fs';
import { runner } from 'node-pg-migrate';
import { MIGRATIONS_DIR } from '../../provisioning-api/db/migrate.js';
import { createPool, withTransaction } from '../../provisioning-api/db/pool.js';
import { allocateCounters, markSubmitted, recordReceipts } from '../../provisioning-api/db/repositories/ota-messages.js';
import { testDatabase } from '../helpers/database.js';

const N = 2000;

t.test('messages (0017), receipts and counters (0016) update in place with their migrations, and mostly did not without them', async (t) => {
  const db = await testDatabase();
  // One connection: its statistics are flushed on demand (pg_stat_force_next_flush) before reading them.
  const pool = createPool(db.url, { max: 1 });
  t.teardown(() => pool.end());
  const round = async (tag: string) => {
    await pool.query('TRUNCATE ota_submissions, ota_counters, ota_messages CASCADE');
    const hot = async () => {
      await pool.query('SELECT pg_stat_force_next_flush()');
      await pool.query('SELECT 1');
      return (await pool.query<{ rel: string; upd: number; hot: number }>(
        `SELECT relname AS rel, n_tup_upd::int AS upd, n_tup_hot_upd::int AS hot FROM pg_stat_user_tables WHERE relname IN ('ota_messages', 'ota_submissions', 'ota_counters')`)).rows;
    };
    const delta = (after: Awaited<ReturnType<typeof hot>>, before: Awaited<ReturnType<typeof hot>>, rel: string) => {
      const a = after.find((x) => x.rel === rel)!;
      const b = before.find((x) => x.rel === rel)!;
      return { upd: a.upd - b.upd, hot: a.hot - b.hot };
    };
    const insert = async (state: string) => (await pool.query<{ id: string }>(`INSERT INTO ota_messages (iccid, msisdn, tar, keyset_index, cntr, spi, state, user_data, expires_at)
      SELECT lpad(g::text, 19, '0'), '+4477' || lpad(g::text, 8, '0'), 'bfff01', 1, g, '1621', $2, ARRAY['\\x00'::bytea], now() + interval '1 day'
        FROM generate_series(1, $1::int) g RETURNING id::text`, [N, state])).rows.map((r) => r.id);
    // Each step is the first update of its rows, so whether it stays on the page does not
    // depend on pruning the versions before it (which a concurrent snapshot can hold off).
    // The submitted step: queued messages taken by the SMSC.
    const queued = await insert('queued');
    const t0 = await hot();
    await markSubmitted(pool, queued.map((id) => ({ otaMessageId: id, part: 1, attempt: 1, smppMessageId: `${tag}-q${id}`, at: new Date() })));
    const t1 = await hot();
    // The delivered step: receipts for submitted messages.
    await pool.query(`DELETE FROM ota_submissions; DELETE FROM ota_messages`);
    const submitted = await insert('submitted');
    await pool.query(`INSERT INTO ota_submissions (ota_message_id, part, attempt, smpp_message_id, submitted_at)
      SELECT id, 1, 1, $1 || id, now() FROM ota_messages`, [`${tag}-s`]);
    const iccids = Array.from({ length: N }, (_, i) => String(i + 1).padStart(19, '0'));
    await withTransaction(pool, (c) => allocateCounters(c, iccids.map((iccid) => ({ iccid, keysetIndex: 1, count: 1 }))));
    const t2 = await hot();
    const r = await recordReceipts(pool, submitted.map((id) => ({ smppMessageId: `${tag}-s${id}`, stat: 'DELIVRD', err: null, at: new Date() })));
    t.equal(r.matched, N, `${tag}: every receipt matched its submission`);
    t.same((await pool.query(`SELECT state, count(*)::int AS n FROM ota_messages GROUP BY 1`)).rows, [{ state: 'delivered', n: N }], `${tag}: every message delivered`);
    await withTransaction(pool, (c) => allocateCounters(c, iccids.map((iccid) => ({ iccid, keysetIndex: 1, count: 1 }))));
    t.equal((await pool.query(`SELECT count(*)::int AS n FROM ota_counters WHERE last_counter = 2`)).rows[0].n, N, `${tag}: every counter raised`);
    const t3 = await hot();
    return {
      submittedStep: delta(t1, t0, 'ota_messages'), deliveredStep: delta(t3, t2, 'ota_messages'),
      submissions: delta(t3, t2, 'ota_submissions'), counters: delta(t3, t2, 'ota_counters'),
    };
  };
  const files = readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.sql')).sort();
  const down = async (file: string) => {
    const at = files.indexOf(file);
    t.ok(at > 0, `${file} exists`);
    const applied = (await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM pgmigrations')).rows[0]!.n;
    await runner({ databaseUrl: db.url, dir: MIGRATIONS_DIR, direction: 'down', count: applied - at, migrationsTable: 'pgmigrations', log: () => undefined });
  };

  const all = await round('all');
  t.equal(all.submittedStep.upd, N);
  t.ok(all.submittedStep.hot >= 0.9 * N, `submitted messages in place: ${all.submittedStep.hot} of ${N}`);
  t.equal(all.deliveredStep.upd, N);
  t.ok(all.deliveredStep.hot >= 0.8 * N, `delivered messages in place: ${all.deliveredStep.hot} of ${N}`);
  t.equal(all.submissions.upd, N);
  t.ok(all.submissions.hot >= 0.8 * N, `receipts in place: ${all.submissions.hot} of ${N}`);
  t.ok(all.counters.hot >= 0.9 * N, `counters in place: ${all.counters.hot} of ${N}`);
  t.match((await pool.query(`SELECT reloptions FROM pg_class WHERE relname = 'ota_submissions'`)).rows[0].reloptions, ['fillfactor=50']);
  t.match((await pool.query(`SELECT reloptions FROM pg_class WHERE relname = 'ota_messages'`)).rows[0].reloptions, ['fillfactor=50']);

  await down('0017_ota_messages_hot_states.sql');
  const without17 = await round('without17');
  t.ok(without17.submittedStep.hot < 0.2 * N, `without 0017, submitted messages left the page: ${without17.submittedStep.hot} of ${N} in place`);
  t.ok(without17.deliveredStep.hot < 0.2 * N, `and delivered ones: ${without17.deliveredStep.hot} of ${N} in place`);
  t.ok(without17.submissions.hot >= 0.8 * N, `receipts still in place: ${without17.submissions.hot} of ${N}`);

  await down('0016_hot_receipts_and_counters.sql');
  const without = await round('without');
  t.ok(without.submissions.hot < 0.2 * N, `without 0016, receipts left the page: ${without.submissions.hot} of ${N} in place`);
  t.ok(without.counters.hot < 0.2 * N, `and counters: ${without.counters.hot} of ${N} in place`);
});
