import t from 'tap';
import { readdirSync } from 'node:fs';
import { migrate } from '../../provisioning-api/index.js';
import { MIGRATIONS_DIR } from '../../provisioning-api/db/migrate.js';
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
