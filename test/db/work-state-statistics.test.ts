/**
 * Migration 0015: no planner statistics for the work tables' state columns. Statistics taken
 * when every OTA message had settled (the end of key generation) told the planner that no
 * message was open; when the identity push then opened hundreds, recording their PoRs walked
 * the open messages and compared each with every PoR. Without statistics on the state, the
 * same statement probes the primary key once per PoR. The test builds that turn of phase,
 * with the migration and, migrated down, without it.
 */
import t from 'tap';
import { readdirSync } from 'node:fs';
import { runner } from 'node-pg-migrate';
import { MIGRATIONS_DIR } from '../../provisioning-api/db/migrate.js';
import { withIndexProbes } from '../../provisioning-api/db/pool.js';
import { otaQueries } from '../../provisioning-api/db/repositories/ota-messages.js';
import { testDatabase } from '../helpers/database.js';

const SETTLED = 20_000;
const OPEN = 500;

t.test('recording PoRs probes by key after every message settled and new ones opened (0015), and did not before it', async (t) => {
  const db = await testDatabase();
  const insert = (from: number, count: number, state: string) => db.pool.query(
    `INSERT INTO ota_messages (iccid, msisdn, tar, keyset_index, cntr, spi, state, user_data, expires_at)
     SELECT lpad(g::text, 19, '0'), '+4477' || lpad(g::text, 8, '0'), 'bfff01', 1, 1, '1621', $3, ARRAY['\\x00'::bytea], now() + interval '1 day'
       FROM generate_series($1::int, $1::int + $2::int - 1) g`, [from, count, state]);
  // The end of one phase: every message settled, and statistics taken then.
  await insert(1, SETTLED, 'por-received');
  await db.pool.query('ANALYZE ota_messages');
  // The next phase opens messages before any new ANALYZE.
  await insert(SETTLED + 1, OPEN, 'submitted');
  const ids = (await db.pool.query<{ id: string }>(`SELECT id::text FROM ota_messages WHERE state = 'submitted' ORDER BY id`)).rows.map((r) => r.id);
  t.equal(ids.length, OPEN);
  const args = [ids, ids.map(() => 0), ids.map(() => true), ids.map(() => null), ids.map(() => new Date())];
  // Before migration 0017 the statement named the open states rather than `is_open`.
  let statement: string = otaQueries.recordPors;
  const plan = () => withIndexProbes(db.pool, async (c) =>
    (await c.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${statement}`, args)).rows.map((r) => r['QUERY PLAN']).join('\n'));

  t.same((await db.pool.query(`SELECT attname FROM pg_stats WHERE tablename = 'ota_messages' AND attname = 'state'`)).rows, [], 'no statistics on the state');
  const withMigration = await plan();
  // Since 0017 the open messages' index is keyed by id alone: a probe of it is a probe by key too.
  t.match(withMigration, /Function Scan on u[\s\S]*Index Scan using ota_messages_(pkey|open) on ota_messages m [^\n]*\n\s+Index Cond: \(id = u\.id\)/, 'each PoR probes by its message id');
  t.notMatch(withMigration, /ota_messages_match|Seq Scan on ota_messages|Bitmap/, 'no walk over the open messages or the table');
  const recorded = await withIndexProbes(db.pool, (c) => c.query(otaQueries.recordPors, args));
  t.equal(recorded.rowCount, OPEN, 'every PoR recorded');

  // Without the migration: the statistics of the settled phase mislead the planner.
  const files = readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.sql')).sort();
  const at = files.indexOf('0015_work_state_statistics.sql');
  t.ok(at > 0, 'migration 0015 exists');
  await runner({ databaseUrl: db.url, dir: MIGRATIONS_DIR, direction: 'down', count: files.length - at, migrationsTable: 'pgmigrations', log: () => undefined });
  await db.pool.query(`DELETE FROM ota_messages WHERE id > $1`, [SETTLED]);
  await db.pool.query(`UPDATE ota_messages SET state = 'por-received'`);
  await db.pool.query('ANALYZE ota_messages');
  await insert(SETTLED + 1, OPEN, 'submitted');
  const again = (await db.pool.query<{ id: string }>(`SELECT id::text FROM ota_messages WHERE state = 'submitted' ORDER BY id`)).rows.map((r) => r.id);
  args[0] = again;
  statement = otaQueries.recordPors.replace('m.is_open', "m.state IN ('queued', 'submitted', 'delivered')");
  t.not(statement, otaQueries.recordPors);
  const without = await plan();
  t.match(without, /ota_messages_match|ota_messages_open/, 'without it the planner walks the open messages by a partial index');
});
