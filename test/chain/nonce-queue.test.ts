/**
 * The nonce queue on its own: strict order, one holder at a time, a failed holder makes the
 * next one read the counter again.
 */
import t from 'tap';
import { NonceQueue } from '../../provisioning-api/chain/index.js';

const tick = (ms = 1): Promise<void> => new Promise((r) => setTimeout(r, ms));

t.test('nonces in call order, one holder at a time', async (t) => {
  let reads = 0;
  const q = new NonceQueue(async () => {
    reads++;
    return 5;
  });
  let holders = 0;
  let maxHolders = 0;
  const got = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      q.run(async (nonce) => {
        holders++;
        maxHolders = Math.max(maxHolders, holders);
        await tick(i % 3);
        holders--;
        return nonce;
      }),
    ),
  );
  t.same(got, Array.from({ length: 20 }, (_, i) => 5 + i));
  t.equal(maxHolders, 1);
  t.equal(reads, 1, 'the source is read once');
});

t.test('a failing holder hands its nonce back and the source is read again', async (t) => {
  let chain = 0;
  const q = new NonceQueue(async () => chain);
  t.equal(await q.run(async (n) => n), 0);
  chain = 1;
  await t.rejects(q.run(async () => Promise.reject(new Error('broadcast failed'))), { message: 'broadcast failed' });
  // Meanwhile the chain moved (say the failed holder's transaction did land after all).
  chain = 2;
  t.equal(await q.run(async (n) => n), 2, 'read again from the source');
  t.equal(await q.run(async (n) => n), 3);
  q.reset();
  chain = 10;
  t.equal(await q.run(async (n) => n), 10, 'reset() forgets the counter');
});

t.test('a source that fails fails the holder, and the next holder tries again', async (t) => {
  let fail = true;
  const q = new NonceQueue(async () => {
    if (fail) throw new Error('node down');
    return 4;
  });
  await t.rejects(q.run(async (n) => n), { message: 'node down' });
  fail = false;
  t.equal(await q.run(async (n) => n), 4);
});
