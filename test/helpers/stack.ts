/**
 * The whole system for an end-to-end test, every part real and on loopback: a fresh migrated
 * PostgreSQL database, anvil, the SMSC simulator, the handset fleet (in this process) with
 * cards personalised from the same generated vendor file the operator imports, and the
 * backend (`startBackend`: HTTP API on a free port, job workers, chain adapter with its
 * DeviceRegistry, OTA gateway bound to the SMSC). Stopped when the test file ends.
 */
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createVendorCa, inventory, issueDerivedCardCertificate, vendorCaToPem, type VendorCa } from '../../sim-applet/index.js';
import { createLogger, formatMasterKeyring, startBackend, type Backend, type Config } from '../../provisioning-api/index.js';
import { Fleet, type FleetOptions } from '../../simulators/fleet/index.js';
import type { SmscSimulator, SmscOptions } from '../../simulators/smsc/index.js';
import { startAnvil, type AnvilNode } from '../../simulators/chain/index.js';
import { testDatabase, type TestDatabase } from './database.js';
import { NETWORK, OPERATOR, startSmsc } from '../smpp/helpers.js';

export interface Stack {
  db: TestDatabase;
  anvil: AnvilNode;
  smsc: SmscSimulator;
  smscPort: number;
  fleet: Fleet;
  backend: Backend;
  /** http://127.0.0.1:port */
  url: string;
  adminKey: string;
  dir: string;
  vendorFile: string;
  vendorFileText: string;
  vendorCa: VendorCa;
  /** PEM of the vendor CA certificate (what the operator configures per import). */
  vendorCaPem: string;
  /** Call the API as the bootstrap admin (or with `key`). */
  api(method: string, path: string, body?: unknown, key?: string): Promise<{ status: number; body: any }>;
  /** Import the vendor file through the API, configure its vendor CA; returns the import id. */
  importInventory(): Promise<string>;
  /** Stop the backend and start it again on the same database, chain and SMSC. */
  restartBackend(): Promise<void>;
}

export interface StackOptions {
  cards: number;
  smsc?: Partial<SmscOptions>;
  fleet?: Partial<FleetOptions>;
  /** Seconds an OTA command waits for its PoR (default 30). */
  porTimeoutSeconds?: number;
  firstSerial?: number;
  /** Provisioning resend backoff base (default 1 s here) and attempts (default 3). */
  retryBaseSeconds?: number;
  maxAttempts?: number;
  /** Write each card's attestation certificate into the vendor file (column ATTESTATION_CERT), as the card factory issues it. */
  certificates?: boolean;
  /** The provisioning sweeper's period and what it counts as stalled (defaults: 3 s, 20 s). */
  stalledCheckMs?: number;
  stalledSeconds?: number;
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const db = await testDatabase();
  const dir = mkdtempSync(join(tmpdir(), 'simchain-stack-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const anvil = await startAnvil({});
  t.teardown(() => anvil.stop());
  const { smsc, port } = await startSmsc(options.smsc);
  const vendorCa = createVendorCa({ random: randomBytes, now: new Date() });
  const now = new Date();
  const vendorFileText = [...inventory.generateVendorFile({
    format: 'csv', count: options.cards, random: randomBytes, tar: 'bfff01', firstSerial: options.firstSerial ?? 5000,
    ...(options.certificates ? { certificate: (iccid: string) => issueDerivedCardCertificate({ iccid, ca: vendorCa, now, fastSignature: true }).certificate } : {}),
  })].join('\n') + '\n';
  const vendorFile = join(dir, 'vendor.csv');
  writeFileSync(vendorFile, vendorFileText);
  const vendorCaPem = vendorCaToPem(vendorCa).certificate;
  const fleet = await Fleet.start({
    smsc: { host: '127.0.0.1', port, ...NETWORK, reconnect: { initialMs: 20, maxMs: 200 } },
    vendorFile, vendorCa, dir: join(dir, 'cards'), ...options.fleet,
  });
  t.teardown(() => fleet.stop());

  const keyring = formatMasterKeyring([{ version: 1, key: randomBytes(32) }]);
  const config: Config = {
    home: join(dir, 'home'), host: '127.0.0.1', port: 0, databaseUrl: db.url, operatorName: 'operator',
    rateLimitPerMinute: 100_000, logLevel: 'warn', chainRpcUrl: anvil.rpcUrl, chainSignerKey: anvil.accounts[0]!.privateKey,
    chainConfirmations: 1, smpp: { host: '127.0.0.1', port, ...OPERATOR, tls: false }, smppSourceAddr: '4912345', smppBinds: 1,
    smppWindow: 100, otaPorTimeoutSeconds: options.porTimeoutSeconds ?? 30,
    otaRetryBaseSeconds: options.retryBaseSeconds ?? 1, otaMaxAttempts: options.maxAttempts ?? 3,
  };
  const log = createLogger({ level: 'warn', stderr: true });
  let adminKey = '';
  const previousMasterKey = process.env.SIMCHAIN_MASTER_KEY;
  process.env.SIMCHAIN_MASTER_KEY = keyring;
  t.teardown(() => {
    if (previousMasterKey === undefined) delete process.env.SIMCHAIN_MASTER_KEY;
    else process.env.SIMCHAIN_MASTER_KEY = previousMasterKey;
  });
  const boot = () => startBackend({
    config, log, workers: true, http: true,
    provisioning: { stalledCheckMs: options.stalledCheckMs, stalledSeconds: options.stalledSeconds },
    onAdminKey: (token) => (adminKey = token),
    chain: { rpcUrl: anvil.rpcUrl, signerKey: anvil.accounts[0]!.privateKey, confirmations: 1 },
    ota: { smsc: config.smpp!, sourceAddr: config.smppSourceAddr, binds: 1, window: 100, porTimeoutSeconds: config.otaPorTimeoutSeconds },
  });
  let backend = await boot();
  let stopped = false;
  t.teardown(async () => {
    if (!stopped) await backend.stop();
  });

  const stack: Stack = {
    db, anvil, smsc, smscPort: port, fleet, backend, url: backend.httpUrl!, adminKey, dir, vendorFile, vendorFileText, vendorCa, vendorCaPem,
    async api(method, path, body, key) {
      const res = await fetch(`${stack.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${key ?? adminKey}`, ...(body === undefined ? {} : typeof body === 'string' ? { 'content-type': 'text/csv' } : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text === '' ? null : JSON.parse(text);
      } catch {
        /* not JSON */
      }
      return { status: res.status, body: parsed };
    },
    async importInventory() {
      const created = await stack.api('POST', '/v1/sim-imports', vendorFileText);
      if (created.status !== 202 && created.status !== 200) throw new Error(`import: ${created.status} ${JSON.stringify(created.body)}`);
      const id = created.body.id as string;
      for (;;) {
        const got = await stack.api('GET', `/v1/sim-imports/${id}`);
        if (got.body.state === 'completed') break;
        if (got.body.state === 'rejected') throw new Error(`import rejected: ${JSON.stringify(got.body)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const ca = await stack.api('PUT', `/v1/sim-imports/${id}/vendor-ca`, { certificate: vendorCaPem });
      if (ca.status !== 200) throw new Error(`vendor CA: ${ca.status} ${JSON.stringify(ca.body)}`);
      return id;
    },
    async restartBackend() {
      stopped = true;
      await backend.stop();
      backend = await boot();
      stopped = false;
      stack.backend = backend;
      stack.url = backend.httpUrl!;
    },
  };
  return stack;
}
