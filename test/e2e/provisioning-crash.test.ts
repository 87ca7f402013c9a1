/**
 * Crash safety of provisioning, with real processes: a batch of thousands of SIMs while the
 * worker (`simchain worker`, its own process) is killed with SIGKILL at random points and
 * started again, many times; the SMSC simulator (its own process) is killed mid-batch and
 * comes back on the same port; the chain node (anvil) is stopped mid-batch and comes back
 * with its state. At the end: every SIM active exactly once with the key its card holds, no
 * OTA counter used twice, one anchoring transaction, and the batch's figures add up.
 */
import t from 'tap';
import { join } from 'node:path';
import { id as keccakId } from 'ethers';
import { createLogger, startJobQueue } from '../../provisioning-api/index.js';
import { createBatch } from '../../provisioning-api/provisioning/batches.js';
import { connectChain } from '../../provisioning-api/chain/index.js';
import { Fleet } from '../../simulators/fleet/index.js';
import { startAnvil, type AnvilNode } from '../../simulators/chain/index.js';
import { crashInventory } from '../helpers/crash-inventory.js';
import { spawnScript, type Child } from '../helpers/child-process.js';
import { NETWORK, OPERATOR } from '../smpp/helpers.js';

const CARDS = Number(process.env.CRASH_TEST_CARDS ?? 2000);
const KILLS = Number(process.env.CRASH_TEST_KILLS ?? 8);
const SIMCHAIN = join(import.meta.dirname, '..', '..', 'bin', 'simchain.ts');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test('a batch survives killed workers, a killed SMSC and a stopped chain node', async (t) => {
  // The inventory: a vendor file imported, its vendor CA configured.
  const { db, dir, keyring, masterKey, vendorFile, vendorCa, importId, principal } = await crashInventory(CARDS, 70_000);

  // The network: SMSC in its own process, the fleet, anvil with its state on disk.
  let smsc: Child | null = null;
  let smscPort = 0;
  const startSmscProcess = async () => {
    smsc = spawnScript(SIMCHAIN, { LOG_LEVEL: 'warn' }, ['sim', 'smsc', '--port', String(smscPort), '--retry-ms', '100:1000',
      '--account', `${OPERATOR.systemId}:${OPERATOR.password}:operator`, '--account', `${NETWORK.systemId}:${NETWORK.password}:network`]);
    smscPort = Number(JSON.parse((await smsc.waitFor(/^\{.*"smsc":"ready".*$/)).input).port);
  };
  await startSmscProcess();
  const fleet = await Fleet.start({
    smsc: { host: '127.0.0.1', port: smscPort, ...NETWORK, reconnect: { initialMs: 50, maxMs: 500 } },
    vendorFile, vendorCa, dir: join(dir, 'cards'),
  });
  t.teardown(() => fleet.stop());
  let anvil: AnvilNode = await startAnvil({ stateDir: join(dir, 'chain'), stateIntervalSeconds: 1 });
  const anvilPort = anvil.port;
  t.teardown(() => anvil.stop());

  // The batch, written through the service as the API would.
  const queue = await startJobQueue(db.url);
  const log = createLogger({ level: 'silent' });
  const batch = await createBatch({ pool: db.pool, queue, keyring, log }, principal, { selector: { importId } });
  await queue.stop();

  const workerEnv = {
    DATABASE_URL: db.url, SIMCHAIN_HOME: join(dir, 'home'), SIMCHAIN_MASTER_KEY: masterKey, LOG_LEVEL: 'error',
    CHAIN_RPC_URL: anvil.rpcUrl, CHAIN_SIGNER_KEY: anvil.accounts[0]!.privateKey,
    SMPP_URL: `smpp://${OPERATOR.systemId}:${OPERATOR.password}@127.0.0.1:${smscPort}`,
    OTA_POR_TIMEOUT: '6', OTA_RETRY_BASE: '1', OTA_MAX_ATTEMPTS: '12',
  };
  const progress = async () => (await db.pool.query<{ state: string; n: number }>(
    'SELECT state, count(*)::int AS n FROM provisioning_items WHERE batch_id = $1 GROUP BY state ORDER BY state', [batch.id])).rows;

  let kills = 0;
  for (let i = 0; i < KILLS; i++) {
    const worker = spawnScript(SIMCHAIN, workerEnv, ['worker']);
    await worker.waitFor(/^simchain worker ready/, 90_000);
    if (i === 2) {
      // The SMSC dies mid-batch (SIGKILL: what it held is lost) and comes back on its port.
      await sleep(700);
      await smsc!.kill();
      await sleep(1500);
      await startSmscProcess();
    }
    if (i === 4) {
      // The chain node stops mid-batch and comes back with its state.
      await sleep(500);
      await anvil.stop();
      await sleep(1500);
      anvil = await startAnvil({ stateDir: join(dir, 'chain'), stateIntervalSeconds: 1, port: anvilPort });
    }
    await sleep(300 + Math.floor(Math.random() * 2500));
    await worker.kill();
    kills++;
    t.comment(`kill ${kills}: ${JSON.stringify(await progress())}`);
  }

  const last = spawnScript(SIMCHAIN, workerEnv, ['worker']);
  await last.waitFor(/^simchain worker ready/, 90_000);
  const end = Date.now() + 240_000;
  for (;;) {
    const state = (await db.pool.query<{ state: string }>('SELECT state FROM provisioning_batches WHERE id = $1', [batch.id])).rows[0]!.state;
    if (state === 'completed' || state === 'failed') break;
    if (Date.now() > end) throw new Error(`batch still ${state}: ${JSON.stringify(await progress())}`);
    await sleep(500);
  }
  await last.kill();
  t.ok(kills >= KILLS, `the worker was killed ${kills} times`);

  // Every SIM active exactly once.
  t.same(await progress(), [{ state: 'done', n: CARDS }], 'every SIM of the batch is done');
  const sims = (await db.pool.query<{ state: string; n: number }>('SELECT state, count(*)::int AS n FROM sims GROUP BY state')).rows;
  t.same(sims, [{ state: 'active', n: CARDS }], 'every SIM is active');
  const devices = (await db.pool.query<{ iccid: string; msisdn: string; publicKey: Buffer; cntr: string }>(
    `SELECT d.iccid, s.msisdn, d.public_key AS "publicKey", c.last_counter::text AS cntr
       FROM devices d JOIN sims s USING (iccid) JOIN ota_counters c ON c.iccid = d.iccid AND c.keyset_index = 1`)).rows;
  t.equal(devices.length, CARDS, 'one device per SIM');

  // The key anchored is the key each card holds, and no card saw a counter the backend did not allocate.
  let sameKey = 0;
  let countersKnown = 0;
  let identities = 0;
  for (const d of devices) {
    const card = (await fleet.cards.get(d.msisdn))!.snapshot();
    if (card.keySlots[0]?.publicKey === d.publicKey.toString('hex')) sameKey++;
    const used = card.keysets[0]?.counter ?? 0;
    if (BigInt(used) <= BigInt(d.cntr)) countersKnown++;
    if (card.identity.batchId === batch.batchRef.slice(2)) identities++;
  }
  t.equal(sameKey, CARDS, 'every anchored key is the key on its card');
  t.equal(countersKnown, CARDS, 'every card\'s counter is one the backend allocated');
  t.equal(identities, CARDS, 'every card holds its batch identity');

  // No OTA counter used for two packets; every resend was a copy of the stored packet.
  t.equal((await db.pool.query('SELECT 1 FROM ota_messages GROUP BY iccid, keyset_index, cntr HAVING count(*) > 1')).rowCount, 0, 'counters unique');

  // One anchoring transaction, and no transaction the outbox does not know.
  const provider = (await connectChain(anvil.rpcUrl)).provider;
  t.teardown(() => provider.destroy());
  const b = (await db.pool.query<{ registry: string; ref: string; leafCount: number }>(
    'SELECT registry, batch_ref AS ref, leaf_count AS "leafCount" FROM provisioning_batches WHERE id = $1', [batch.id])).rows[0]!;
  t.equal(b.leafCount, CARDS);
  const anchored = await provider.getLogs({ address: b.registry, fromBlock: 0, topics: [keccakId('BatchAnchored(bytes32,address,bytes32,uint32)'), b.ref] });
  t.equal(anchored.length, 1, 'the batch was anchored once on chain');
  const signer = anvil.accounts[0]!.address;
  const nonces = (await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM chain_outbox WHERE lower(signer) = lower($1) AND nonce IS NOT NULL`, [signer])).rows[0]!.n;
  t.equal(await provider.getTransactionCount(signer), nonces, 'every transaction of the signer is one the outbox recorded once');
  t.equal((await db.pool.query(`SELECT 1 FROM chain_outbox WHERE id LIKE 'provisioning:%'`)).rowCount, 1, 'one anchoring entry');
});
