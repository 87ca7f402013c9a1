/**
 * The anvil launcher (simulators/chain): free ports, funded accounts, a chain kept across a
 * restart in its state file, mining modes, failures reported, and no anvil left behind when
 * its parent dies.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { Wallet } from 'ethers';
import { deployDeviceRegistry } from '../../contracts/index.js';
import {
  MemoryOutboxStore,
  RegistryReader,
  TxOutbox,
  connectChain,
  outboxCreationSender,
  readRegistryEvents,
  registryCalls,
} from '../../provisioning-api/chain/index.js';
import { AnvilStartError, startAnvil } from '../../simulators/chain/index.js';

const dir = mkdtempSync(join(tmpdir(), 'simchain-anvil-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

t.test('two nodes at once, each on its own free loopback port, with funded keys', async (t) => {
  const [a, b] = await Promise.all([startAnvil(), startAnvil({ accounts: 3 })]);
  t.teardown(async () => {
    await a.stop();
    await b.stop();
  });
  t.not(a.port, b.port);
  t.match(a.rpcUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
  t.equal(a.accounts.length, 10);
  t.equal(b.accounts.length, 3);
  for (const acc of b.accounts) t.equal(new Wallet(acc.privateKey).address, acc.address, 'each key matches its address');
  const c = await connectChain(b.rpcUrl);
  t.equal(await c.provider.getBalance(b.accounts[2]!.address), 10_000n * 10n ** 18n, 'funded with 10,000 ether');
  await a.stop();
  t.notOk(alive(a.pid), 'stop() ends the process');
  t.equal(await a.exited, 0, 'cleanly');
});

t.test('a restart with the same state directory keeps the chain', async (t) => {
  const stateDir = join(dir, 'state');
  const first = await startAnvil({ stateDir });
  const c1 = await connectChain(first.rpcUrl);
  const outbox = await TxOutbox.open({ connection: c1, privateKey: first.accounts[0]!.privateKey, store: new MemoryOutboxStore(), pollIntervalMs: 50 });
  const registrar = first.accounts[1]!.address;
  const { deployment } = await deployDeviceRegistry(outboxCreationSender(outbox), c1.provider, { admin: first.accounts[0]!.address, registrars: [] });
  await outbox.submit('grant', registryCalls.grantRegistrar(deployment.address, first.accounts[0]!.address));
  const root = `0x${randomBytes(32).toString('hex')}`;
  await outbox.submit('anchor', registryCalls.anchorBatch(deployment.address, root, 10, `0x${'01'.repeat(32)}`));
  const height = await c1.provider.getBlockNumber();
  await outbox.close();
  await first.stop();
  t.equal(first.statePath, join(stateDir, 'anvil-state.json'));

  const second = await startAnvil({ stateDir });
  t.teardown(() => second.stop());
  const c2 = await connectChain(second.rpcUrl);
  t.equal(await c2.provider.getBlockNumber(), height, 'same height');
  const reader = new RegistryReader(deployment.address, c2.provider);
  t.equal((await reader.batch(`0x${'01'.repeat(32)}`)).root, root, 'contract storage kept');
  t.notOk(await reader.isRegistrar(registrar));
  t.equal(await c2.provider.getTransactionCount(first.accounts[0]!.address), 3, 'account nonces kept');
  const events = [];
  for await (const page of readRegistryEvents({ provider: c2.provider, registry: deployment.address, fromBlock: 0, toBlock: height })) events.push(...page.logs);
  t.same(events.map((e) => e.name), ['RoleGranted', 'RoleGranted', 'BatchAnchored'], 'past logs still readable');
});

t.test('mining modes', async (t) => {
  const manual = await startAnvil({ mining: 'manual' });
  const interval = await startAnvil({ mining: { intervalSeconds: 1 } });
  t.teardown(async () => {
    await manual.stop();
    await interval.stop();
  });
  const m = await connectChain(manual.rpcUrl);
  const w = new Wallet(manual.accounts[0]!.privateKey, m.provider);
  const tx = await w.sendTransaction({ to: manual.accounts[1]!.address, value: 1n, nonce: 0, gasLimit: 21_000n });
  await new Promise((r) => setTimeout(r, 300));
  t.equal(await m.provider.getTransactionReceipt(tx.hash), null, 'manual: nothing mined by itself');
  await m.provider.send('evm_mine', []);
  t.not(await m.provider.getTransactionReceipt(tx.hash), null, 'mined on request');
  const i = await connectChain(interval.rpcUrl);
  const start = await i.provider.getBlockNumber();
  await new Promise((r) => setTimeout(r, 2_200));
  t.ok((await i.provider.getBlockNumber()) >= start + 2, 'interval: a block a second');
});

t.test('an anvil that cannot start is reported with its output', async (t) => {
  const error = await startAnvil({ extraArgs: ['--hardfork', 'no-such-fork'] }).catch((e: unknown) => e);
  t.ok(error instanceof AnvilStartError, String(error));
  t.match((error as Error).message, /exited/);
});

t.test('anvil dies with its parent, even a parent killed outright', async (t) => {
  const launcher = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'simulators', 'chain', 'index.ts');
  const script = `import { startAnvil } from ${JSON.stringify(launcher)};
const node = await startAnvil();
console.log(node.pid);
setInterval(() => {}, 1000);`;
  const parent = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const pid = await new Promise<number>((resolve) => createInterface({ input: parent.stdout! }).once('line', (l) => resolve(Number(l))));
  t.ok(alive(pid), 'anvil runs under its parent');
  parent.kill('SIGKILL');
  const deadline = Date.now() + 5_000;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  t.notOk(alive(pid), 'and is gone once the parent was killed');
});
