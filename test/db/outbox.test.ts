/** The transactional outbox as the chain adapter and the SMPP sender will use it. */
import t from 'tap';
import { claimOutbox, enqueueOutbox, moveOutbox, outboxForSubject, OutboxTransitionError, withTransaction } from '../../provisioning-api/index.js';
import { testDatabase } from '../helpers/database.js';

t.test('enqueue, claim, move', async (t) => {
  const db = await testDatabase();
  const a = await enqueueOutbox(db.pool, { kind: 'ota.command', idempotencyKey: 'k1', subject: 'sim-1', payload: { x: 1 } });
  t.equal(a.state, 'queued');
  const again = await enqueueOutbox(db.pool, { kind: 'ota.command', idempotencyKey: 'k1', subject: 'sim-1', payload: { x: 2 } });
  t.equal(again.id, a.id, 'the idempotency key writes the message once');
  t.same(again.payload, { x: 1 });
  const tx = await enqueueOutbox(db.pool, { kind: 'chain.tx', idempotencyKey: 'k2', subject: 'batch-1', payload: { to: '0x' } });
  t.equal(tx.state, 'planned');

  // A message written in a rolled back transaction does not exist: nothing unknown is sent.
  await t.rejects(withTransaction(db.pool, async (c) => {
    await enqueueOutbox(c, { kind: 'ota.command', idempotencyKey: 'k3', subject: 'sim-2', payload: {} });
    throw new Error('decision rolled back');
  }));
  t.same(await outboxForSubject(db.pool, 'sim-2'), []);

  for (let i = 0; i < 10; i++) await enqueueOutbox(db.pool, { kind: 'ota.command', idempotencyKey: `m${i}`, subject: `s${i}`, payload: {} });
  const [first, second] = await Promise.all([
    claimOutbox(db.pool, 'ota.command', { owner: 'w1', limit: 6, leaseSeconds: 60 }),
    claimOutbox(db.pool, 'ota.command', { owner: 'w2', limit: 6, leaseSeconds: 60 }),
  ]);
  const ids = [...first, ...second].map((m) => m.id);
  t.equal(new Set(ids).size, ids.length, 'concurrent senders get disjoint batches');
  t.equal(ids.length, 11);
  t.same(await claimOutbox(db.pool, 'ota.command', { owner: 'w3', limit: 10, leaseSeconds: 60 }), [], 'leased rows are not handed out again');

  const m = first[0]!;
  const submitted = await moveOutbox(db.pool, m, 'queued', 'submitted', { result: { messageId: 'smsc-1' } });
  t.equal(submitted?.state, 'submitted');
  t.equal(submitted?.leaseOwner, null, 'a move releases the lease');
  t.equal(await moveOutbox(db.pool, m, 'queued', 'submitted'), null, 'a stale sender loses the race');
  await t.rejects(moveOutbox(db.pool, m, 'submitted', 'planned'), OutboxTransitionError);
  t.equal((await moveOutbox(db.pool, m, 'submitted', 'delivered'))?.state, 'delivered');
  t.equal((await moveOutbox(db.pool, m, 'delivered', 'por-received', { result: { status: '00' } }))?.state, 'por-received');

  // Expired leases come back (a crashed sender).
  await db.pool.query(`UPDATE outbox SET lease_until = now() - interval '1 second' WHERE lease_owner = 'w2'`);
  const back = await claimOutbox(db.pool, 'ota.command', { owner: 'w4', limit: 20, leaseSeconds: 60 });
  t.equal(back.length, second.length);
  t.ok(back.every((b) => b.attempts === 2), 'attempts counted');

  await t.rejects(db.pool.query(`INSERT INTO outbox (kind, state, idempotency_key, subject, payload) VALUES ('chain.tx', 'queued', 'bad', 's', '{}')`),
    { code: '23514' }, 'the database refuses a state of another kind');
});
