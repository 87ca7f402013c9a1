import t from 'tap';
import { readdirSync } from 'node:fs';
import { migrate } from '../../provisioning-api/index.js';
import { MIGRATIONS_DIR } from '../../provisioning-api/db/migrate.js';
import { runner } from 'node-pg-migrate';
import { testDatabase } from '../helpers/database.js';

t.test('migrations apply once, even from concurrent processes', async (t) => {
  const db = await testDatabase({ migrate: false });
  const runs = await Promise.all([migrate(db.url), migrate(db.url), migrate(db.url)]);
  const files = readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.sql'));
  t.equal(runs.reduce((n, r) => n + r.applied.length, 0), files.length, 'every file applied once in all');
  t.same((await migrate(db.url)).applied, [], 'nothing left to apply');
  const tables = (await db.pool.query<{ t: string }>(`SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`)).rows.map((r) => r.t);
  for (const table of ['api_keys', 'chain_outbox', 'chain_registry_events', 'data_keys', 'jobs', 'outbox', 'pgmigrations', 'sim_import_progress', 'sim_imports', 'sims', 'tenants']) {
    t.ok(tables.includes(table), `table ${table}`);
  }
});

t.test('the busy tables sample 3,000 rows per ANALYZE (statistics target 10, wide columns 0)', async (t) => {
  const db = await testDatabase();
  const targets = (await db.pool.query<{ rel: string; att: string; target: number }>(
    `SELECT a.attrelid::regclass::text AS rel, a.attname AS att, a.attstattarget::int AS target FROM pg_attribute a
      WHERE a.attrelid IN ('ota_messages'::regclass, 'ota_submissions'::regclass, 'ota_counters'::regclass,
                           'provisioning_items'::regclass, 'devices'::regclass, 'outbox'::regclass)
        AND a.attnum > 0 AND NOT a.attisdropped`)).rows;
  t.ok(targets.length > 40, `${targets.length} columns`);
  t.same(targets.filter((r) => r.target !== 0 && r.target !== 10), [], 'every column at 10, or 0 where no query filters');
  t.ok(targets.some((r) => r.rel === 'ota_messages' && r.att === 'user_data' && r.target === 0), 'SMS parts stay at 0 (migration 0012)');
  t.ok(targets.some((r) => r.rel === 'ota_messages' && r.att === 'msisdn' && r.target === 10), 'a key a query filters on is at 10');
  t.ok(targets.some((r) => r.rel === 'ota_messages' && r.att === 'state' && r.target === 0), 'the state, wrong a moment after each ANALYZE, at 0 (migration 0015)');
  // ANALYZE then keeps at most 10 most common values and 11 histogram bounds.
  await db.pool.query(`INSERT INTO ota_counters (iccid, keyset_index, last_counter) SELECT lpad(g::text, 19, '0'), 1 + g % 15, g FROM generate_series(1, 5000) g`);
  await db.pool.query('ANALYZE ota_counters');
  const s = (await db.pool.query<{ bounds: number | null }>(`SELECT cardinality(histogram_bounds::text::text[]) AS bounds FROM pg_stats WHERE tablename = 'ota_counters' AND attname = 'last_counter'`)).rows[0]!;
  t.ok(s.bounds !== null && s.bounds <= 11, `last_counter histogram: ${s.bounds} bounds`);
});

t.test('migration 0014: the certificate column on sims and on imports staged before it; down removes both', async (t) => {
  const db = await testDatabase({ migrate: false });
  const files = readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.sql')).sort();
  const at = files.indexOf('0014_sim_attestation_certificates.sql');
  t.ok(at > 0, 'migration 0014 exists');
  await migrate(db.url, () => undefined, { count: at });
  // An upload staged by the code before 0014: its staging table has no certificate column.
  await db.pool.query(`CREATE TABLE sim_import_staging."00000000-0000-4000-8000-000000000014" (
    line integer NOT NULL, iccid text NOT NULL, imsi text NOT NULL, msisdn text NOT NULL, tar text NOT NULL, keysets bytea NOT NULL, attestation_serial text)`);
  const columns = async (table: string) => (await db.pool.query<{ c: string }>(
    `SELECT attname AS c FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped`, [table])).rows.map((r) => r.c);
  t.notOk((await columns('sims')).includes('attestation_certificate'));
  t.same((await migrate(db.url)).applied.length, files.length - at, 'the rest applied');
  t.ok((await columns('sims')).includes('attestation_certificate'), 'sims has the column');
  t.ok((await columns('sim_import_staging."00000000-0000-4000-8000-000000000014"')).includes('attestation_certificate'), 'so does the staged import');
  const check = (await db.pool.query<{ def: string }>(`SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conname = 'sims_attestation_certificate_check'`)).rows;
  t.match(check, [{ def: /octet_length\(attestation_certificate\) >= 64.*<= 2048/ }], 'sizes outside 64..2048 bytes are refused');
  await runner({ databaseUrl: db.url, dir: MIGRATIONS_DIR, direction: 'down', count: files.length - at, migrationsTable: 'pgmigrations', log: () => undefined });
  t.notOk((await columns('sims')).includes('attestation_certificate'), 'down: gone from sims');
  t.notOk((await columns('sim_import_staging."00000000-0000-4000-8000-000000000014"')).includes('attestation_certificate'), 'and from the staged import');
});
