/**
 * `simchain start` with nothing configured: a real process, the embedded PostgreSQL from
 * npm under a fresh SIMCHAIN_HOME, the bootstrap key printed once and saved 0600, the API
 * answering with it; stopped by SIGTERM (the database with it), then started again on the
 * same home: the data and the key survive, and no new key is printed. The embedded chain
 * (anvil) runs beside it with the DeviceRegistry deployed; its state survives the restart too.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, chmodSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const SIMCHAIN = fileURLToPath(new URL('../../bin/simchain.js', import.meta.url));

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function start(home: string, port: number): Promise<{ child: ChildProcess; stdout: () => string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, SIMCHAIN_HOME: home, PORT: String(port), LOG_LEVEL: 'warn' };
  delete env.DATABASE_URL;
  delete env.SIMCHAIN_MASTER_KEY;
  const child = spawn(process.execPath, [SIMCHAIN, 'start'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', () => undefined);
  const end = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`simchain start exited ${child.exitCode}: ${out}`);
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.status === 200, () => false);
    if (ok) return { child, stdout: () => out };
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
  t.equal(statSync(keyFile).mode & 0o777, 0o600, 'admin.key is 0600');
  t.ok(first.stdout().includes(token), 'printed on the first start');
  const health = await (await fetch(`http://127.0.0.1:${port}/healthz`)).json();
  t.same(health, { status: 'ok', components: { database: 'ok', chain: 'ok' } });
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
  t.equal(await stop(second.child), 0);
});
