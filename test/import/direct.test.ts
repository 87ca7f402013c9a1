/**
 * Importing straight into the inventory (`importDirect`, what `simchain import FILE` runs),
 * against the real database: every row in one transaction with its keys sealed and the
 * import recorded; a bad row writes nothing at all; duplicates write nothing and send the
 * file through the staged path, whose load lists every offending line; the same file is one
 * import, also when imported twice at once or already staged by the API; a file that changes
 * while it is read, or a source that fails, leaves nothing.
 */
import { createHash, randomBytes } from 'node:crypto';
import t from 'tap';
import { inventory } from '../../sim-applet/index.js';
import {
  getSimImport,
  importDirect,
  loadDataKey,
  loadImport,
  MasterKeyring,
  openKeysets,
  receiveImport,
  type DirectImportOptions,
} from '../../provisioning-api/index.js';
import type { TestDatabase } from '../helpers/database.js';
import { importCounts, importDatabase } from '../helpers/import-database.js';
import { vendorFile } from '../helpers/app.js';

const keyring = new MasterKeyring({ version: 1, key: randomBytes(32) });
let db: TestDatabase;
let tenant: string;
t.before(async () => {
  ({ db, tenant } = await importDatabase());
});

const counts = () => importCounts(db.pool);

const sha256 = (text: string) => createHash('sha256').update(text).digest();
/** The file in chunks that split lines. */
const chunks = (text: string, size = 7777) => Array.from({ length: Math.ceil(text.length / size) }, (_, i) => Buffer.from(text.slice(i * size, (i + 1) * size)));

function direct(text: string, options: Partial<DirectImportOptions> = {}) {
  return importDirect({ pool: db.pool, keyring, tenantId: tenant, open: () => chunks(text), sha256: sha256(text), ...options });
}

t.test('every row in one transaction, keys sealed, the import recorded', async (t) => {
  const before = await counts();
  const file = vendorFile({ count: 5000, networkSecrets: true, attestationSerial: true, firstSerial: 1000 });
  const progress: number[] = [];
  const outcome = await direct(file, { fileName: 'batch.csv', onProgress: (_bytes, rows) => progress.push(rows) });
  t.match(outcome, { outcome: 'completed', rowCount: 5000 });
  if (outcome.outcome !== 'completed') return;
  t.equal(progress.at(-1), 5000, 'progress reaches the last row');
  const imp = (await getSimImport(db.pool, outcome.importId))!;
  t.match(imp, {
    state: 'completed', format: 'csv', rowCount: 5000, loadedCount: 5000, fileName: 'batch.csv', droppedColumns: ['KI', 'OPC'],
    problemCount: 0, jobId: null, byteCount: String(Buffer.byteLength(file)),
  });
  t.ok(imp.contentSha256.equals(sha256(file)));
  t.ok(imp.startedAt && imp.finishedAt);
  const after = await counts();
  t.same(after, { ...before, sims: before.sims + 5000, imports: before.imports + 1, keys: before.keys + 1 }, 'no staging table');

  const reader = new inventory.VendorFileReader();
  const rows = file.split('\n').map((l) => reader.push(l)).filter((r) => r !== null);
  const sim = (await db.pool.query(`SELECT * FROM sims WHERE iccid = $1`, [rows[1234]!.iccid])).rows[0];
  t.match(sim, {
    imsi: rows[1234]!.imsi, msisdn: rows[1234]!.msisdn, tar: 'b00010', tenant_id: tenant, state: 'inventory',
    import_id: outcome.importId, import_line: 1236, attestation_serial: rows[1234]!.attestationSerial, data_key_id: imp.dataKeyId,
  });
  const dataKey = await loadDataKey(db.pool, keyring, imp.dataKeyId);
  t.same(openKeysets(dataKey, sim.iccid, sim.keysets), rows[1234]!.keysets, 'one SIM\'s keys open from its row alone');
  t.throws(() => openKeysets(dataKey, rows[1235]!.iccid, sim.keysets), 'and only with its ICCID');
});

t.test('the out-file form, its header kept as metadata', async (t) => {
  const file = vendorFile({ count: 300, format: 'out', firstSerial: 20_000 });
  const outcome = await direct(file);
  if (outcome.outcome !== 'completed') throw new Error(outcome.outcome);
  t.match(await getSimImport(db.pool, outcome.importId), { format: 'out', rowCount: 300, metadata: { Customer: 'simchain', Type: 'USIM IoT' } });
});

