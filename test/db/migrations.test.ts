import t from 'tap';
import { migrate } from '../../provisioning-api/index.js';
import { testDatabase } from '../helpers/database.js';

t.test('migrations apply once, even from concurrent processes', async (t) => {
  const db = await testDatabase({ migrate: false });
  const runs = await Promise.all([migrate(db.url), migrate(db.url), migrate(db.url)]);
  t.equal(runs.reduce((n, r) => n + r.applied.length, 0), 3, 'three files applied once in all');
  t.same((await migrate(db.url)).applied, [], 'nothing left to apply');
  const tables = (await db.pool.query<{ t: string }>(`SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`)).rows.map((r) => r.t);
  t.same(tables, ['api_keys', 'data_keys', 'jobs', 'outbox', 'pgmigrations', 'sim_import_progress', 'sim_imports', 'sims', 'tenants']);
});
