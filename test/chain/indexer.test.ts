/**
 * The registry indexer against anvil and PostgreSQL: status changes (setStatus, anchorBatch,
 * revokeBatch) read back into the events table and the device and batch tables; a reorg
 * below the cursor rewinds the index to the last block still on the chain; two indexers on
 * one registry write each page once.
 */
import { randomBytes } from 'node:crypto';
import { getAddress } from 'ethers';
import t from 'tap';
import {
  blockHash,
  chainBatch,
  chainDeviceStatus,
  readRegistryEvents,
  registryCalls,
  registryEventsOf,
  RegistryIndexer,
  type RegistryIndexerOptions,
  type TxRequest,
} from '../../provisioning-api/chain/index.js';
import { startChain, type TapTest } from '../helpers/anvil.js';
import { testDatabase } from '../helpers/database.js';

const db = await testDatabase();
const chain = await startChain();
const provider = chain.connection.provider;
const chainId = chain.connection.chainId;
const { registryAddress: registry, registrar, otherRegistrar, admin } = chain;
const key = { chainId, registry };
const device = (): string => getAddress(`0x${randomBytes(20).toString('hex')}`);
const bytes32 = (): string => `0x${randomBytes(32).toString('hex')}`;
let n = 0;
const send = (actor: { outbox: { submit(id: string, r: TxRequest): Promise<unknown> } }, req: TxRequest) => actor.outbox.submit(`ix-${++n}`, req);

const errors: unknown[] = [];
t.beforeEach(() => {
  errors.length = 0;
});
async function startIndexer(extra: Partial<RegistryIndexerOptions> = {}): Promise<RegistryIndexer> {
  const indexer = await RegistryIndexer.open({
    pool: db.pool,
    connection: chain.connection,
    registry,
    pollIntervalMs: 50,
    maxBlockRange: 7,
    onError: (e) => errors.push(e),
    ...extra,
  });
  indexer.start();
  t.teardown(() => indexer.stop());
  return indexer;
}

/** Every stored event's block is on the chain now, and the table holds exactly what the node has up to the cursor. */
async function assertMatchesChain(t: TapTest, indexer: RegistryIndexer): Promise<void> {
  const upTo = indexer.cursor.lastBlock;
  const fromChain: string[] = [];
  for await (const page of readRegistryEvents({ provider, registry, fromBlock: 0, toBlock: upTo })) {
    for (const e of page.logs) fromChain.push(`${e.blockNumber}:${e.logIndex}:${e.blockHash}:${e.name}`);
  }
  const stored = (await db.pool.query<{ k: string }>(
    `SELECT block_number || ':' || log_index || ':' || block_hash || ':' || name AS k FROM chain_registry_events
     WHERE chain_id = $1 AND registry = $2 ORDER BY block_number, log_index`,
    [chainId.toString(), registry.toLowerCase()],
  )).rows.map((r) => r.k);
  t.same(stored, fromChain, `the events table is the chain's events up to block ${upTo}, no gap, no duplicate`);
  t.equal(indexer.cursor.lastBlockHash, await blockHash(provider, upTo), 'the cursor holds its block’s hash');
}

const indexer = await startIndexer();

t.test('status changes and their events are read back', async (t) => {
  const [d0, d1, d2] = [device(), device(), device()];
  const [batch, revoked] = [bytes32(), bytes32()];
  const [root, root2] = [bytes32(), bytes32()];
  await send(registrar, registryCalls.anchorBatch(registry, root, 3, batch));
  await send(registrar, registryCalls.setStatus(registry, d0, 'Suspended'));
  await send(otherRegistrar, registryCalls.setStatus(registry, d1, 'Revoked'));
  await provider.send('anvil_mine', ['0x10']);
  await send(registrar, registryCalls.setStatus(registry, d0, 'Active'));
  await send(registrar, registryCalls.setStatus(registry, d2, 'Suspended'));
  await send(otherRegistrar, registryCalls.anchorBatch(registry, root2, 9, revoked));
  await send(otherRegistrar, registryCalls.revokeBatch(registry, revoked));
  const head = await provider.getBlockNumber();
  await indexer.waitForBlock(head, 20_000);

  t.match(await chainDeviceStatus(db.pool, { ...key, device: d0 }), { status: 'Active', changedBy: registrar.address.toLowerCase() }, 'the latest change wins');
  t.match(await chainDeviceStatus(db.pool, { ...key, device: d1 }), { status: 'Revoked', changedBy: otherRegistrar.address.toLowerCase() });
  t.match(await chainDeviceStatus(db.pool, { ...key, device: d2.toLowerCase() }), { status: 'Suspended' }, 'looked up in any case');
  t.equal(await chainDeviceStatus(db.pool, { ...key, device: device() }), undefined, 'a device that never changed has no row');
  for (const d of [d0, d1, d2]) {
    t.equal((await chainDeviceStatus(db.pool, { ...key, device: d }))!.status, await chain.reader.statusOf(d), `the table agrees with statusOf(${d})`);
  }
  t.match(await chainBatch(db.pool, { ...key, batchId: batch }), {
    batchId: batch, operator: registrar.address.toLowerCase(), root, leafCount: 3, revokedBlock: null, revokedTx: null,
  });
  const gone = await chainBatch(db.pool, { ...key, batchId: revoked });
  t.match(gone, { root: root2, leafCount: 9, revokedBy: otherRegistrar.address.toLowerCase() });
  t.ok(gone!.revokedBlock! > gone!.anchoredBlock, 'revoked after it was anchored');
  t.same(
    (await registryEventsOf(db.pool, { ...key, subject: d0 })).map((e) => e.event),
    [
      { name: 'DeviceStatusChanged', device: d0, previous: 'Active', status: 'Suspended', by: registrar.address },
      { name: 'DeviceStatusChanged', device: d0, previous: 'Suspended', status: 'Active', by: registrar.address },
    ],
    "a device's history, decoded, in chain order",
  );
  t.match(
    (await registryEventsOf(db.pool, { ...key, subject: admin.address })).map((e) => e.name),
    ['RoleGranted'],
    'role changes are indexed too',
  );
  await assertMatchesChain(t, indexer);
  t.same(errors, [], 'no failed step');
});

