/**
 * A large import reads its data lines on a worker thread (provisioning-api/import/rows.ts):
 * the outcome must be exactly what reading on the importing thread gives. Against the real
 * database: the same SIMs on the same lines with the same keys; the same problems (line
 * numbers, codes, the first ones kept, all counted) for bad lines anywhere in the file, in
 * both file forms; a file whose header is refused never starts a worker.
 */
import { createHash, randomBytes } from 'node:crypto';
import t from 'tap';
import { inventory } from '../../sim-applet/index.js';
import { importDirect, loadDataKey, MasterKeyring, openKeysets, type DirectImportOptions } from '../../provisioning-api/index.js';
import { readInventory } from '../../provisioning-api/import/rows.js';
import type { TestDatabase } from '../helpers/database.js';
import { importCounts, importDatabase } from '../helpers/import-database.js';
import { vendorFile } from '../helpers/app.js';

const keyring = new MasterKeyring({ version: 1, key: randomBytes(32) });
let db: TestDatabase;
let tenant: string;
t.before(async () => {
  ({ db, tenant } = await importDatabase());
});

/** The file in chunks that split lines. */
const chunks = (text: string, size = 65_521) => Array.from({ length: Math.ceil(text.length / size) }, (_, i) => Buffer.from(text.slice(i * size, (i + 1) * size)));

function direct(text: string, worker: boolean, options: Partial<DirectImportOptions> = {}) {
  return importDirect({
    pool: db.pool, keyring, tenantId: tenant, open: () => chunks(text), sha256: createHash('sha256').update(text).digest(), worker, ...options,
  });
}

async function simsOf(importId: string) {
  const rows = (await db.pool.query<{ iccid: string; imsi: string; msisdn: string; tar: string; import_line: number; data_key_id: string; keysets: Buffer; attestation_serial: string | null }>(
    `SELECT iccid, imsi, msisdn, tar, import_line, data_key_id, keysets, attestation_serial FROM sims WHERE import_id = $1 ORDER BY import_line`, [importId])).rows;
  const key = rows.length > 0 ? await loadDataKey(db.pool, keyring, rows[0]!.data_key_id) : null;
  return rows.map((r) => ({
    iccid: r.iccid, imsi: r.imsi, msisdn: r.msisdn, tar: r.tar, line: r.import_line, serial: r.attestation_serial,
    keysets: openKeysets(key!, r.iccid, r.keysets),
  }));
}

t.test('the same SIMs, lines and keys as on the importing thread', async (t) => {
  const options: Partial<inventory.VendorFileOptions> & { count: number } = {
    count: 6000, networkSecrets: true, attestationSerial: true,
    keysets: [{ index: 1, kicAlg: 'aes', kidAlg: 'aes' }, { index: 3, kicAlg: '3des2', kidAlg: 'des' }],
  };
  const text = vendorFile({ ...options, firstSerial: 10_000 });
  const lines = text.split('\n');
  // Lines the general path takes: a CRLF, a padded field, a quoted field, a blank line.
  lines[10] = lines[10] + '\r';
  lines[20] = lines[20]!.replace(',', ' , ');
  lines[30] = lines[30]!.replace(/^([^,]*),/, '"$1",');
  lines.splice(40, 0, '');
  const file = lines.join('\n');
  const viaWorker = await direct(file, true);
  if (viaWorker.outcome !== 'completed') throw new Error(viaWorker.outcome);
  t.equal(viaWorker.rowCount, 6000);
  const sims = await simsOf(viaWorker.importId);
  t.equal(sims.length, 6000);
  // What the file says, read line by line by the reader alone.
  const reader = new inventory.VendorFileReader();
  const expected: unknown[] = [];
  for (const line of lines) {
    const row = reader.push(line);
    if (row) expected.push({ iccid: row.iccid, imsi: row.imsi, msisdn: row.msisdn, tar: row.tar, line: reader.line, serial: row.attestationSerial ?? null, keysets: row.keysets });
  }
  t.same(sims, expected, 'every SIM with its line number and its keys, as the reader reads the file');
});

t.test('bad lines anywhere: the same problems either way, nothing written', async (t) => {
  for (const format of ['csv', 'out'] as const) {
    const lines = vendorFile({ count: 7000, format, firstSerial: 30_000 }).split('\n');
    const first = lines.findIndex((l) => /^\d{19}/.test(l));
    // Twelve bad lines spread over the file, more than the five kept.
    for (let k = 0; k < 12; k++) {
      const i = first + 3 + k * 580;
      lines[i] = k % 2 === 0 ? lines[i]!.replace('+4477', '+0477') : lines[i]!.replace(/^89/, '88');
    }
    const file = lines.join('\n');
    const before = await importCounts(db.pool);
    const onThread = await direct(file, false, { maxProblems: 5 });
    const onWorker = await direct(file, true, { maxProblems: 5 });
    t.match(onThread, { outcome: 'rejected', rowCount: 7000, problemCount: 12 }, `${format}: refused`);
    t.same(onWorker, onThread, `${format}: the same outcome, the same five problems`);
    t.same(await importCounts(db.pool), before, `${format}: nothing written`);
  }
});

t.test('the worker runs for data lines only: a refused header, an empty file', async (t) => {
  const target = { dataKey: randomBytes(32), constants: null };
  const read = async (text: string) => {
    const reader = new inventory.VendorFileReader();
    let copies = 0;
    const result = await readInventory({ source: chunks(text, 100), reader, target, onCopy: () => void copies++, worker: true });
    return { result, reader, copies };
  };
  const good = await read(vendorFile({ count: 50 }));
  t.equal(good.result.worker, true, 'data lines: read on the worker');
  t.equal(good.reader.rowCount, 50);
  t.ok(good.copies > 0, 'rows handed over');
  const refused = await read(vendorFile({ count: 50 }).replace('ICCID', 'ICCIDX'));
  t.equal(refused.result.worker, false, 'refused header: no worker');
  t.equal(refused.reader.rowCount, 50, 'its lines still counted');
  t.equal(refused.copies, 0);
  const empty = await read('');
  t.equal(empty.result.worker, false);
  t.match(empty.reader.problems, [{ code: 'HEADER_MISSING' }]);
});
