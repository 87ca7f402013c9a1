/**
 * The inventory partitioned by ICCID range against the real database: each import's rows
 * become a partition of their own with exactly the indexes the parent's partitioned ones
 * adopt (no rebuilt twin); a later import of a disjoint range is a second partition; one
 * whose ICCIDs interleave with existing partitions goes into them row by row and its gaps
 * become partitions; an IMSI, MSISDN or ICCID already in another partition, or repeated in
 * the file, rejects the import and leaves the inventory, partitions and bookkeeping as they
 * were. And migration 0011 keeps the SIMs that existed before it, and the keyset rotations'
 * foreign key.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { runner } from 'node-pg-migrate';
import t, { type Test } from 'tap';
import { inventory } from '../../sim-applet/index.js';
import {
  attachLoadTable, createLoadTable, INVENTORY_IDENTIFIERS_LOCK, loadImport, MasterKeyring, migrate, MIGRATIONS_DIR,
  receiveImport, withTransaction, type LoadOutcome, type Pool,
} from '../../provisioning-api/index.js';
import { testDatabase, type TestDatabase } from '../helpers/database.js';
import { importDatabase } from '../helpers/import-database.js';
import { vendorFile } from '../helpers/app.js';

const keyring = new MasterKeyring({ version: 1, key: randomBytes(32) });
let db: TestDatabase;
let tenant: string;
t.before(async () => {
  ({ db, tenant } = await importDatabase());
});

const imsi = (serial: number) => '00101' + String(serial).padStart(10, '0');
const msisdn = (serial: number) => '+4477' + String(serial).padStart(8, '0');

/** A CSV vendor file of the given serials (any order, gaps allowed), each chunk generated with `options`. */
function file(chunks: { serials: number[]; options?: Partial<inventory.VendorFileOptions> }[]): string[] {
  let header = '';
  const lines: string[] = [];
  for (const { serials, options } of chunks) {
    const first = Math.min(...serials);
    const generated = vendorFile({ count: Math.max(...serials) - first + 1, firstSerial: first, ...options }).trimEnd().split('\n');
    header = generated[0]!;
    for (const s of serials) lines.push(generated[1 + s - first]!);
  }
  return [header, ...lines];
}

const range = (from: number, to: number, step = 1) => Array.from({ length: Math.ceil((to - from) / step) }, (_, i) => from + i * step);

async function importFile(lines: string[]): Promise<LoadOutcome> {
  const staged = await receiveImport({ pool: db.pool, keyring, tenantId: tenant, source: [Buffer.from(lines.join('\n') + '\n')] });
  if (staged.outcome !== 'staged') throw new Error(`not staged: ${JSON.stringify(staged)}`);
  return loadImport(db.pool, staged.importId);
}

interface Partition {
  relname: string;
  lower: string;
  upper: string;
  rows: number;
}

