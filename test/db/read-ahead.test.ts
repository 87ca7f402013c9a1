/**
 * What anchoring reads its pages with (provisioning/anchor.ts): `prefetched` asks its source
 * for the next page as soon as it hands one out, and closes the source when the consumer
 * stops, after the fetch in flight; `withSnapshot` reads in one snapshot on a connection of
 * its own, read only, beside a transaction the caller holds, against the real PostgreSQL.
 */
import t from 'tap';
import { prefetched } from '../../provisioning-api/db/prefetched.js';
import { withSnapshot, withTransaction } from '../../provisioning-api/db/pool.js';
import { testDatabase } from '../helpers/database.js';

/** A source of `n` pages that logs what is asked of it and when it finishes. */
function source(n: number, log: string[], failAt = -1): AsyncGenerator<number> {
  return (async function* () {
    try {
      for (let i = 0; i < n; i++) {
        log.push(`fetch ${i}`);
        await new Promise((r) => setTimeout(r, 2));
        if (i === failAt) throw new Error(`page ${i} failed`);
        log.push(`fetched ${i}`);
        yield i;
      }
    } finally {
      log.push('closed');
    }
  })();
}

t.test('prefetched: every page in order, the next one asked for while the consumer holds the one before', async (t) => {
  const log: string[] = [];
  const seen: number[] = [];
  for await (const page of prefetched(source(4, log))) {
    log.push(`use ${page}`);
    seen.push(page);
  }
  t.same(seen, [0, 1, 2, 3]);
  t.same(log, ['fetch 0', 'fetched 0', 'fetch 1', 'use 0', 'fetched 1', 'fetch 2', 'use 1', 'fetched 2', 'fetch 3', 'use 2', 'fetched 3', 'closed', 'use 3'], 'the source ends (asked once more after the last page) as the consumer takes the last page');
});

t.test('prefetched: a consumer that stops early lets the fetch in flight settle, then the source is closed; nothing more is fetched', async (t) => {
  const log: string[] = [];
  for await (const page of prefetched(source(10, log))) {
    if (page === 1) break;
  }
  t.same(log, ['fetch 0', 'fetched 0', 'fetch 1', 'fetched 1', 'fetch 2', 'fetched 2', 'closed']);
});

t.test('prefetched: a failing fetch reaches the consumer, and a consumer that throws closes the source', async (t) => {
  const log: string[] = [];
  const seen: number[] = [];
  await t.rejects((async () => {
    for await (const page of prefetched(source(10, log, 2))) seen.push(page);
  })(), /page 2 failed/);
  t.same(seen, [0, 1], 'the pages before the failure were handed out');
  t.equal(log.at(-1), 'closed');
  const log2: string[] = [];
  await t.rejects((async () => {
    for await (const page of prefetched(source(10, log2))) if (page === 0) throw new Error('consumer failed');
  })(), /consumer failed/);
  t.same(log2, ['fetch 0', 'fetched 0', 'fetch 1', 'fetched 1', 'closed']);
});

t.test('withSnapshot: one snapshot for all it reads, read only, beside the caller\'s own transaction', async (t) => {
  const { pool } = await testDatabase({ migrate: false });
  await pool.query('CREATE TABLE rows (n int)');
  await pool.query('INSERT INTO rows SELECT generate_series(1, 10)');
  const count = async (c: { query: typeof pool.query }) => (await c.query<{ n: number }>('SELECT count(*)::int AS n FROM rows')).rows[0]!.n;
  const seen = await withTransaction(pool, async (writer) => {
    // The caller's transaction holds a row it has not committed: the snapshot does not see it.
    await writer.query('INSERT INTO rows VALUES (100)');
    return withSnapshot(pool, async (reader) => {
      const first = await count(reader);
      // Committed by a third connection meanwhile: not seen either.
      await pool.query('INSERT INTO rows VALUES (200)');
      return { first, second: await count(reader) };
    });
  });
  t.same(seen, { first: 10, second: 10 });
  t.equal(await count(pool), 12, 'the caller\'s row and the third connection\'s are both there after');
  await t.rejects(withSnapshot(pool, (reader) => reader.query('INSERT INTO rows VALUES (300)')), { code: '25006' }, 'a write is refused: read-only transaction');
  t.equal(await count(pool), 12);
  const connections = (await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND state = 'idle in transaction'`)).rows[0]!.n;
  t.equal(connections, 0, 'no transaction left open');
});