t.test('a reorg below the cursor rewinds to the last block still on the chain', async (t) => {
  // Two registrars granted before the fork, one for each branch (after the reorg the first one's nonce is back on the old branch).
  const [left, right] = [await chain.outboxFor(chain.node.accounts[5]!), await chain.outboxFor(chain.node.accounts[6]!)];
  await send(admin, registryCalls.grantRegistrar(registry, left.address));
  await send(admin, registryCalls.grantRegistrar(registry, right.address));
  const [onLeft, onRight] = [device(), device()];
  const fork = await provider.getBlockNumber();
  await indexer.waitForBlock(fork, 20_000);
  const snapshot = await provider.send('evm_snapshot', []);

  await send({ outbox: left }, registryCalls.setStatus(registry, onLeft, 'Suspended'));
  await provider.send('anvil_mine', ['0x3']);
  const leftHead = await provider.getBlockNumber();
  await indexer.waitForBlock(leftHead, 20_000);
  t.match(await chainDeviceStatus(db.pool, { ...key, device: onLeft }), { status: 'Suspended' }, 'indexed on the first branch');

  // A restarted indexer finds the reorg from its stored cursor alone.
  const rewinds: { from: number; to: number }[] = [];
  await indexer.stop();
  const again = await startIndexer({ onRewind: (r) => rewinds.push({ from: r.from.lastBlock, to: r.to.lastBlock }) });
  await provider.send('evm_revert', [snapshot]);
  await send({ outbox: right }, registryCalls.setStatus(registry, onRight, 'Revoked'));
  await provider.send('anvil_mine', ['0x6']);
  const rightHead = await provider.getBlockNumber();
  t.ok(rightHead > leftHead, 'the second branch is longer');
  // The cursor (leftHead) is below rightHead: reaching it takes the rewind and the new branch.
  await again.waitForBlock(rightHead, 20_000);

  t.equal(rewinds.length, 1, 'one rewind');
  t.equal(rewinds[0]!.from, leftHead, 'from the cursor on the abandoned branch');
  t.ok(rewinds[0]!.to <= fork, `to a block before the fork (${rewinds[0]!.to} ≤ ${fork})`);
  t.equal(await chainDeviceStatus(db.pool, { ...key, device: onLeft }), undefined, 'the abandoned branch’s status change is gone');
  t.match(await chainDeviceStatus(db.pool, { ...key, device: onRight }), { status: 'Revoked' }, 'the new branch’s is there');
  t.same(await registryEventsOf(db.pool, { ...key, subject: onLeft }), [], 'and its event');
  t.equal(again.cursor.rewinds, 1, 'the cursor counts the rewind');
  await assertMatchesChain(t, again);
  t.same(errors, [], 'no failed step');
});

t.test('two indexers on one registry store each page once', async (t) => {
  const [a, b] = [await startIndexer({ maxBlockRange: 2 }), await startIndexer({ maxBlockRange: 3 })];
  const devices = Array.from({ length: 6 }, device);
  for (const [i, d] of devices.entries()) await send(i % 2 ? registrar : otherRegistrar, registryCalls.setStatus(registry, d, 'Suspended'));
  const head = await provider.getBlockNumber();
  await Promise.all([a.waitForBlock(head, 20_000), b.waitForBlock(head, 20_000)]);
  for (const d of devices) t.match(await chainDeviceStatus(db.pool, { ...key, device: d }), { status: 'Suspended' });
  await assertMatchesChain(t, a);
  t.same(errors, [], 'no failed step: the loser of a race writes nothing and goes on from the winner’s cursor');
});
