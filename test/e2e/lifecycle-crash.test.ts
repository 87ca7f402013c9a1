/**
 * Crash safety of lifecycle actions on card and chain, with real processes: 150 provisioned
 * SIMs are suspended while the worker (`simchain worker`) is killed with SIGKILL at random
 * points and started again. At the end every job has succeeded, every SIM is suspended, every
 * card is locked, every device is Suspended on chain by exactly one setStatus, and the signer
 * sent no transaction the outbox does not know.
 */
import t from 'tap';
import { join } from 'node:path';
import { id as keccakId } from 'ethers';
import { DEVICE_STATUSES, DeviceRegistry__factory } from '../../contracts/index.js';
import { createLogger, requestSimAction, startJobQueue, type Services } from '../../provisioning-api/index.js';
import { createBatch } from '../../provisioning-api/provisioning/batches.js';
import { connectChain } from '../../provisioning-api/chain/index.js';
import { Fleet } from '../../simulators/fleet/index.js';
import { startAnvil } from '../../simulators/chain/index.js';
import { crashInventory } from '../helpers/crash-inventory.js';
import { spawnScript } from '../helpers/child-process.js';
import { NETWORK, OPERATOR, startSmsc } from '../smpp/helpers.js';

const CARDS = 150;
const KILLS = 5;
const SIMCHAIN = join(import.meta.dirname, '..', '..', 'bin', 'simchain.ts');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 180_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(300);
  }
}

t.test('suspending SIMs survives killed workers: each card locked once, each device suspended by one transaction', async (t) => {
  const { db, dir, keyring, masterKey, vendorFile, vendorCa, importId, principal } = await crashInventory(CARDS, 80_000);

  const { port } = await startSmsc();
  const fleet = await Fleet.start({ smsc: { host: '127.0.0.1', port, ...NETWORK, reconnect: { initialMs: 50, maxMs: 500 } }, vendorFile, vendorCa, dir: join(dir, 'cards') });
  t.teardown(() => fleet.stop());
  const anvil = await startAnvil({});
  t.teardown(() => anvil.stop());

  const queue = await startJobQueue(db.url);
  t.teardown(() => queue.stop());
  const svc: Services = { pool: db.pool, queue, keyring, log: createLogger({ level: 'silent' }), ota: null, chain: null };
  const workerEnv = {
    DATABASE_URL: db.url, SIMCHAIN_HOME: join(dir, 'home'), SIMCHAIN_MASTER_KEY: masterKey, LOG_LEVEL: 'error',
    CHAIN_RPC_URL: anvil.rpcUrl, CHAIN_SIGNER_KEY: anvil.accounts[0]!.privateKey,
    SMPP_URL: `smpp://${OPERATOR.systemId}:${OPERATOR.password}@127.0.0.1:${port}`,
    OTA_POR_TIMEOUT: '6', OTA_RETRY_BASE: '1', OTA_MAX_ATTEMPTS: '12',
  };

  // Provision them first, undisturbed.
  const batch = await createBatch(svc, principal, { selector: { importId } });
  let worker = spawnScript(SIMCHAIN, workerEnv, ['worker']);
  await worker.waitFor(/^simchain worker ready/, 90_000);
  await until('the provisioning batch', async () => (await db.pool.query(`SELECT 1 FROM provisioning_batches WHERE id = $1 AND state = 'completed'`, [batch.id])).rowCount === 1);
  await worker.kill();
  const devices = (await db.pool.query<{ iccid: string; msisdn: string; address: string }>(
    `SELECT d.iccid, s.msisdn, d.address FROM devices d JOIN sims s USING (iccid) WHERE s.state = 'active' ORDER BY d.iccid`)).rows;
  t.equal(devices.length, CARDS, 'every SIM provisioned');

  // Suspend every one of them, then kill the worker again and again.
  const jobs: string[] = [];
  for (const d of devices) jobs.push((await requestSimAction(svc, principal, d.iccid, 'suspend')).id);
  const progress = async () => (await db.pool.query<{ state: string; n: number }>(
    'SELECT state, count(*)::int AS n FROM jobs WHERE id = ANY($1::uuid[]) GROUP BY state ORDER BY state', [jobs])).rows;
  for (let i = 0; i < KILLS; i++) {
    worker = spawnScript(SIMCHAIN, workerEnv, ['worker']);
    await worker.waitFor(/^simchain worker ready/, 90_000);
    await sleep(200 + Math.floor(Math.random() * 2500));
    await worker.kill();
    t.comment(`kill ${i + 1}: ${JSON.stringify(await progress())}`);
  }
  worker = spawnScript(SIMCHAIN, workerEnv, ['worker']);
  await worker.waitFor(/^simchain worker ready/, 90_000);
  await until('every suspend job', async () => (await db.pool.query(`SELECT 1 FROM jobs WHERE id = ANY($1::uuid[]) AND state IN ('queued', 'running')`, [jobs])).rowCount === 0, 240_000);
  await worker.kill();

  t.same(await progress(), [{ state: 'succeeded', n: CARDS }], 'every job succeeded');
  t.same((await db.pool.query('SELECT state, count(*)::int AS n FROM sims GROUP BY state')).rows, [{ state: 'suspended', n: CARDS }], 'every SIM is suspended');
  let locked = 0;
  for (const d of devices) if ((await fleet.cards.get(d.msisdn))!.snapshot().lifecycle === 'locked') locked++;
  t.equal(locked, CARDS, 'every card is locked');

  const provider = (await connectChain(anvil.rpcUrl)).provider;
  t.teardown(() => provider.destroy());
  const registryAddress = (await db.pool.query<{ registry: string }>('SELECT registry FROM provisioning_batches WHERE id = $1', [batch.id])).rows[0]!.registry;
  const registry = DeviceRegistry__factory.connect(registryAddress, provider);
  let suspended = 0;
  for (const d of devices) if (DEVICE_STATUSES[Number(await registry.statusOf(d.address))] === 'Suspended') suspended++;
  t.equal(suspended, CARDS, 'every device is Suspended on chain');
  const changes = await provider.getLogs({ address: registryAddress, fromBlock: 0, topics: [keccakId('DeviceStatusChanged(address,uint8,uint8,address)')] });
  t.equal(changes.length, CARDS, 'one status change per device: no setStatus sent twice');
  const signer = anvil.accounts[0]!.address;
  const nonces = (await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM chain_outbox WHERE lower(signer) = lower($1) AND nonce IS NOT NULL`, [signer])).rows[0]!.n;
  t.equal(await provider.getTransactionCount(signer), nonces, 'every transaction of the signer is one the outbox recorded once');
  t.equal((await db.pool.query(`SELECT 1 FROM ota_messages GROUP BY iccid, keyset_index, cntr HAVING count(*) > 1`)).rowCount, 0, 'no OTA counter used twice');
});
