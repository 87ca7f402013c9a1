/**
 * Deployment as `simchain start` does it: the registry recorded in a file is reused while the
 * chain has its code, and deployed afresh (and recorded) on a new chain.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { ensureDeviceRegistry, type Deployment } from '../../contracts/index.js';
import { MemoryOutboxStore, TxOutbox, connectChain, outboxCreationSender } from '../../provisioning-api/chain/index.js';
import { startAnvil } from '../../simulators/chain/index.js';

const dir = mkdtempSync(join(tmpdir(), 'simchain-deploy-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const file = join(dir, 'deployment', 'device-registry.json');

async function ensureOn(stateDir: string): Promise<{ address: string; reused: boolean; stop(): Promise<void> }> {
  const node = await startAnvil({ stateDir });
  const connection = await connectChain(node.rpcUrl);
  const outbox = await TxOutbox.open({ connection, privateKey: node.accounts[0]!.privateKey, store: new MemoryOutboxStore(), pollIntervalMs: 50 });
  const result = await ensureDeviceRegistry(file, outboxCreationSender(outbox), connection.provider, {
    admin: node.accounts[0]!.address,
    registrars: [node.accounts[1]!.address],
  });
  t.ok(await result.contract.hasRole(await result.contract.REGISTRAR_ROLE(), node.accounts[1]!.address), 'registrar set');
  return {
    address: result.deployment.address,
    reused: result.reused,
    stop: async () => {
      await outbox.close();
      await node.stop();
    },
  };
}

t.test('deployed once, then found again after a restart of the chain', async (t) => {
  const first = await ensureOn(join(dir, 'chain-a'));
  t.equal(first.reused, false, 'a fresh chain gets a deployment');
  const recorded = JSON.parse(readFileSync(file, 'utf8')) as Deployment;
  t.match(recorded, { contract: 'DeviceRegistry', address: first.address, chainId: '31337' });
  await first.stop();

  const again = await ensureOn(join(dir, 'chain-a'));
  t.equal(again.reused, true, 'the same chain, restarted from its state: reused');
  t.equal(again.address, first.address);
  await again.stop();
});

t.test('a chain without the recorded code gets a new deployment', async (t) => {
  const other = await ensureOn(join(dir, 'chain-b'));
  t.equal(other.reused, false);
  t.equal((JSON.parse(readFileSync(file, 'utf8')) as Deployment).address, other.address, 'and the record follows');
  await other.stop();
});
