import t from 'tap';
import { startJobQueue, QUEUES } from '../../provisioning-api/index.js';
import { testDatabase } from '../helpers/database.js';

// pg-boss waits out its polling interval after every fetch. With a minute's interval, nine
// jobs in batches of two would take four minutes; a worker that found a full batch looks
// again at once, so they are all done long before the first interval ends.
t.test('a worker that took a full batch fetches the next at once, not after its polling interval', async (t) => {
  const db = await testDatabase();
  const queue = await startJobQueue(db.url);
  t.teardown(() => queue.stop());
  const client = await db.pool.connect();
  try {
    await client.query('BEGIN');
    await queue.sendManyTo(client, QUEUES.provisioningIdentity, Array.from({ length: 9 }, (_, i) => ({ n: i })));
    await client.query('COMMIT');
  } finally {
    client.release();
  }
  const seen: number[] = [];
  const all = new Promise<void>((resolve) => {
    void queue.workData<{ n: number }>(QUEUES.provisioningIdentity, async ({ n }) => {
      seen.push(n);
      if (seen.length === 9) resolve();
    }, { batchSize: 2, pollingIntervalSeconds: 60 });
  });
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([all.then(() => 'all'), new Promise((r) => (timer = setTimeout(() => r('waited'), 30_000)))]);
  clearTimeout(timer);
  t.equal(outcome, 'all', 'nine jobs in five fetches, well within one polling interval');
  t.same([...seen].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8], 'each job once');
});
