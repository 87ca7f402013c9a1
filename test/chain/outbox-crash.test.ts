/**
 * The outbox survives a killed process at every step and a restart of the node: each batch is
 * anchored by exactly one transaction, none lost, none doubled.
 *
 * A child process (outbox-child.ts) anchors a batch through the signing key's outbox in
 * PostgreSQL and is killed with SIGKILL at a chosen point; this process then takes the key's
 * lease (which the dead process's session took down with it) and opens the outbox from the
 * database, as the restarted backend would, and must finish the job.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { DeviceRegistry__factory } from '../../contracts/index.js';
import { connectChain, openSignerOutbox, PgOutboxStore, registryCalls, RegistryReader, type TxOutbox } from '../../provisioning-api/chain/index.js';
import { startAnvil, type AnvilAccount } from '../../simulators/chain/index.js';
import { startChain } from '../helpers/anvil.js';
import { testDatabase } from '../helpers/database.js';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'outbox-child.ts');
const dir = mkdtempSync(join(tmpdir(), 'simchain-outbox-crash-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const db = await testDatabase();
const stored = (id: string) => new PgOutboxStore(db.pool).get(id);
const chain = await startChain({ anvil: { stateDir: join(dir, 'chain') } });
const provider = chain.connection.provider;
const registry = chain.registryAddress;
// Registrars for the scenarios, granted by the admin: one signer each, so counts are exact.
const signers = chain.node.accounts.slice(4, 9);
for (const [i, s] of signers.entries()) {
  await chain.admin.outbox.submit(`grant-${i}`, registryCalls.grantRegistrar(registry, s.address));
}
const automine = (on: boolean): Promise<unknown> => provider.send('evm_setAutomine', [on]);

interface Run {
  signer: AnvilAccount;
  batchRef: string;
  root: string;
  id: string;
}

function newRun(signer: AnvilAccount): Run {
  const batchRef = `0x${randomBytes(32).toString('hex')}`;
  return { signer, batchRef, root: `0x${randomBytes(32).toString('hex')}`, id: `anchor:${batchRef}` };
}

/** Runs the child until it dies by itself (crashAfter a state) or, with 'never', until it prints SENT; then kills it. */
async function crashChild(run: Run, crashAfter: 'planned' | 'sent' | 'mined' | 'never', confirmations = 1, onSent?: () => Promise<void>): Promise<string | undefined> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    env: {
      ...process.env,
      RPC_URL: chain.node.rpcUrl,
      DATABASE_URL: db.url,
      KEY: run.signer.privateKey,
      REGISTRY: registry,
      ROOT: run.root,
      LEAVES: '1000',
      BATCH_REF: run.batchRef,
      CONFIRMATIONS: String(confirmations),
      CRASH_AFTER: crashAfter,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<string | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
  let sentHash: string | undefined;
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const m = /^SENT (0x[0-9a-f]{64})$/.exec(line);
    if (!m) return;
    sentHash = m[1];
    void (onSent?.() ?? Promise.resolve()).then(() => {
      if (crashAfter === 'never') child.kill('SIGKILL');
    });
  });
  const signal = await exited;
  if (signal !== 'SIGKILL') throw new Error(`the child ended by ${signal ?? 'exit'}, not SIGKILL`);
  return sentHash;
}

async function recover(run: Run, confirmations = 1): Promise<TxOutbox> {
  const signer = await openSignerOutbox({
    pool: db.pool,
    connection: chain.connection,
    privateKey: run.signer.privateKey,
    // The server drops a killed process's lock once it sees the connection close.
    leaseWaitMs: 10_000,
    confirmations,
    pollIntervalMs: 50,
    rebroadcastAfterMs: 300,
  });
  t.teardown(() => signer.close());
  return signer.outbox;
}

async function assertOneAnchor(tt: Tap, run: Run, outbox: TxOutbox): Promise<void> {
  const entry = await outbox.wait(run.id, 'confirmed', 20_000);
  tt.equal(entry.state, 'confirmed');
  tt.equal(await provider.getTransactionCount(run.signer.address), 1, 'the signer sent exactly one transaction');
  const reader = new RegistryReader(registry, provider);
  tt.ok(await reader.isAnchored(run.batchRef), 'the batch is anchored');
  tt.equal((await reader.batch(run.batchRef)).root, run.root);
  const rows = (await db.pool.query(`SELECT id, state, nonce::int FROM chain_outbox WHERE signer = $1`, [run.signer.address.toLowerCase()])).rows;
  tt.same(rows, [{ id: run.id, state: 'confirmed', nonce: 0 }], 'and the database holds that one entry, confirmed');
}
type Tap = Parameters<Parameters<typeof t.test>[0]>[0];

t.test('killed between send and receipt', async (t) => {
  await automine(false);
  t.teardown(() => automine(true));
  const run = newRun(signers[0]!);
  const hash = await crashChild(run, 'never');
  t.ok(hash, 'the child had broadcast its transaction');
  t.not(await provider.getTransaction(hash!), null, 'which waits in the pool, unmined');
  const outbox = await recover(run);
  t.equal(outbox.inFlight()[0]?.state, 'sent', 'the new process resumes the sent entry');
  await provider.send('evm_mine', []);
  await assertOneAnchor(t, run, outbox);
  t.equal((await outbox.wait(run.id)).receipt!.hash, hash, 'the very transaction the dead process sent');
});

t.test('killed after recording the signed transaction, before broadcasting it', async (t) => {
  const run = newRun(signers[1]!);
  await crashChild(run, 'sent');
  const recorded = await stored(run.id);
  t.equal(recorded?.state, 'sent');
  t.equal(await provider.getTransaction(recorded!.attempts[0]!.hash), null, 'the node never saw it');
  const outbox = await recover(run);
  await assertOneAnchor(t, run, outbox);
  t.equal((await outbox.wait(run.id)).receipt!.hash, recorded!.attempts[0]!.hash, 'the recorded bytes were sent');
});

t.test('killed after planning, before signing', async (t) => {
  const run = newRun(signers[2]!);
  await crashChild(run, 'planned');
  t.equal((await stored(run.id))?.state, 'planned');
  t.equal(await provider.getTransactionCount(run.signer.address, 'pending'), 0, 'nothing was sent');
  const outbox = await recover(run);
  await assertOneAnchor(t, run, outbox);
});

t.test('killed after the receipt, before the confirmation depth', async (t) => {
  const run = newRun(signers[3]!);
  await crashChild(run, 'mined', 3);
  t.equal((await stored(run.id))?.state, 'mined');
  const outbox = await recover(run, 3);
  await provider.send('anvil_mine', ['0x2']);
  await assertOneAnchor(t, run, outbox);
});

t.test('the node restarts with its state while a transaction waits in its pool', async (t) => {
  await automine(false);
  const run = newRun(signers[4]!);
  const outbox = await recover(run);
  const sent = await outbox.submit(run.id, registryCalls.anchorBatch(registry, run.root, 1000, run.batchRef), { until: 'sent' });
  const port = chain.node.port;
  await chain.node.stop();
  const restarted = await startAnvil({ stateDir: join(dir, 'chain'), port });
  t.teardown(() => restarted.stop());
  const again = await connectChain(restarted.rpcUrl);
  t.not(await again.provider.getCode(registry), '0x', 'the registry survived the restart');
  t.ok(DeviceRegistry__factory.connect(registry, again.provider), 'and answers');
  await assertOneAnchor(t, run, outbox);
  t.equal((await outbox.wait(run.id)).receipt!.hash, sent.attempts[0]!.hash, 'the same transaction, sent again by the outbox');
});