t.test('a bad row anywhere: refused with its lines, nothing written', async (t) => {
  const before = await counts();
  const lines = vendorFile({ count: 9000, firstSerial: 30_000 }).split('\n');
  lines[8500] = lines[8500]!.replace(',+4477', ',+0477');
  const outcome = await direct(lines.join('\n'));
  t.match(outcome, { outcome: 'rejected', rowCount: 9000, problemCount: 1, problems: [{ line: 8501, code: 'MSISDN_FORMAT' }] });
  t.same(await counts(), before, 'no SIM, no import, no data key');
});

t.test('duplicates: nothing imported directly; staged again, the load lists every line', async (t) => {
  const before = await counts();
  const lines = vendorFile({ count: 6000, firstSerial: 40_000 }).split('\n');
  for (const i of [4000, 5500]) {
    const f = lines[i]!.split(',');
    f[1] = lines[10]!.split(',')[1]!;
    lines[i] = f.join(',');
  }
  let diagnosed = 0;
  const outcome = await direct(lines.join('\n'), { onDiagnose: () => diagnosed++ });
  t.equal(diagnosed, 1);
  t.equal(outcome.outcome, 'staged');
  if (outcome.outcome !== 'staged') return;
  const loaded = await loadImport(db.pool, outcome.importId);
  t.match(loaded, { state: 'rejected', loaded: 0, problemCount: 2 });
  const imp = (await getSimImport(db.pool, outcome.importId))!;
  t.same(imp.problems.map((p) => [p.line, p.code]), [[4001, 'DUPLICATE_IMSI'], [5501, 'DUPLICATE_IMSI']]);
  const after = await counts();
  t.same({ sims: after.sims, staging: after.staging }, { sims: before.sims, staging: before.staging }, 'no SIM added');
});

t.test('identifiers already in the inventory: every line, nothing added', async (t) => {
  const first = await direct(vendorFile({ count: 40, firstSerial: 50_000 }));
  t.equal(first.outcome, 'completed');
  const before = await counts();
  const outcome = await direct(vendorFile({ count: 30, firstSerial: 50_030 }));
  if (outcome.outcome !== 'staged') throw new Error(outcome.outcome);
  t.match(await loadImport(db.pool, outcome.importId), { state: 'rejected', problemCount: 30 }, 'ten lines, three identifiers each');
  t.equal((await counts()).sims, before.sims);
});

t.test('the same file is one import: again, twice at once, or staged by the API', async (t) => {
  const file = vendorFile({ count: 4000, firstSerial: 60_000 });
  const first = await direct(file);
  if (first.outcome !== 'completed') throw new Error(first.outcome);
  t.same(await direct(file), { outcome: 'existing', importId: first.importId }, 'again');

  const other = vendorFile({ count: 4000, firstSerial: 70_000 });
  const before = await counts();
  const both = await Promise.all([direct(other), direct(other)]);
  t.same(both.map((o) => o.outcome).sort(), ['completed', 'existing'], 'at once: one imports, the other waits and finds it');
  t.equal(new Set(both.map((o) => ('importId' in o ? o.importId : null))).size, 1, 'the same import');
  t.equal((await counts()).sims, before.sims + 4000, 'no duplicates');

  const uploaded = vendorFile({ count: 100, firstSerial: 80_000 });
  const staged = await receiveImport({ pool: db.pool, keyring, tenantId: tenant, source: [uploaded] });
  if (staged.outcome !== 'staged') throw new Error(staged.outcome);
  t.same(await direct(uploaded), { outcome: 'existing', importId: staged.importId }, 'staged by the API');
});

t.test('not hashed first: recorded by the hash of what was read, once its rows are in', async (t) => {
  const file = vendorFile({ count: 3000, firstSerial: 200_000 });
  const before = await counts();
  const both = await Promise.all([direct(file, { sha256: undefined }), direct(file, { sha256: undefined })]);
  t.same(both.map((o) => o.outcome).sort(), ['completed', 'existing'], 'twice at once: one imports, the other finds it once the first commits');
  t.equal(new Set(both.map((o) => ('importId' in o ? o.importId : null))).size, 1, 'the same import');
  const after = await counts();
  t.same(after, { ...before, sims: before.sims + 3000, imports: before.imports + 1, keys: before.keys + 1 }, 'one import, its rows once, the loser left nothing');
  const imp = (await getSimImport(db.pool, both.find((o) => o.outcome === 'completed')!.importId))!;
  t.ok(imp.contentSha256.equals(sha256(file)), 'the hash of the content read');
  t.same(await direct(file, { sha256: undefined }), { outcome: 'existing', importId: imp.id }, 'again: the same import');
  t.same(await counts(), after);
});

