/**
 * The API built in-process on a fresh test database (fastify `inject()`), with the operator
 * tenant, customer tenants and one API key per role, and optionally the job workers.
 */
import { randomBytes } from 'node:crypto';
import type { DestinationStream } from 'pino';
import t from 'tap';
import {
  bootstrap,
  buildApp,
  createApiKey,
  createLogger,
  getJob,
  insertTenant,
  MasterKeyring,
  ROLES_BY_TENANT_KIND,
  startJobQueue,
  startWorkers,
  type App,
  type Job,
  type Role,
  type Services,
  type Tenant,
} from '../../provisioning-api/index.js';
import { inventory } from '../../sim-applet/index.js';
import { loadImport, receiveImport } from '../../provisioning-api/index.js';
import { testDatabase, type TestDatabase } from './database.js';

/** Lines of a valid generated vendor file (deterministic keys are not needed: random ones). */
export function vendorFile(options: Partial<inventory.VendorFileOptions> & { count: number }): string {
  const lines = [...inventory.generateVendorFile({ format: 'csv', random: randomBytes, ...options })];
  return lines.join('\n') + '\n';
}

/** Import a generated file of `count` SIMs into the operator's inventory; returns the import id and ICCIDs. */
export async function seedSims(
  services: Services,
  operatorId: string,
  count: number,
  firstSerial = 0,
): Promise<{ importId: string; iccids: string[] }> {
  const outcome = await receiveImport({
    pool: services.pool, keyring: services.keyring, tenantId: operatorId, source: [vendorFile({ count, firstSerial })],
  });
  if (outcome.outcome !== 'staged') throw new Error(`seed import ${outcome.outcome}`);
  await loadImport(services.pool, outcome.importId);
  return { importId: outcome.importId, iccids: Array.from({ length: count }, (_, i) => inventory.iccidForSerial(firstSerial + i)) };
}

export interface TenantWithKeys {
  tenant: Tenant;
  /** One token per role the tenant's kind allows. */
  tokens: Partial<Record<Role, string>>;
}

export interface TestApp {
  db: TestDatabase;
  app: App;
  services: Services;
  operator: TenantWithKeys;
  createCustomer(name: string): Promise<TenantWithKeys>;
  /** Wait until job `id` is succeeded or failed. */
  waitForJob(id: string, timeoutMs?: number): Promise<Job>;
}

export function bearer(token: string | undefined): Record<string, string> {
  if (!token) throw new Error('no token for that role');
  return { authorization: `Bearer ${token}` };
}

async function keysFor(services: Services, tenant: Tenant): Promise<TenantWithKeys> {
  const tokens: Partial<Record<Role, string>> = {};
  for (const role of ROLES_BY_TENANT_KIND[tenant.kind]) {
    tokens[role] = (await createApiKey(services.pool, tenant, role, `test ${role}`)).token;
  }
  return { tenant, tokens };
}

export async function testApp(options: { workers?: boolean; logStream?: DestinationStream; rateLimitPerMinute?: number } = {}): Promise<TestApp> {
  const db = await testDatabase();
  const queue = await startJobQueue(db.url);
  const log = createLogger({ level: options.logStream ? 'info' : 'silent', ...(options.logStream ? { stream: options.logStream } : {}) });
  const services: Services = { pool: db.pool, queue, keyring: new MasterKeyring({ version: 1, key: randomBytes(32) }), log };
  if (options.workers) await startWorkers(services);
  const app = await buildApp({ services, logger: log, rateLimitPerMinute: options.rateLimitPerMinute ?? 100_000 });
  await app.ready();
  t.teardown(async () => {
    await app.close();
    await queue.stop();
  });
  const { operator } = await bootstrap(db.pool, 'operator');
  return {
    db,
    app,
    services,
    operator: await keysFor(services, operator),
    createCustomer: async (name) => keysFor(services, await insertTenant(db.pool, name, 'customer')),
    async waitForJob(id, timeoutMs = 30_000) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const job = await getJob(db.pool, id);
        if (job && (job.state === 'succeeded' || job.state === 'failed')) return job;
        if (Date.now() > end) throw new Error(`job ${id} still ${job?.state} after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
  };
}
