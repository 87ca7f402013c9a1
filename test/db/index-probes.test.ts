/**
 * `withIndexProbes`: inside, a batched update by key (UPDATE … FROM unnest) is a nested loop
 * over index probes even where the planner would hash the whole table; the settings end
 * with the transaction, and a failure rolls everything back.
 */
import t from 'tap';
import { createPool, withIndexProbes, withTransaction } from '../../provisioning-api/db/pool.js';
import { testDatabase } from '../helpers/database.js';

t.test('batched updates probe by key inside, and only inside', async (t) => {
  const db = await testDatabase({ migrate: false });
  const pool = createPool(db.url, { max: 1 });
  t.teardown(() => pool.end());
  await pool.query('CREATE TABLE items (batch int, key text, state text, PRIMARY KEY (batch, key))');
  await pool.query(`INSERT INTO items SELECT 1, lpad(g::text, 8, '0'), 'queued' FROM generate_series(1, 20000) g`);
  await pool.query('ANALYZE items');
  const keys = Array.from({ length: 250 }, (_, i) => String(1 + i * 80).padStart(8, '0'));
  const sql = `UPDATE items i SET state = 'sent' FROM unnest($1::text[]) AS u(key) WHERE i.batch = 1 AND i.key = u.key`;
  const plan = async (c: { query: typeof pool.query }) =>
    (await c.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`, [keys])).rows.map((r) => r['QUERY PLAN']).join('\n');

  const free = await withTransaction(pool, (c) => plan(c));
  t.match(free, /Hash Join/, 'left alone, the planner hashes the table');
  const probed = await withIndexProbes(pool, async (c) => {
    const p = await plan(c);
    await c.query(sql, [keys]);
    return p;
  });
  t.match(probed, /Nested Loop/, 'with index probes: a nested loop');
  t.match(probed, /Index Scan using items_pkey/, 'over the primary key');
  t.notMatch(probed, /Hash Join|Merge Join|Seq Scan on items/, 'and no hash, merge or full scan');
  t.equal((await pool.query(`SELECT count(*)::int AS n FROM items WHERE state = 'sent'`)).rows[0].n, 250, 'the update took effect');
  t.same((await pool.query(`SELECT current_setting('enable_hashjoin') AS h, current_setting('enable_mergejoin') AS m`)).rows[0], { h: 'on', m: 'on' }, 'the settings ended with the transaction (same connection)');

  await t.rejects(withIndexProbes(pool, async (c) => {
    await c.query(`UPDATE items SET state = 'lost' WHERE batch = 1`);
    throw new Error('boom');
  }), /boom/);
  t.equal((await pool.query(`SELECT count(*)::int AS n FROM items WHERE state = 'lost'`)).rows[0].n, 0, 'a failure rolls back');
});
