/**
 * One outbox per signing key across processes. Two real processes start with the same key:
 * one takes the key's lease and sends, the other waits; a third party's planned transaction is
 * sent by the holder; once the holder is killed, the other takes over where it stopped. On
 * chain: one transaction per entry, nonces without gap or reuse. Then the lease itself: a
 * broken session takes the lock again, and a lease taken meanwhile by another process is lost
 * for good, which closes its outbox.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import {
  awaitEntry,
  isChainError,
  openSignerOutbox,
  PgOutboxStore,
  planTransaction,
  SignerLease,
} from '../../provisioning-api/chain/index.js';
import { startChain } from '../helpers/anvil.js';
import { spawnScript } from '../helpers/child-process.js';
import { testDatabase } from '../helpers/database.js';
import { withTransaction } from '../../provisioning-api/index.js';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'signer-child.ts');
const db = await testDatabase();
const chain = await startChain();
const provider = chain.connection.provider;
const chainId = chain.connection.chainId;
const accounts = chain.node.accounts;
const store = new PgOutboxStore(db.pool);

/** Retries `fn` until it resolves and `ok` holds (a session's end reaches the client a moment later). */
async function eventually<T>(fn: () => Promise<T>, ok: (v: T) => boolean = () => true, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const v = await fn();
      if (ok(v)) return v;
    } catch (e) {
      if (Date.now() >= deadline) throw e;
    }
    if (Date.now() >= deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

t.test('two processes with one key: one sends, the other waits, and takes over when the first is killed', async (t) => {
  const key = accounts[5]!;
  const env = (prefix: string) => ({
    RPC_URL: chain.node.rpcUrl,
    DATABASE_URL: db.url,
    KEY: key.privateKey,
    TO: chain.outsider.address,
    PREFIX: prefix,
    COUNT: '5',
  });
  const children = [spawnScript(CHILD, env('a')), spawnScript(CHILD, env('b'))];
  const leased = await Promise.race(children.map((c, i) => c.waitFor(/^LEASED (\d+)$/).then((m) => ({ i, pid: Number(m[1]) }))));
  const holder = children[leased.i]!;
  const standby = children[1 - leased.i]!;
  const prefix = ['a', 'b'][leased.i]!;

  // Another process (here: the test) plans a transaction for the key; the holder sends it.
  await planTransaction(store, { id: 'api-1', chainId, signer: key.address, request: { to: chain.outsider.address, data: '0x', value: 99n } });
  const api = await awaitEntry(store, 'api-1', { timeoutMs: 20_000, pollMs: 50 });
  t.equal(api.state, 'confirmed', 'a transaction planned elsewhere is adopted and sent by the holder');

  const done = await holder.waitFor(/^DONE (.*)$/);
  t.equal(done[1]!.split(',').length, 5, 'the holder sent its five');
  t.notOk(standby.lines.some((l) => l.startsWith('LEASED')), 'the other process is still waiting for the lease');
  const busy = await SignerLease.acquire({ pool: db.pool, chainId, signer: key.address }).catch((e: unknown) => e);
  t.ok(isChainError(busy, 'SIGNER_BUSY'), String(busy));
  t.match((busy as { details: unknown }).details, { holder: { pid: leased.pid, applicationName: `signer-child-${prefix}` } }, 'the error names the holding session');
  t.equal(await provider.getTransactionCount(key.address), 6, 'only the holder sent');

  t.equal(await holder.kill(), 'SIGKILL');
  await standby.waitFor(/^LEASED \d+$/);
  const taken = await standby.waitFor(/^DONE (.*)$/);
  t.same(taken[1]!.split(',').map(Number), [6, 7, 8, 9, 10], 'the successor continues after the last nonce of the killed holder');

  t.equal(await provider.getTransactionCount(key.address), 11, 'one transaction per entry on chain');
  const rows = (await db.pool.query<{ state: string; nonce: number }>(
    `SELECT state, nonce::int FROM chain_outbox WHERE signer = $1 ORDER BY nonce`,
    [key.address.toLowerCase()],
  )).rows;
  t.same(rows.map((r) => r.nonce), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 'nonces without gap or reuse');
  t.ok(rows.every((r) => r.state === 'confirmed'), 'every entry confirmed');
});

t.test('a broken lease session takes the lock again on a new one', async (t) => {
  const signer = accounts[6]!.address;
  const lease = await SignerLease.acquire({ pool: db.pool, chainId, signer });
  t.teardown(() => lease.release());
  const before = await lease.sessionPid();
  await db.pool.query('SELECT pg_terminate_backend($1)', [before]);
  const after = await eventually(() => lease.sessionPid());
  t.not(after, before, 'a new session');
  t.equal(lease.lost, undefined, 'still the holder');
  t.equal(await lease.store.highestNonce(chainId, signer), undefined, 'and the store works on it');
});

t.test('a lease another process took while its session was down is lost for good, and its outbox closes', async (t) => {
  const key = accounts[7]!;
  const signer = await openSignerOutbox({
    pool: db.pool,
    connection: chain.connection,
    privateKey: key.privateKey,
    leaseReacquireMs: 300,
    adoptIntervalMs: null,
  });
  t.teardown(() => signer.close());
  await db.pool.query('SELECT pg_terminate_backend($1)', [await signer.lease.sessionPid()]);
  const other = await SignerLease.acquire({ pool: db.pool, chainId, signer: key.address, waitMs: 5_000, retryMs: 20 });
  t.teardown(() => other.release());
  const lost = await eventually(
    () => signer.outbox.submit('late', { to: chain.outsider.address, data: '0x' }).then(() => undefined, (e: unknown) => e),
    (e) => isChainError(e, 'LEASE_LOST') || isChainError(e, 'CLOSED'),
  );
  t.ok(isChainError(lost, 'LEASE_LOST'), `the write fails: ${String(lost)}`);
  t.equal(signer.lease.lost?.code, 'LEASE_LOST');
  await t.rejects(signer.outbox.submit('later', { to: chain.outsider.address, data: '0x' }), { code: 'CLOSED' }, 'the outbox closed');
  await t.rejects(signer.lease.query('SELECT 1'), { code: 'LEASE_LOST' }, 'the lease stays lost');
  t.equal(await store.get('late'), undefined, 'nothing was written for the key after the loss');
  t.equal(await provider.getTransactionCount(key.address), 0, 'nor sent');
});

t.test('release lets the next holder in at once', async (t) => {
  const signer = accounts[8]!.address;
  const first = await SignerLease.acquire({ pool: db.pool, chainId, signer });
  await t.rejects(SignerLease.acquire({ pool: db.pool, chainId, signer }), { code: 'SIGNER_BUSY' });
  await first.release();
  const second = await SignerLease.acquire({ pool: db.pool, chainId, signer });
  await second.release();
  await t.rejects(first.query('SELECT 1'), { code: 'CLOSED' }, 'a released lease runs nothing');
  t.pass('taken right after the release');
});

t.test('adoptNow has an entry another transaction planned sent at once, where the interval would wait', async (t) => {
  const key = accounts[9]!;
  const signer = await openSignerOutbox({ pool: db.pool, connection: chain.connection, privateKey: key.privateKey, adoptIntervalMs: 60_000 });
  t.teardown(() => signer.close());
  const plan = (id: string) => withTransaction(db.pool, (c) => planTransaction(new PgOutboxStore(c), { id, chainId, signer: key.address, request: { to: chain.outsider.address, data: '0x' } }));
  await plan('adopt:later');
  await t.rejects(awaitEntry(store, 'adopt:later', { until: 'sent', timeoutMs: 1_500, pollMs: 50 }), { code: 'TIMEOUT' }, 'left for the next adoption, a minute away');
  await plan('adopt:now');
  await signer.outbox.adoptNow();
  const sent = await awaitEntry(store, 'adopt:now', { until: 'confirmed', timeoutMs: 10_000, pollMs: 50 });
  t.equal(sent.state, 'confirmed');
  t.equal((await awaitEntry(store, 'adopt:later', { until: 'confirmed', timeoutMs: 10_000, pollMs: 50 })).state, 'confirmed', 'the earlier entry too: adoption takes every planned one');
  t.equal(await provider.getTransactionCount(key.address), 2, 'each sent once');
});
