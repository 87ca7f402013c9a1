/**
 * A connection lost while a client is in use (its backend terminated, as a server restart or
 * an administrator does): the query in flight fails, the error reaches `onError`, the process
 * goes on (pg emits 'error' on the client, which without a listener is an uncaught
 * exception), and the pool carries on with a fresh connection. An idle client's loss too.
 */
import t from 'tap';
import { createPool, withTransaction } from '../../provisioning-api/db/pool.js';
import { testDatabase } from '../helpers/database.js';

t.test('a client in use whose connection is cut fails its query and the process lives', async (t) => {
  const db = await testDatabase({ migrate: false });
  const errors: Error[] = [];
  const pool = createPool(db.url, { max: 2, applicationName: 'lost-connection', onError: (e) => errors.push(e) });
  t.teardown(() => pool.end());
  const uncaught: Error[] = [];
  const onUncaught = (e: Error) => uncaught.push(e);
  process.prependListener('uncaughtException', onUncaught);
  t.teardown(() => process.removeListener('uncaughtException', onUncaught));

  const inUse = withTransaction(pool, async (c) => {
    await c.query('SELECT pg_sleep(30)');
  });
  // Cut it from another session while it sleeps.
  let pid: number | undefined;
  for (let i = 0; i < 100 && pid === undefined; i++) {
    pid = (await db.pool.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE application_name = 'lost-connection' AND query = 'SELECT pg_sleep(30)'`)).rows[0]?.pid;
    if (pid === undefined) await new Promise((r) => setTimeout(r, 50));
  }
  t.ok(pid, 'the query is running');
  await db.pool.query('SELECT pg_terminate_backend($1)', [pid]);
  await t.rejects(inUse, /terminat/, 'the transaction fails');
  await new Promise((r) => setTimeout(r, 100));
  t.same(uncaught, [], 'no uncaught exception');
  t.ok(errors.length >= 1, 'the loss reached onError');
  t.equal((await pool.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one, 1, 'the pool goes on with a fresh connection');

  // An idle client's loss: reported, and the pool replaces it.
  const before = errors.length;
  const idlePid = (await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
  await db.pool.query('SELECT pg_terminate_backend($1)', [idlePid]);
  for (let i = 0; i < 100 && errors.length === before; i++) await new Promise((r) => setTimeout(r, 20));
  t.ok(errors.length > before, 'an idle client lost is reported');
  t.equal((await pool.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one, 1);
  t.same(uncaught, []);
});
