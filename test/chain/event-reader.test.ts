/**
 * The registry's events read back from anvil as the indexer will: typed, in order, page by
 * page over block ranges, each block read exactly once, and resumable from any cursor.
 */
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { getAddress, type Log, type Provider } from 'ethers';
import {
  ChainError,
  nextRange,
  readLogs,
  readRegistryEvents,
  registryCalls,
  REGISTRAR_ROLE,
  type RegistryEvent,
  type TxRequest,
} from '../../provisioning-api/chain/index.js';
import { startChain } from '../helpers/anvil.js';

const chain = await startChain();
const provider = chain.connection.provider;
const { registryAddress: at, registrar, otherRegistrar, admin } = chain;
const deployBlock = 1;

const devices = Array.from({ length: 4 }, () => getAddress(`0x${randomBytes(20).toString('hex')}`));
const root = `0x${randomBytes(32).toString('hex')}`;
const batchRef = `0x${randomBytes(32).toString('hex')}`;
let n = 0;
const send = (actor: typeof registrar, req: TxRequest) => actor.outbox.submit(`ev-${++n}`, req);

// One state change per block (anvil mines each transaction in its own block).
await send(registrar, registryCalls.anchorBatch(at, root, 4, batchRef));
await send(registrar, registryCalls.setStatus(at, devices[0]!, 'Suspended'));
await send(otherRegistrar, registryCalls.setStatus(at, devices[1]!, 'Revoked'));
await send(registrar, registryCalls.setStatus(at, devices[0]!, 'Active'));
await provider.send('anvil_mine', ['0x20']); // empty blocks between changes
await send(registrar, registryCalls.setStatus(at, devices[2]!, 'Suspended'));
await send(registrar, registryCalls.revokeBatch(at, batchRef));
const head = await provider.getBlockNumber();

async function collect(maxBlockRange: number, from = 0, to = head): Promise<{ pages: { fromBlock: number; toBlock: number }[]; events: RegistryEvent[] }> {
  const pages: { fromBlock: number; toBlock: number }[] = [];
  const events: RegistryEvent[] = [];
  for await (const page of readRegistryEvents({ provider, registry: at, fromBlock: from, toBlock: to, maxBlockRange })) {
    pages.push({ fromBlock: page.fromBlock, toBlock: page.toBlock });
    events.push(...page.logs);
  }
  return { pages, events };
}

t.test('status changes and their events come back typed and in order', async (t) => {
  const { events } = await collect(2_000);
  const statusChanges = events.filter((e) => e.name === 'DeviceStatusChanged');
  t.match(statusChanges, [
    { device: devices[0], previous: 'Active', status: 'Suspended', by: registrar.address },
    { device: devices[1], previous: 'Active', status: 'Revoked', by: otherRegistrar.address },
    { device: devices[0], previous: 'Suspended', status: 'Active', by: registrar.address },
    { device: devices[2], previous: 'Active', status: 'Suspended', by: registrar.address },
  ]);
  t.match(
    events.map((e) => e.name),
    ['RoleGranted', 'RoleGranted', 'RoleGranted', 'BatchAnchored', 'DeviceStatusChanged', 'DeviceStatusChanged', 'DeviceStatusChanged', 'DeviceStatusChanged', 'BatchRevoked'],
  );
  t.match(events[0], { name: 'RoleGranted', account: admin.address, blockNumber: deployBlock });
  t.match(events[1], { name: 'RoleGranted', role: REGISTRAR_ROLE, account: registrar.address });
  t.match(events.find((e) => e.name === 'BatchAnchored'), { batchId: batchRef, root, leafCount: 4, operator: registrar.address });
  t.match(events.at(-1), { name: 'BatchRevoked', batchId: batchRef, by: registrar.address });
  for (let i = 1; i < events.length; i++) {
    const [a, b] = [events[i - 1]!, events[i]!];
    t.ok(a.blockNumber < b.blockNumber || (a.blockNumber === b.blockNumber && a.logIndex < b.logIndex), 'chain order');
  }
  t.ok(events.every((e) => e.address === at && /^0x[0-9a-f]{64}$/.test(e.transactionHash)));
});

t.test('small ranges page through every block exactly once', async (t) => {
  const whole = await collect(2_000);
  const paged = await collect(5);
  t.same(paged.events, whole.events, 'the same events');
  t.equal(paged.pages[0]!.fromBlock, 0);
  t.equal(paged.pages.at(-1)!.toBlock, head);
  for (let i = 1; i < paged.pages.length; i++) t.equal(paged.pages[i]!.fromBlock, paged.pages[i - 1]!.toBlock + 1, 'contiguous');
  t.ok(paged.pages.every((p) => p.toBlock - p.fromBlock < 5), 'none longer than asked');
});

t.test('resuming from a cursor reads what came after it, nothing before', async (t) => {
  const whole = await collect(2_000);
  const cursor = whole.events[5]!.blockNumber;
  const rest = await collect(2_000, cursor + 1);
  t.same(rest.events, whole.events.filter((e) => e.blockNumber > cursor));
});

t.test('a node that refuses wide ranges gets narrower ones', async (t) => {
  let refused = 0;
  // The node's own messages vary ("query exceeds max block range", "more than 10000 results").
  const picky = {
    getLogs: async (filter: { fromBlock: number; toBlock: number }): Promise<Log[]> => {
      if (filter.toBlock - filter.fromBlock + 1 > 3) {
        refused++;
        throw new Error('query exceeds max block range 3');
      }
      return provider.getLogs({ ...filter, address: at });
    },
  } as unknown as Provider;
  const pages = [];
  for await (const page of readLogs({ provider: picky, address: at, fromBlock: 0, toBlock: head, maxBlockRange: 16 })) pages.push(page);
  t.ok(refused > 0, 'it was refused');
  t.equal(pages.flatMap((p) => p.logs).length, (await collect(2_000)).events.length, 'and still read every log');
  t.equal(pages.at(-1)!.toBlock, head);
});

t.test('other errors are ChainErrors, not retried', async (t) => {
  const broken = { getLogs: async () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:1')) } as unknown as Provider;
  const gen = readLogs({ provider: broken, address: at, fromBlock: 0, toBlock: 10 });
  const error = await gen.next().then(
    () => undefined,
    (e: unknown) => e,
  );
  t.ok(error instanceof ChainError && error.code === 'NETWORK_ERROR', String(error));
});

t.test('nextRange: only blocks deep enough, at most maxBlockRange', async (t) => {
  t.same(nextRange({ lastIndexedBlock: -1, head: 100, confirmations: 1, maxBlockRange: 1000 }), { fromBlock: 0, toBlock: 100 });
  t.same(nextRange({ lastIndexedBlock: 10, head: 100, confirmations: 12, maxBlockRange: 1000 }), { fromBlock: 11, toBlock: 89 });
  t.same(nextRange({ lastIndexedBlock: 10, head: 100, confirmations: 1, maxBlockRange: 20 }), { fromBlock: 11, toBlock: 30 });
  t.equal(nextRange({ lastIndexedBlock: 89, head: 100, confirmations: 12, maxBlockRange: 20 }), null, 'nothing deep enough yet');
  t.equal(nextRange({ lastIndexedBlock: 100, head: 100, confirmations: 1, maxBlockRange: 20 }), null);
});
