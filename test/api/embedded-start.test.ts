/**
 * `simchain start` with nothing configured: a real process, the embedded PostgreSQL from
 * npm under a fresh SIMCHAIN_HOME, the bootstrap key printed once and saved 0600, the API
 * answering with it; stopped by SIGTERM (the database with it), then started again on the
 * same home: the data and the key survive, and no new key is printed. The embedded chain
 * (anvil) runs beside it with the DeviceRegistry deployed; its state survives the restart too.
 * So do the embedded network's parts: the SMSC simulator's accounts, the handset fleet's
 * cards and their vendor file, imported once with its vendor CA; a batch provisioned over
 * HTTP on the first start is still completed, and its SIMs active, on the second.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, chmodSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const SIMCHAIN = fileURLToPath(new URL('../../bin/simchain.js', import.meta.url));
const FLEET = 50;
const BATCH = 10;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function start(home: string, port: number): Promise<{ child: ChildProcess; stdout: () => string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, SIMCHAIN_HOME: home, PORT: String(port), LOG_LEVEL: 'warn', SIMCHAIN_FLEET_SIZE: String(FLEET) };
  for (const name of ['DATABASE_URL', 'SIMCHAIN_MASTER_KEY', 'CHAIN_RPC_URL', 'CHAIN_SIGNER_KEY', 'SMPP_URL']) delete env[name];
  const child = spawn(process.execPath, [SIMCHAIN, 'start'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', () => undefined);
  const end = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`simchain start exited ${child.exitCode}: ${out}`);
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.status === 200, () => false);
    // Ready, and its announcement (which ends with the commands to try next) printed whole.
    if (ok && /try next:[^]*simchain\.js demo.*\n/.test(out)) return { child, stdout: () => out };
    if (Date.now() > end) throw new Error('simchain start did not become healthy');
    await new Promise((r) => setTimeout(r, 250));
  }
}

function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    child.once('close', (code) => resolve(code));
    child.kill('SIGTERM');
  });
}

t.test('start on embedded defaults, stop, start again', async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'simchain-start-'));
  // The embedded server runs as the postgres user when the tests run as root: it must reach its data.
  chmodSync(home, 0o755);
  t.teardown(() => rmSync(home, { recursive: true, force: true }));
  const port = await freePort();

  const first = await start(home, port);
  const keyFile = join(home, 'admin.key');
  const token = readFileSync(keyFile, 'utf8').trim();
  const api = async (method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: await res.json() };
  };
  t.equal(statSync(keyFile).mode & 0o777, 0o600, 'admin.key is 0600');
  t.ok(first.stdout().includes(token), 'printed on the first start');
  const health = await (await fetch(`http://127.0.0.1:${port}/healthz`)).json();
  t.same(health, { status: 'ok', components: { database: 'ok', chain: 'ok', smpp: 'ok' } }, 'bound to the SMSC simulator');
  const chainLine = /chain: embedded anvil at (\S+) .*DeviceRegistry (0x[0-9a-fA-F]{40})/.exec(first.stdout());
  t.ok(chainLine, 'the embedded chain and its registry are announced');
  const rpc = async (url: string, method: string, params: unknown[] = []) =>
    ((await (await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) })).json()) as { result: string }).result;
  t.not(await rpc(chainLine![1]!, 'eth_getCode', [chainLine![2], 'latest']), '0x', 'the registry has code on the chain');
  const deployment = readFileSync(join(home, 'chain', 'device-registry-31337.json'), 'utf8');
  // A block of our own after the deployment, to see it again after the restart.
  await rpc(chainLine![1]!, 'evm_mine');
  const height = Number(await rpc(chainLine![1]!, 'eth_blockNumber'));
  const tenant = await fetch(`http://127.0.0.1:${port}/v1/tenants`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{"name":"Oslo"}' });
  t.equal(tenant.status, 201);
  t.ok(existsSync(join(home, 'postgres', 'data', 'PG_VERSION')), 'the data lives under SIMCHAIN_HOME');
  t.ok(existsSync(join(home, 'master.key')), 'a generated master key file');

  // The embedded network: the SMSC simulator and a fleet whose vendor file is already imported.
  t.match(first.stdout(), /smsc: SMSC simulator at smpp:\/\/127\.0\.0\.1:\d+ \(operator account simchain/, 'the SMSC is announced');
  const fleetLine = /fleet: 50 cards, inventory imported as ([0-9a-f-]{36})/.exec(first.stdout());
  t.ok(fleetLine, 'the fleet and its import are announced');
  const importId = fleetLine![1]!;
  t.match(first.stdout(), /try next:\n {2}curl .*\/v1\/sims.*\n {2}curl .*\/v1\/provisioning-batches\n {2}node --max-semi-space-size=64 bin\/simchain\.js demo/, 'three commands to try next');
  t.equal(statSync(join(home, 'smsc.json')).mode & 0o777, 0o600, 'the SMSC accounts are 0600');
  const smscAccounts = readFileSync(join(home, 'smsc.json'), 'utf8');
  const vendorFile = readFileSync(join(home, 'inventory', 'vendor.csv'), 'utf8');
  t.equal(vendorFile.trim().split('\n').length, FLEET + 1, 'a vendor file of SIMCHAIN_FLEET_SIZE cards');
  t.ok(existsSync(join(home, 'inventory', 'vendor-ca.json')), 'the vendor CA is kept');
  const imported = await api('GET', `/v1/sim-imports/${importId}`);
  t.match(imported.body, { state: 'completed', rowCount: FLEET, loadedCount: FLEET });
  t.equal((await api('GET', `/v1/sim-imports/${importId}/vendor-ca`)).status, 200, 'the import has its vendor CA');

  // Provision 10 of the fleet's SIMs over HTTP, as the second command to try does for all.
  const sims = (await api('GET', `/v1/sims?importId=${importId}&limit=${BATCH}`)).body.items as { iccid: string }[];
  const created = await api('POST', '/v1/provisioning-batches', { iccids: sims.map((x) => x.iccid) });
  t.equal(created.status, 202, JSON.stringify(created.body));
  const batchId = created.body.id as string;
  let batch: any;
  for (const end = Date.now() + 60_000; ; await new Promise((r) => setTimeout(r, 250))) {
    batch = (await api('GET', `/v1/provisioning-batches/${batchId}`)).body;
    if (batch.state === 'completed' || batch.state === 'failed' || Date.now() > end) break;
  }
  t.equal(batch.state, 'completed', JSON.stringify(batch.failures));
  t.equal(batch.counts.done, BATCH, 'every SIM of the batch is done');
  t.equal((await api('GET', `/v1/sims?state=active&limit=100`)).body.items.length, BATCH, 'and active');
  const cardsLog = statSync(join(home, 'fleet', 'cards.log')).size;
  t.ok(cardsLog > 0, 'the cards keep their state under SIMCHAIN_HOME');

  t.equal(await stop(first.child), 0, 'stops cleanly on SIGTERM');
  t.ok(existsSync(join(home, 'chain', 'anvil-state.json')), 'the chain state is saved under SIMCHAIN_HOME');
  t.notOk(existsSync(join(home, 'postgres', 'data', 'postmaster.pid')), 'the embedded PostgreSQL stopped with it');

  const second = await start(home, port);
  t.notOk(second.stdout().includes('sck_'), 'no new key printed on a resume');
  const list = await fetch(`http://127.0.0.1:${port}/v1/tenants`, { headers: { authorization: `Bearer ${token}` } });
  t.equal(list.status, 200, 'the saved key still works');
  t.same(((await list.json()) as { items: { name: string }[] }).items.map((x) => x.name).sort(), ['Oslo', 'operator'], 'data survived');
  const again = /chain: embedded anvil at (\S+) .*DeviceRegistry (0x[0-9a-fA-F]{40})/.exec(second.stdout());
  t.equal(again?.[2], chainLine![2], 'the same registry');
  t.ok(Number(await rpc(again![1]!, 'eth_blockNumber')) >= height, 'the chain resumed where it stopped');
  t.equal(readFileSync(join(home, 'chain', 'device-registry-31337.json'), 'utf8'), deployment, 'reused, not deployed again');

  t.same(((await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as { components: unknown }).components, { database: 'ok', chain: 'ok', smpp: 'ok' });
  t.equal(readFileSync(join(home, 'smsc.json'), 'utf8'), smscAccounts, 'the same SMSC accounts');
  t.equal(readFileSync(join(home, 'inventory', 'vendor.csv'), 'utf8'), vendorFile, 'the same cards');
  t.match(second.stdout(), new RegExp(`fleet: 50 cards, inventory imported as ${importId} \\(by an earlier start\\)`), 'the same import');
  const imports = (await api('GET', '/v1/sim-imports')).body.items as { id: string }[];
  t.same(imports.map((i) => i.id), [importId], 'no second import');
  const resumed = (await api('GET', `/v1/provisioning-batches/${batchId}`)).body;
  t.equal(resumed.state, 'completed', 'the batch is still there');
  t.equal(resumed.counts.done, BATCH);
  const active = (await api('GET', '/v1/sims?state=active&limit=100')).body.items as { iccid: string }[];
  t.same(active.map((x) => x.iccid).sort(), sims.map((x) => x.iccid).sort(), 'the provisioned SIMs are still active');
  t.ok(statSync(join(home, 'fleet', 'cards.log')).size >= cardsLog, 'the cards kept their state');
  // The cards kept their keys and counters: a provisioned SIM's device resolves, and the
  // rest of the fleet provisions on the restarted network.
  const rest = (await api('GET', `/v1/sims?importId=${importId}&state=inventory&limit=5`)).body.items as { iccid: string }[];
  const more = await api('POST', '/v1/provisioning-batches', { iccids: rest.map((x) => x.iccid) });
  t.equal(more.status, 202);
  let after: any;
  for (const end = Date.now() + 60_000; ; await new Promise((r) => setTimeout(r, 250))) {
    after = (await api('GET', `/v1/provisioning-batches/${more.body.id}`)).body;
    if (after.state === 'completed' || after.state === 'failed' || Date.now() > end) break;
  }
  t.equal(after.state, 'completed', 'a batch after the restart completes too');
  t.equal(after.counts.done, 5);
  t.equal(await stop(second.child), 0);
});