t.test('a file that changes after it was hashed is refused; nothing written', async (t) => {
  const before = await counts();
  const hashed = vendorFile({ count: 200, firstSerial: 90_000 });
  const changed = vendorFile({ count: 200, firstSerial: 90_000 });
  await t.rejects(direct(changed, { sha256: sha256(hashed) }), /changed while it was being imported/);
  t.same(await counts(), before);
});

t.test('a source that fails midway leaves nothing, and the connection is usable', async (t) => {
  const before = await counts();
  const file = vendorFile({ count: 20_000, firstSerial: 100_000 });
  async function* failing() {
    const parts = chunks(file, 65536);
    for (let i = 0; i < parts.length; i++) {
      if (i === Math.floor(parts.length / 2)) throw new Error('disk gone');
      yield parts[i]!;
    }
  }
  await t.rejects(direct(file, { open: failing }), /disk gone/);
  t.same(await counts(), before);
  const again = await direct(file);
  t.equal(again.outcome, 'completed', 'the next import goes through');
});

t.test('identifiers in increasing order: no unique index needed on them, the inventory still checked', async (t) => {
  const partitionIndexes = async (importId: string) => (await db.pool.query<{ relname: string; indexes: string[] }>(
    `SELECT p.relname, array(SELECT i.relname::text FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
       WHERE x.indrelid = c.oid ORDER BY 1) AS indexes
     FROM sims_partitions p JOIN pg_class c ON c.relname = p.relname WHERE p.import_id = $1`, [importId])).rows;
  const ranges = async (importId: string) => (await db.pool.query(
    `SELECT imsi_min, imsi_max, msisdn_min, msisdn_max FROM sims_partitions WHERE import_id = $1`, [importId])).rows;

  // A vendor batch: consecutive numbers, so its IMSIs and MSISDNs strictly increase.
  const sorted = vendorFile({ count: 1000, firstSerial: 300_000 });
  const a = await direct(sorted, { sha256: undefined });
  if (a.outcome !== 'completed') throw new Error(a.outcome);
  const [pa] = await partitionIndexes(a.importId);
  t.same(pa!.indexes.map((n) => n.replace(pa!.relname, 'T')), ['T_import', 'T_pkey', 'T_tenant'], 'no unique IMSI or MSISDN index');
  t.same(await ranges(a.importId), [{ imsi_min: '001010000300000', imsi_max: '001010000300999', msisdn_min: '+447700300000', msisdn_max: '+447700300999' }]);

  // MSISDNs out of order: that column gets its unique index (and finds a repeat).
  const lines = vendorFile({ count: 1000, firstSerial: 310_000 }).trimEnd().split('\n');
  const swap = (i: number, j: number) => {
    const fi = lines[i]!.split(','), fj = lines[j]!.split(',');
    [fi[2], fj[2]] = [fj[2]!, fi[2]!];
    lines[i] = fi.join(','); lines[j] = fj.join(',');
  };
  swap(10, 20);
  const b = await direct(lines.join('\n') + '\n', { sha256: undefined });
  if (b.outcome !== 'completed') throw new Error(b.outcome);
  const [pb] = await partitionIndexes(b.importId);
  t.same(pb!.indexes.map((n) => n.replace(pb!.relname, 'T')), ['T_import', 'T_msisdn_key', 'T_pkey', 'T_tenant'], 'a unique MSISDN index');
  const repeated = vendorFile({ count: 1000, firstSerial: 320_000 }).trimEnd().split('\n');
  const f = repeated[30]!.split(',');
  f[2] = repeated[31]!.split(',')[2]!;
  repeated[30] = f.join(',');
  const before = await counts();
  const c = await direct(repeated.join('\n') + '\n', { sha256: undefined });
  t.equal(c.outcome, 'staged', 'a repeated MSISDN in the file: nothing imported, staged for the diagnosis');
  t.equal((await counts()).sims, before.sims);

  // In increasing order but repeating an IMSI the inventory holds: refused.
  const clash = vendorFile({ count: 10, firstSerial: 330_000 }).trimEnd().split('\n');
  const g = clash[1]!.split(',');
  g[1] = '001010000300999';
  clash[1] = g.join(',');
  t.ok(clash.slice(1).map((l) => l.split(',')[1]!).every((v, i, all) => i === 0 || v > all[i - 1]!), 'still increasing');
  const d = await direct(clash.join('\n') + '\n', { sha256: undefined });
  t.equal(d.outcome, 'staged', 'an IMSI of the first import: refused, staged for the diagnosis');
  t.equal((await counts()).sims, before.sims, 'nothing added');
});
