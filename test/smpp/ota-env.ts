/**
 * The whole OTA path for a test: a fresh migrated database with an imported vendor file, the
 * SMSC simulator, the handset fleet (in this process, or as `simchain sim fleet` in its own),
 * and the backend's OTA gateway bound to the SMSC. Everything on loopback, free ports.
 */
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { createVendorCa, inventory, vendorCaToPem, type VendorCa } from '../../sim-applet/index.js';
import { loadImport, MasterKeyring, receiveImport } from '../../provisioning-api/index.js';
import { OtaGateway, type OtaGatewayOptions } from '../../provisioning-api/smpp/ota-gateway.js';
import { Fleet, type FleetOptions } from '../../simulators/fleet/index.js';
import type { SmscOptions, SmscSimulator } from '../../simulators/smsc/index.js';
import { testDatabase, type TestDatabase } from '../helpers/database.js';
import { NETWORK, OPERATOR, startSmsc } from './helpers.js';

export const OPERATOR_ADDRESS = { ton: 1, npi: 1, address: '4912345' };

export interface OtaEnv {
  db: TestDatabase;
  keyring: MasterKeyring;
  smsc: SmscSimulator;
  port: number;
  dir: string;
  vendorFile: string;
  vendorCaFile: string;
  vendorCa: VendorCa;
  /** ICCID → MSISDN of the imported SIMs, in file order. */
  sims: Array<{ iccid: string; msisdn: string }>;
}

export async function otaEnv(options: { count: number; smsc?: Partial<SmscOptions> }): Promise<OtaEnv> {
  const db = await testDatabase();
  const keyring = new MasterKeyring({ version: 1, key: randomBytes(32) });
  const tenant = (await db.pool.query<{ id: string }>(`INSERT INTO tenants (name, kind) VALUES ('operator', 'operator') RETURNING id`)).rows[0]!.id;
  const dir = mkdtempSync(join(tmpdir(), 'simchain-ota-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const lines = [...inventory.generateVendorFile({ format: 'csv', count: options.count, random: randomBytes, tar: 'bfff01', firstSerial: 1000 })];
  const vendorFile = join(dir, 'vendor.csv');
  writeFileSync(vendorFile, lines.join('\n') + '\n');
  const staged = await receiveImport({ pool: db.pool, keyring, tenantId: tenant, source: [Buffer.from(lines.join('\n') + '\n')] });
  if (staged.outcome !== 'staged') throw new Error(`import: ${staged.outcome}`);
  await loadImport(db.pool, staged.importId);
  const sims = (await db.pool.query<{ iccid: string; msisdn: string }>('SELECT iccid, msisdn FROM sims ORDER BY import_line')).rows;
  const vendorCa = createVendorCa({ random: randomBytes, now: new Date() });
  const vendorCaFile = join(dir, 'vendor-ca.json');
  writeFileSync(vendorCaFile, JSON.stringify(vendorCaToPem(vendorCa)));
  const { smsc, port } = await startSmsc(options.smsc);
  return { db, keyring, smsc, port, dir, vendorFile, vendorCaFile, vendorCa, sims };
}

export async function startGateway(env: OtaEnv, extra: Partial<OtaGatewayOptions> = {}): Promise<OtaGateway> {
  const gateway = new OtaGateway({
    pool: env.db.pool,
    keyring: env.keyring,
    smpp: { host: '127.0.0.1', port: env.port, ...OPERATOR, pduTimeoutMs: 2000, reconnect: { initialMs: 20, maxMs: 200 } },
    source: OPERATOR_ADDRESS,
    sweepMs: 200,
    counterLowGraceMs: 1000,
    ...extra,
  });
  gateway.on('error', () => undefined);
  await gateway.start();
  t.teardown(() => gateway.stop());
  return gateway;
}

export async function startFleet(env: OtaEnv, extra: Partial<FleetOptions> = {}): Promise<Fleet> {
  const fleet = await Fleet.start({
    smsc: { host: '127.0.0.1', port: env.port, ...NETWORK, reconnect: { initialMs: 20, maxMs: 200 } },
    vendorFile: env.vendorFile,
    vendorCa: env.vendorCa,
    dir: join(env.dir, 'cards'),
    ...extra,
  });
  t.teardown(() => fleet.stop());
  return fleet;
}

export const SIMCHAIN = join(import.meta.dirname, '..', '..', 'bin', 'simchain.js');

/** `simchain sim fleet` in its own process; resolves once it printed its ready line. */
export async function spawnFleet(env: OtaEnv, args: string[] = []): Promise<{ child: ChildProcess; ready: Record<string, unknown>; stop(): Promise<number | null> }> {
  const child = spawn(process.execPath, [SIMCHAIN, 'sim', 'fleet', '--smsc', `127.0.0.1:${env.port}`, '--system-id', NETWORK.systemId,
    '--password', NETWORK.password, '--vendor-file', env.vendorFile, '--vendor-ca', env.vendorCaFile, '--dir', join(env.dir, 'cards'), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => resolve(JSON.parse(line) as Record<string, unknown>));
    void exited.then((code) => reject(new Error(`fleet exited ${code}: ${stderr}`)));
  });
  const stop = async (): Promise<number | null> => {
    if (child.exitCode === null) child.kill('SIGTERM');
    return exited;
  };
  t.teardown(stop);
  return { child, ready, stop };
}
