/**
 * ATTESTATION_CERT through a real import (PostgreSQL): a file with a bad certificate is
 * refused whole with the line and column of the problem and writes nothing; a card
 * factory's file lands each card's DER in sims.attestation_certificate, and a row without
 * one lands NULL, by both import paths (staged upload, and `simchain import`'s direct COPY).
 * (The pure reader tests are in ../inventory/attestation-cert.test.ts.)
 */
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { inventory } from '../../sim-applet/index.js';
import { createHash } from 'node:crypto';
import { importDirect, loadImport, MasterKeyring, receiveImport } from '../../provisioning-api/index.js';
import type { TestDatabase } from '../helpers/database.js';
import { importCounts, importDatabase } from '../helpers/import-database.js';
import { b64, cardFactory, shapedCertificate } from '../inventory/certificates.js';

const keyring = new MasterKeyring({ version: 1, key: randomBytes(32) });
let db: TestDatabase;
let tenant: string;
t.before(async () => {
  ({ db, tenant } = await importDatabase());
});

const receive = (text: string) => receiveImport({ pool: db.pool, keyring, tenantId: tenant, source: [Buffer.from(text)] });

t.test('a bad certificate refuses the file with its line and column, and writes nothing', async (t) => {
  const before = await importCounts(db.pool);
  const lines = [...inventory.generateVendorFile({ count: 3000, format: 'csv', random: randomBytes, firstSerial: 10_000, certificate: () => shapedCertificate(400) })];
  const at = lines[0]!.split(',').indexOf('ATTESTATION_CERT');
  const bad = lines[2500]!.split(',');
  const der = shapedCertificate(400);
  der[4] = 0x02; // the TBSCertificate an INTEGER
  bad[at] = b64(der);
  lines[2500] = bad.join(',');
  const outcome = await receive(lines.join('\n') + '\n');
  t.equal(outcome.outcome, 'rejected');
  if (outcome.outcome !== 'rejected') return;
  t.same(outcome.problems.map((p) => [p.line, p.column, p.code]), [[2501, 'ATTESTATION_CERT', 'CERT_DER']]);
  t.equal(outcome.rowCount, 3000);
  t.same(await importCounts(db.pool), before, 'no SIM, no import, no data key, no staging table');
});

for (const path of ['staged', 'direct'] as const) t.test(`a card factory's file (${path}): each SIM gets its certificate's DER, a row without one NULL`, async (t) => {
  const issue = cardFactory();
  const issued = new Map<string, Uint8Array>();
  const first = path === 'staged' ? 20_000 : 30_000;
  const lines = [...inventory.generateVendorFile({
    count: 20, format: 'csv', random: randomBytes, firstSerial: first, attestationSerial: true,
    certificate: (iccid, serial) => {
      if (serial === first + 7) return new Uint8Array(0);
      const der = issue(iccid);
      issued.set(iccid, der);
      return der;
    },
  })];
  const text = lines.join('\n') + '\n';
  let importId: string;
  if (path === 'staged') {
    const staged = await receive(text);
    t.equal(staged.outcome, 'staged');
    if (staged.outcome !== 'staged') return;
    t.match(await loadImport(db.pool, staged.importId), { state: 'completed', loaded: 20 });
    importId = staged.importId;
  } else {
    const done = await importDirect({ pool: db.pool, keyring, tenantId: tenant, open: () => [Buffer.from(text)], sha256: createHash('sha256').update(text).digest() });
    t.equal(done.outcome, 'completed');
    if (done.outcome !== 'completed') return;
    importId = done.importId;
  }
  const rows = (await db.pool.query<{ iccid: string; attestation_certificate: Buffer | null; attestation_serial: string | null }>(
    'SELECT iccid, attestation_certificate, attestation_serial FROM sims WHERE import_id = $1 ORDER BY iccid', [importId])).rows;
  t.equal(rows.length, 20);
  for (const row of rows) {
    const der = issued.get(row.iccid);
    if (der === undefined) t.equal(row.attestation_certificate, null, `${row.iccid}: none in the file, NULL`);
    else t.same(row.attestation_certificate, Buffer.from(der), `${row.iccid}: the DER as issued`);
    t.ok(row.attestation_serial !== null, 'the serial beside it, unchanged');
  }
  t.equal(issued.size, 19);
});