/** The partitions of `sims` as PostgreSQL has them (pg_inherits, bounds) and their rows. */
async function partitions(pool: Pool): Promise<Partition[]> {
  const r = await pool.query<{ relname: string; bound: string }>(`SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) AS bound
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'sims'::regclass ORDER BY c.relname`);
  const out: Partition[] = [];
  for (const { relname, bound } of r.rows) {
    const m = /^FOR VALUES FROM \('(.*)'\) TO \('(.*)'\)$/s.exec(bound);
    if (!m) throw new Error(`unexpected bound ${bound}`);
    const rows = (await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${relname}`)).rows[0]!.n;
    out.push({ relname, lower: m[1]!, upper: m[2]!, rows });
  }
  return out.sort((a, b) => (a.lower < b.lower ? -1 : 1));
}

/** The bookkeeping table, in the same shape. */
async function recorded(pool: Pool): Promise<{ relname: string; lower: string; upper: string; importId: string | null }[]> {
  return (await pool.query(`SELECT relname, lower_iccid AS lower, upper_iccid AS upper, import_id AS "importId"
    FROM sims_partitions ORDER BY lower_iccid`)).rows;
}

/** Every index of a table: name, the parent index it is attached to, kind. */
async function indexes(pool: Pool, table: string): Promise<{ name: string; parent: string | null; kind: string }[]> {
  return (await pool.query(`SELECT c.relname AS name, p.relname AS parent,
      CASE WHEN x.indisprimary THEN 'primary' WHEN x.indisunique THEN 'unique' ELSE a.amname END AS kind
    FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid JOIN pg_am a ON a.oid = c.relam
    LEFT JOIN pg_inherits i ON i.inhrelid = c.oid LEFT JOIN pg_class p ON p.oid = i.inhparent
    WHERE x.indrelid = $1::regclass ORDER BY c.relname`, [table])).rows;
}

/** What the inventory looks like: SIMs, partitions, bookkeeping, tables named like load tables. */
async function snapshot(pool: Pool) {
  return {
    sims: (await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM sims')).rows[0]!.n,
    partitions: await partitions(pool),
    recorded: await recorded(pool),
    tables: (await pool.query<{ t: string }>(`SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' AND tablename ~ '^sims_[0-9a-f]{32}'
      ORDER BY 1`)).rows.map((r) => r.t),
  };
}

const loadTable = (importId: string) => `sims_${importId.replace(/-/g, '')}`;
const after = (iccid: string) => iccid + '\u0001';

/** Every partition's indexes: its own five, three of them attached to the parent's. */
function expectPartitionIndexes(t: Test, table: string, found: { name: string; parent: string | null; kind: string }[]) {
  t.same(found, [
    { name: `${table}_import`, parent: 'sims_import', kind: 'brin' },
    { name: `${table}_imsi_key`, parent: null, kind: 'unique' },
    { name: `${table}_msisdn_key`, parent: null, kind: 'unique' },
    { name: `${table}_pkey`, parent: 'sims_pkey', kind: 'primary' },
    { name: `${table}_tenant`, parent: 'sims_tenant', kind: 'btree' },
  ], `${table}: its five indexes, the parent's three adopted, none rebuilt`);
}

// Serials: A takes the even ones in [100, 300), B the even ones in [2000, 2200), C the odd
// ones in [51, 2301): before A, inside A, between A and B, inside B, after B.
const A = range(100, 300, 2);
const B = range(2000, 2200, 2);
const C = range(51, 2301, 2);
const importIds: Record<string, string> = {};

t.test('an import becomes a partition of its own, with exactly its indexes', async (t) => {
  t.same(await partitions(db.pool), [], 'a fresh inventory has no partition (the empty pre-0011 table was dropped)');
  const loaded = await importFile(file([{ serials: A }]));
  t.match(loaded, { state: 'completed', loaded: A.length });
  importIds.A = loaded.importId;
  const table = loadTable(loaded.importId);
  t.same(await partitions(db.pool), [{ relname: table, lower: inventory.iccidForSerial(100), upper: after(inventory.iccidForSerial(298)), rows: A.length }]);
  t.same(await recorded(db.pool), [{ relname: table, lower: inventory.iccidForSerial(100), upper: after(inventory.iccidForSerial(298)), importId: loaded.importId }]);
  expectPartitionIndexes(t, table, await indexes(db.pool, table));
  t.same((await indexes(db.pool, 'sims')).map((i) => i.name), ['sims_import', 'sims_pkey', 'sims_tenant'], 'the parent keeps its three');
  const checks = (await db.pool.query(`SELECT conname FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'c' ORDER BY 1`, [table])).rows;
  t.same(checks.map((c) => c.conname), ['sims_attestation_certificate_check', 'sims_check', 'sims_pending_action_check', 'sims_state_check', 'sims_tar_check'], 'the range check is dropped once attached');
  // (A hundred rows: a sequential scan would be cheaper, so it is ruled out.)
  const plan = await withTransaction(db.pool, async (c) => {
    await c.query('SET LOCAL enable_seqscan = off');
    return (await c.query(`EXPLAIN SELECT * FROM sims WHERE iccid = $1`, [inventory.iccidForSerial(150)])).rows.map((r) => r['QUERY PLAN']).join('\n');
  });
  t.match(plan, new RegExp(`Index Scan using ${table}_pkey on ${table}`), 'lookups by ICCID prune to the partition and use its adopted primary key');
  const sim = (await db.pool.query(`SELECT imsi, msisdn, import_id AS "importId", import_line AS line, state FROM sims WHERE iccid = $1`, [inventory.iccidForSerial(104)])).rows[0];
  t.same(sim, { imsi: imsi(104), msisdn: msisdn(104), importId: loaded.importId, line: 4, state: 'inventory' });
  // The TAR check (no regular expression: octet length and a hex round trip) still takes
  // exactly six lower-case hex digits.
  for (const tar of ['B00010', 'b0001g', 'b0001', 'b000100', '']) {
    await t.rejects(
      withTransaction(db.pool, (c) => c.query(`UPDATE sims SET tar = $1 WHERE iccid = $2`, [tar, inventory.iccidForSerial(104)])),
      { code: /^(23514|22023)$/ },
      `TAR ${JSON.stringify(tar)} refused`,
    );
  }
  await withTransaction(db.pool, async (c) => {
    const r = await c.query(`UPDATE sims SET tar = 'c0ffee' WHERE iccid = $1`, [inventory.iccidForSerial(104)]);
    t.equal(r.rowCount, 1, 'a lower-case hex TAR is taken');
    await c.query(`UPDATE sims SET tar = 'b00010' WHERE iccid = $1`, [inventory.iccidForSerial(104)]);
  });
  // Half of each page is left for the update a SIM gets (to provisioning, later to active):
  // no indexed column changes, so it is HOT and touches no index.
  t.same((await db.pool.query(`SELECT reloptions FROM pg_class WHERE oid = $1::regclass`, [table])).rows[0].reloptions, ['fillfactor=50']);
  const c = await db.pool.connect();
  const counts = `SELECT pg_stat_get_xact_tuples_updated($1::regclass)::int AS updated, pg_stat_get_xact_tuples_hot_updated($1::regclass)::int AS hot`;
  try {
    await c.query('BEGIN');
    const before = (await c.query(counts, [table])).rows[0];
    await c.query(`UPDATE sims SET state = 'provisioning', state_changed_at = now() WHERE import_id = $1`, [loaded.importId]);
    const after = (await c.query(counts, [table])).rows[0];
    t.equal(after.updated - before.updated, A.length, 'every SIM of the import changed state');
    // (The page of the SIM whose TAR changed above holds those versions too: a few of its rows
    // may not fit. Filled to 100%, as before, none would.)
    t.ok(after.hot - before.hot >= 0.9 * A.length, `HOT: ${after.hot - before.hot} of ${A.length}`);
  } finally {
    await c.query('ROLLBACK');
    c.release();
  }
});

t.test('an import of a disjoint range is a second partition', async (t) => {
  const loaded = await importFile(file([{ serials: B }]));
  t.match(loaded, { state: 'completed', loaded: B.length });
  importIds.B = loaded.importId;
  const table = loadTable(loaded.importId);
  const parts = await partitions(db.pool);
  t.same(parts.map((p) => p.relname), [loadTable(importIds.A!), table]);
  t.same(parts[1], { relname: table, lower: inventory.iccidForSerial(2000), upper: after(inventory.iccidForSerial(2198)), rows: B.length });
  t.same((await recorded(db.pool)).map((r) => r.relname), [loadTable(importIds.A!), table]);
  expectPartitionIndexes(t, table, await indexes(db.pool, table));
});

t.test('an import interleaving with partitions: rows routed into them, each gap a partition of its own', async (t) => {
  const loaded = await importFile(file([{ serials: C }]));
  t.match(loaded, { state: 'completed', loaded: C.length });
  const table = loadTable(loaded.importId);
  const parts = await partitions(db.pool);
  const a = loadTable(importIds.A!);
  const b = loadTable(importIds.B!);
  const expected = [
    { relname: `${table}_1`, from: 51, to: 99, rows: 25 },
    { relname: a, from: 100, to: 298, rows: A.length + 99 },
    { relname: `${table}_2`, from: 299, to: 1999, rows: 851 },
    { relname: b, from: 2000, to: 2198, rows: B.length + 99 },
    { relname: `${table}_3`, from: 2199, to: 2299, rows: 51 },
  ];
  t.same(parts, expected.map((p) => ({ relname: p.relname, lower: inventory.iccidForSerial(p.from), upper: after(inventory.iccidForSerial(p.to)), rows: p.rows })));
  t.same((await recorded(db.pool)).map((r) => [r.relname, r.importId]), expected.map((p) => [p.relname, p.relname.startsWith(table) ? loaded.importId : p.relname === a ? importIds.A : importIds.B]));
  for (const p of [1, 2, 3]) expectPartitionIndexes(t, `${table}_${p}`, await indexes(db.pool, `${table}_${p}`));
  t.same((await snapshot(db.pool)).tables, [a, b, `${table}_1`, `${table}_2`, `${table}_3`].sort(), 'the load table is dropped');

  const all = (await db.pool.query<{ iccid: string; n: number }>(`SELECT iccid, count(*)::int AS n FROM sims GROUP BY iccid ORDER BY iccid`)).rows;
  t.equal(all.length, A.length + B.length + C.length, 'every SIM');
  t.ok(all.every((r) => r.n === 1), 'each once');
  t.same(all.map((r) => r.iccid), [...A, ...B, ...C].sort((x, y) => x - y).map((s) => inventory.iccidForSerial(s)));
  const routed = (await db.pool.query(`SELECT tableoid::regclass::text AS rel, import_line AS line FROM sims WHERE iccid = $1`, [inventory.iccidForSerial(151)])).rows[0];
  t.same(routed, { rel: a, line: C.indexOf(151) + 2 }, 'a row inside A is in A\'s partition, with its own import line');
  // Every partition's recorded IMSI and MSISDN ranges cover its rows, the routed ones too
  // (imports are matched only against partitions whose ranges overlap theirs).
  const uncovered = (await db.pool.query(`SELECT p.relname FROM sims_partitions p
    JOIN (SELECT tableoid::regclass::text AS rel, min(imsi) AS i0, max(imsi) AS i1, min(msisdn) AS m0, max(msisdn) AS m1 FROM sims GROUP BY 1) s
      ON s.rel = p.relname
    WHERE s.i0 < p.imsi_min OR s.i1 > p.imsi_max OR s.m0 < p.msisdn_min OR s.m1 > p.msisdn_max`)).rows;
  t.same(uncovered, [], 'recorded ranges cover every partition\'s rows');
});

/** An import expected to be rejected with these problems, leaving the inventory exactly as it was. */
async function rejected(t: Test, lines: string[], problems: [number, string][]) {
  const before = await snapshot(db.pool);
  const loaded = await importFile(lines);
  t.equal(loaded.state, 'rejected');
  const imp = (await db.pool.query(`SELECT problems FROM sim_imports WHERE id = $1`, [loaded.importId])).rows[0];
  t.same(imp.problems.map((p: { line: number; code: string }) => [p.line, p.code]), problems);
  t.same(await snapshot(db.pool), before, 'no SIM, partition, bookkeeping row or load table added');
}

t.test('an IMSI in another import refuses the file, nothing written', async (t) => {
  const lines = file([{ serials: range(5000, 5010) }]);
  lines[4] = lines[4]!.replace(imsi(5003), imsi(2100));
  await rejected(t, lines, [[5, 'IMSI_EXISTS']]);
});

t.test('an MSISDN in another import refuses the file, nothing written', async (t) => {
  const lines = file([{ serials: range(6000, 6010) }]);
  lines[7] = lines[7]!.replace(msisdn(6006), msisdn(151));
  await rejected(t, lines, [[8, 'MSISDN_EXISTS']]);
});

t.test('an ICCID inside an existing partition\'s range refuses the file, nothing written', async (t) => {
  // Other IMSIs and MSISDNs: only the ICCIDs repeat. Serial 150 is A's, 9000.. are free
  // (a gap partition would have been created).
  const other = { imsiPrefix: '00102', msisdnPrefix: '4478' };
  await rejected(t, file([{ serials: [9000, 9001], options: other }, { serials: [150], options: other }, { serials: [9002], options: other }]), [[4, 'ICCID_EXISTS']]);
});

t.test('duplicates inside one file refuse it, nothing written', async (t) => {
  const lines = file([{ serials: range(7000, 7010) }]);
  lines[6] = lines[6]!.replace(inventory.iccidForSerial(7005), inventory.iccidForSerial(7001));
  await rejected(t, lines, [[7, 'DUPLICATE_ICCID']]);
});

t.test('attachLoadTable: duplicates leave the transaction usable and the load table as given, unlocked', async (t) => {
  const client = await db.pool.connect();
  try {
    await client.query('BEGIN');
    const importId = '00000000-0000-4000-8000-000000000001';
    const table = await createLoadTable(client, importId);
    t.equal(table, 'sims_00000000000040008000000000000001');
    // B's SIMs again under other ICCIDs: their IMSIs and MSISDNs are in the inventory.
    await client.query(`INSERT INTO ${table} SELECT * FROM sims WHERE import_id = $1`, [importIds.B]);
    await client.query(`UPDATE ${table} SET iccid = '7' || iccid`);
    t.same(await attachLoadTable(client, table, importId), { outcome: 'duplicates' });
    t.equal((await client.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n, B.length, 'the transaction goes on');
    t.same((await client.query(`SELECT indexrelid FROM pg_index WHERE indrelid = $1::regclass`, [table])).rows, [], 'no index left');
    const lock = (await client.query(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()`)).rows[0].n;
    t.equal(lock, 0, 'the inventory identifiers lock is released with the savepoint');
    await client.query('ROLLBACK');

    // Without them, the same table is attached; the lock is held until the transaction ends.
    await client.query('BEGIN');
    await createLoadTable(client, importId);
    await client.query(`INSERT INTO ${table} SELECT * FROM sims WHERE import_id = $1`, [importIds.B]);
    await client.query(`UPDATE ${table} SET iccid = '7' || iccid, imsi = '9' || imsi, msisdn = '+9' || msisdn`);
    t.same(await attachLoadTable(client, table, importId), { outcome: 'attached', partitions: 1 });
    const held = (await client.query(`SELECT (classid::bigint << 32) | objid::bigint AS key FROM pg_locks
      WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted`)).rows;
    t.same(held, [{ key: INVENTORY_IDENTIFIERS_LOCK.toString() }]);
    await client.query('ROLLBACK');
  } finally {
    client.release();
  }
});

t.test('concurrent imports of the same IMSI: one completes, the other is rejected', async (t) => {
  const first = file([{ serials: range(8000, 8010) }]);
  const second = file([{ serials: range(8100, 8110) }]);
  second[2] = second[2]!.replace(imsi(8101), imsi(8005));
  const staged = await Promise.all([first, second].map((lines) =>
    receiveImport({ pool: db.pool, keyring, tenantId: tenant, source: [Buffer.from(lines.join('\n') + '\n')] })));
  const ids = staged.map((s) => (s.outcome === 'staged' ? s.importId : ''));
  const loaded = await Promise.all(ids.map((id) => loadImport(db.pool, id)));
  t.same(loaded.map((l) => l.state).sort(), ['completed', 'rejected']);
  const count = (await db.pool.query(`SELECT count(*)::int AS n FROM sims WHERE imsi = $1`, [imsi(8005)])).rows[0].n;
  t.equal(count, 1, 'the IMSI is in the inventory once');
});

t.test('migration 0011 keeps the SIMs and keyset rotations that exist', async (t) => {
  const old = await testDatabase({ migrate: false });
  const files = readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.sql')).sort();
  const before0011 = files.indexOf('0011_sims_partitioned.sql');
  await migrate(old.url, () => undefined, { count: before0011 });
  const version = (await old.pool.query(`SELECT name FROM pgmigrations ORDER BY run_on DESC, id DESC LIMIT 1`)).rows[0].name;
  t.equal(version, files[before0011 - 1]!.replace(/\.sql$/, ''));
  const owner = (await old.pool.query<{ id: string }>(`INSERT INTO tenants (name, kind) VALUES ('op', 'operator') RETURNING id`)).rows[0]!.id;
  await old.pool.query(`INSERT INTO sims (iccid, imsi, msisdn, tar, tenant_id, import_id, import_line, data_key_id, keysets)
    SELECT '8999' || lpad(g::text, 16, '0'), '00101' || lpad(g::text, 10, '0'), '+4477' || lpad(g::text, 8, '0'), 'b00010', $1,
      gen_random_uuid(), g, 1, '\\x00' FROM generate_series(1, 500) g`, [owner]);
  const job = async () => (await old.pool.query<{ id: string }>(`INSERT INTO jobs (tenant_id, kind, input) VALUES ($1, 'sim.rotate-keyset', '{}') RETURNING id`, [owner])).rows[0]!.id;
  const rotate = async (iccid: string) => old.pool.query(`INSERT INTO keyset_rotations (job_id, iccid, keyset_index) VALUES ($1, $2, 1)`, [await job(), iccid]);
  await rotate('89990000000000000007');
  const rows = (await old.pool.query(`SELECT * FROM sims ORDER BY iccid`)).rows;

  t.same((await migrate(old.url)).applied, files.slice(before0011).map((f) => f.replace(/\.sql$/, '')));
  // Every column as it was; the later migrations' new columns (0014: attestation_certificate) are NULL.
  t.same((await old.pool.query(`SELECT * FROM sims ORDER BY iccid`)).rows, rows.map((r) => ({ ...r, attestation_certificate: null })), 'every SIM, every column');
  t.same(await partitions(old.pool), [{ relname: 'sims_migrated', lower: '89990000000000000001', upper: after('89990000000000000500'), rows: 500 }]);
  t.same(await recorded(old.pool), [{ relname: 'sims_migrated', lower: '89990000000000000001', upper: after('89990000000000000500'), importId: null }]);
  t.same(await indexes(old.pool, 'sims_migrated'), [
    { name: 'sims_migrated_import', parent: 'sims_import', kind: 'brin' },
    { name: 'sims_migrated_imsi_key', parent: null, kind: 'unique' },
    { name: 'sims_migrated_msisdn_key', parent: null, kind: 'unique' },
    { name: 'sims_migrated_pkey', parent: 'sims_pkey', kind: 'primary' },
    { name: 'sims_migrated_tenant', parent: 'sims_tenant', kind: 'btree' },
  ], 'the old indexes, adopted by the parent\'s');
  t.equal((await old.pool.query(`SELECT count(*)::int AS n FROM keyset_rotations`)).rows[0].n, 1, 'the rotation is kept');

  await t.rejects(rotate('89990000000000009999'), { code: '23503' }, 'the foreign key refuses an unknown ICCID');
  await rotate('89990000000000000008');
  await t.rejects(old.pool.query(`DELETE FROM sims WHERE iccid = '89990000000000000008'`), { code: '23503' }, 'and a referenced SIM cannot go');

  // An import after the migration goes next to the old SIMs.
  const pool = old.pool;
  const staged = await receiveImport({ pool, keyring, tenantId: owner, source: [Buffer.from(vendorFile({ count: 20, firstSerial: 1000 }))] });
  if (staged.outcome !== 'staged') throw new Error(staged.outcome);
  t.match(await loadImport(pool, staged.importId), { state: 'completed', loaded: 20 });
  t.same((await partitions(pool)).map((p) => [p.relname, p.rows]), [['sims_migrated', 500], [loadTable(staged.importId), 20]]);

  // Down: one plain table again, every SIM, the original indexes, the foreign key.
  const everything = (await pool.query(`SELECT * FROM sims ORDER BY iccid`)).rows;
  await runner({ databaseUrl: old.url, dir: MIGRATIONS_DIR, direction: 'down', count: files.length - before0011, migrationsTable: 'pgmigrations', log: () => undefined });
  t.equal((await pool.query(`SELECT relkind FROM pg_class WHERE oid = 'sims'::regclass`)).rows[0].relkind, 'r');
  // 0014's column goes with its migration; every other column is as it was.
  t.same((await pool.query(`SELECT * FROM sims ORDER BY iccid`)).rows, everything.map(({ attestation_certificate: _, ...r }) => r));
  t.same((await indexes(pool, 'sims')).map((i) => [i.name, i.kind]), [
    ['sims_import', 'brin'], ['sims_imsi_key', 'unique'], ['sims_msisdn_key', 'unique'], ['sims_pkey', 'primary'], ['sims_tenant_iccid', 'btree'],
  ]);
  t.same((await pool.query(`SELECT tablename FROM pg_tables WHERE tablename LIKE 'sims%' ORDER BY 1`)).rows, [{ tablename: 'sims' }]);
  await t.rejects(rotate('89990000000000009999'), { code: '23503' }, 'the foreign key is back');
});
