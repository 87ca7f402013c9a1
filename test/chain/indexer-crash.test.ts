/**
 * A killed indexer process restarts from its last committed block: no gap, no duplicate.
 * The child (indexer-child.ts) follows a registry with a history of status changes in small
 * pages; it is killed inside a page's transaction, then from outside at whatever point it
 * has reached, then left to catch up. After each death the database holds exactly the chain's
 * events up to its cursor (a page and its cursor are one transaction), and each restart's
 * first page begins right after that cursor.
 */
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getAddress } from 'ethers';
import t from 'tap';
import {
  chainDeviceStatus,
  readCursor,
  readRegistryEvents,
  registryCalls,
  type IndexCursor,
} from '../../provisioning-api/chain/index.js';
import { startChain, type TapTest } from '../helpers/anvil.js';
import { spawnScript, type Child } from '../helpers/child-process.js';
import { testDatabase } from '../helpers/database.js';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'indexer-child.ts');
const db = await testDatabase();
const chain = await startChain();
const provider = chain.connection.provider;
const { registryAddress: registry, registrar, otherRegistrar } = chain;

// A history: status changes in their own blocks, with stretches of empty blocks between.
const devices = Array.from({ length: 8 }, () => getAddress(`0x${randomBytes(20).toString('hex')}`));
const statuses = ['Suspended', 'Active', 'Revoked'] as const;
let n = 0;
for (const round of [0, 1, 2]) {
  for (const [i, d] of devices.entries()) {
    if (round === 2 && i % 2 === 1) continue;
    await (i % 2 ? registrar : otherRegistrar).outbox.submit(`h-${++n}`, registryCalls.setStatus(registry, d, statuses[round]!));
  }
  await provider.send('anvil_mine', ['0x9']);
}
const head = await provider.getBlockNumber();
const onChain: string[] = [];
for await (const page of readRegistryEvents({ provider, registry, fromBlock: 0, toBlock: head })) {
  for (const e of page.logs) onChain.push(`${e.blockNumber}:${e.logIndex}:${e.transactionHash}`);
}

function run(killAtCommit: number | 'never'): Child {
  return spawnScript(CHILD, {
    RPC_URL: chain.node.rpcUrl,
    DATABASE_URL: db.url,
    REGISTRY: registry,
    MAX_BLOCK_RANGE: '4',
    KILL_AT_COMMIT: String(killAtCommit),
  });
}

const pages = (child: Child): { from: number; to: number }[] =>
  child.lines.map((l) => /^PAGE (\d+) (\d+) \d+$/.exec(l)).filter((m) => m !== null).map((m) => ({ from: Number(m[1]), to: Number(m[2]) }));

/**
 * Waits until the killed child's database sessions are gone: a COMMIT it sent just before it
 * died may still be on its way, and what the process wrote is settled only then.
 */
async function settled(): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const { rows } = await db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = 'indexer-child'`,
      [db.name],
    );
    if (rows[0]!.n === 0) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('the killed indexer’s sessions did not end');
}

async function cursor(): Promise<IndexCursor> {
  return (await readCursor(db.pool, chain.connection.chainId, registry))!;
}

/** The tables hold the chain's events up to the cursor, each once, and none beyond it. */
async function assertUpToCursor(t: TapTest): Promise<IndexCursor> {
  const c = await cursor();
  const stored = (await db.pool.query<{ k: string }>(
    `SELECT block_number || ':' || log_index || ':' || transaction_hash AS k FROM chain_registry_events ORDER BY block_number, log_index`,
  )).rows.map((r) => r.k);
  t.same(stored, onChain.filter((k) => Number(k.split(':')[0]) <= c.lastBlock), `exactly the chain's events up to the cursor (block ${c.lastBlock})`);
  return c;
}

function assertContiguous(t: TapTest, child: Child, after: IndexCursor): void {
  const ps = pages(child);
  t.ok(ps.length > 0, 'it indexed');
  t.equal(ps[0]!.from, after.lastBlock + 1, `it resumed right after the cursor (block ${after.lastBlock})`);
  t.ok(ps.every((p, i) => i === 0 || p.from === ps[i - 1]!.to + 1), 'page after page, no gap');
}

t.test('killed inside a page transaction, killed from outside, then left to catch up', async (t) => {
  const start = await cursor().catch(() => undefined);
  t.equal(start, undefined, 'no cursor before the first run');

  const first = run(4);
  t.equal(await first.exited, 'SIGKILL', 'the first run died before its fourth commit');
  t.equal(pages(first).length, 3, 'after three committed pages');
  await settled();
  const afterFirst = await assertUpToCursor(t);
  t.equal(afterFirst.lastBlock, pages(first).at(-1)!.to, 'the uncommitted fourth page left nothing');

  const second = run('never');
  await second.waitFor(/^PAGE/);
  await new Promise((r) => setTimeout(r, 30 + Math.floor(Math.random() * 60)));
  t.equal(await second.kill(), 'SIGKILL', 'the second run killed wherever it was');
  await settled();
  assertContiguous(t, second, afterFirst);
  const afterSecond = await assertUpToCursor(t);
  t.ok(afterSecond.lastBlock >= pages(second).at(-1)!.to, 'every page it reported is kept');

  const third = run('never');
  await third.waitFor(new RegExp(`^PAGE \\d+ ${head} `), 30_000);
  await third.kill();
  await settled();
  assertContiguous(t, third, afterSecond);
  const done = await assertUpToCursor(t);
  t.equal(done.lastBlock, head, 'caught up with the chain');
  for (const d of devices) {
    t.equal((await chainDeviceStatus(db.pool, { chainId: chain.connection.chainId, registry, device: d }))?.status, await chain.reader.statusOf(d), `status of ${d} as on chain`);
  }
});
