/** The same file imported twice (or at once from two places) is one import, with no duplicates. */
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { loadImport, MasterKeyring, receiveImport } from '../../provisioning-api/index.js';
import { importDatabase } from '../helpers/import-database.js';
import { vendorFile } from '../helpers/app.js';

t.test('same file, same import', async (t) => {
  const { db, tenant } = await importDatabase();
  const keyring = new MasterKeyring({ version: 1, key: randomBytes(32) });
  const file = vendorFile({ count: 3000, format: 'out' });
  // Chunks that split lines (and, for the second, one at every 7 bytes) change nothing.
  const chunks = (size: number) => Array.from({ length: Math.ceil(file.length / size) }, (_, i) => Buffer.from(file.slice(i * size, (i + 1) * size)));
  const receive = (size: number) => receiveImport({ pool: db.pool, keyring, tenantId: tenant, source: chunks(size) });

  const first = await receive(65536);
  t.equal(first.outcome, 'staged');
  if (first.outcome !== 'staged') return;
  const again = await receive(7);
  t.same(again, { outcome: 'existing', importId: first.importId }, 'before loading');
  await loadImport(db.pool, first.importId);
  t.same(await loadImport(db.pool, first.importId), { importId: first.importId, state: 'completed', loaded: 3000, problemCount: 0 }, 'loading again is a no-op');
  const [x, y] = await Promise.all([receive(1000), receive(4096)]);
  t.same([x, y], [{ outcome: 'existing', importId: first.importId }, { outcome: 'existing', importId: first.importId }], 'after loading, concurrently');
  const n = (await db.pool.query(`SELECT (SELECT count(*) FROM sims)::int AS sims, (SELECT count(*) FROM sim_imports)::int AS imports,
    (SELECT count(*) FROM pg_tables WHERE schemaname = 'sim_import_staging')::int AS staging`)).rows[0];
  t.same(n, { sims: 3000, imports: 1, staging: 0 });
});
