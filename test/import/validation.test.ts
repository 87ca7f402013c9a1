/**
 * Every import rule against the real database: a file that breaks a row rule is refused
 * whole with its lines and writes nothing at all; a file that repeats an identifier, in
 * itself or against the inventory, is rejected by the set-based load with every offending
 * line, and adds no SIM.
 */
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { inventory } from '../../sim-applet/index.js';
import { loadImport, MasterKeyring, receiveImport } from '../../provisioning-api/index.js';
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

const receive = (text: string) => receiveImport({ pool: db.pool, keyring, tenantId: tenant, source: [Buffer.from(text)] });

t.test('a bad row anywhere refuses the file and writes nothing', async (t) => {
  const before = await counts();
  const good = vendorFile({ count: 2000 }).split('\n');
  good[1500] = good[1500]!.replace(/^(\d+)/, (iccid) => iccid.slice(0, -1) + String((Number(iccid.at(-1)) + 1) % 10));
  good[1800] = good[1800]!.replace(',+4477', ',+0477');
  const outcome = await receive(good.join('\n'));
  t.equal(outcome.outcome, 'rejected');
  if (outcome.outcome !== 'rejected') return;
  t.same(outcome.problems.map((p) => [p.line, p.code]), [[1501, 'ICCID_CHECK_DIGIT'], [1801, 'MSISDN_FORMAT']]);
  t.equal(outcome.rowCount, 2000);
  t.same(await counts(), before, 'no SIM, no import, no data key, no staging table');
});

t.test('a header problem refuses the file and writes nothing', async (t) => {
  const before = await counts();
  const outcome = await receive(vendorFile({ count: 3 }).replace('MSISDN', 'PHONE'));
  t.equal(outcome.outcome, 'rejected');
  if (outcome.outcome === 'rejected') t.same(outcome.problems.map((p) => p.code).sort(), ['MISSING_COLUMN', 'UNKNOWN_COLUMN']);
  t.same(await counts(), before);
});

const DUPLICATES: { name: string; edit: (lines: string[]) => string[]; code: string; lines: number[] }[] = [
  {
    name: 'the same ICCID on two lines',
    edit: (l) => { const f = l[30]!.split(','); f[0] = l[10]!.split(',')[0]!; l[30] = f.join(','); return l; },
    code: 'DUPLICATE_ICCID', lines: [31],
  },
  {
    name: 'the same IMSI on two lines',
    edit: (l) => { const f = l[40]!.split(','); f[1] = l[5]!.split(',')[1]!; l[40] = f.join(','); return l; },
    code: 'DUPLICATE_IMSI', lines: [41],
  },
  {
    name: 'the same MSISDN on three lines',
    edit: (l) => { for (const i of [20, 45]) { const f = l[i]!.split(','); f[2] = l[3]!.split(',')[2]!; l[i] = f.join(','); } return l; },
    code: 'DUPLICATE_MSISDN', lines: [21, 46],
  },
];

for (const d of DUPLICATES) {
  t.test(`rejects ${d.name} (${d.code}) at load, loading nothing`, async (t) => {
    const before = await counts();
    const lines = d.edit(vendorFile({ count: 50, firstSerial: 100_000 + DUPLICATES.indexOf(d) * 1000 }).split('\n'));
    const outcome = await receive(lines.join('\n'));
    t.equal(outcome.outcome, 'staged');
    if (outcome.outcome !== 'staged') return;
    const loaded = await loadImport(db.pool, outcome.importId);
    t.equal(loaded.state, 'rejected');
    const imp = (await db.pool.query(`SELECT state, problems, problem_count FROM sim_imports WHERE id = $1`, [outcome.importId])).rows[0];
    t.equal(imp.state, 'rejected');
    t.same(imp.problems.map((p: { line: number; code: string }) => [p.line, p.code]), d.lines.map((l) => [l, d.code]));
    const after = await counts();
    t.equal(after.sims, before.sims, 'no SIM added');
    t.equal(after.staging, before.staging, 'the staging table is dropped');
  });
}

t.test('identifiers already in the inventory are rejected with their lines', async (t) => {
  const first = await receive(vendorFile({ count: 30, firstSerial: 200_000 }));
  if (first.outcome !== 'staged') throw new Error('seed');
  t.equal((await loadImport(db.pool, first.importId)).state, 'completed');
  const before = await counts();
  // Serials 200,020..200,039: the first ten overlap the import above (ICCID, IMSI and MSISDN each).
  const outcome = await receive(vendorFile({ count: 20, firstSerial: 200_020 }));
  if (outcome.outcome !== 'staged') throw new Error('staged expected');
  const loaded = await loadImport(db.pool, outcome.importId, { maxProblems: 5 });
  t.equal(loaded.state, 'rejected');
  t.equal(loaded.problemCount, 30, 'ten lines, three identifiers each, all counted');
  const imp = (await db.pool.query(`SELECT problems FROM sim_imports WHERE id = $1`, [outcome.importId])).rows[0];
  t.same(imp.problems.map((p: { line: number; code: string }) => [p.line, p.code]), [
    [2, 'ICCID_EXISTS'], [2, 'IMSI_EXISTS'], [2, 'MSISDN_EXISTS'], [3, 'ICCID_EXISTS'], [3, 'IMSI_EXISTS'],
  ], 'the first five, by line');
  t.equal((await counts()).sims, before.sims);
  t.equal(inventory.iccidForSerial(200_020), (await db.pool.query(`SELECT iccid FROM sims ORDER BY iccid DESC LIMIT 1 OFFSET 9`)).rows[0].iccid);
});
