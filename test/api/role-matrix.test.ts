/**
 * The role × route matrix: every route refuses every role it does not name (403), every
 * request without a valid key (401), and a customer's key on another tenant's resource
 * (404, as if it did not exist). Allowed callers get past authorization (any status but
 * 401/403).
 */
import t from 'tap';
import { ROLES_BY_TENANT_KIND, runAllocationJob, type Role } from '../../provisioning-api/index.js';
import { randomBytes } from 'node:crypto';
import { createVendorCa, vendorCaToPem } from '../../sim-applet/index.js';
import { bearer, seedSims, testApp, vendorFile, type TenantWithKeys } from '../helpers/app.js';

let h: Awaited<ReturnType<typeof testApp>>;
let app: Awaited<ReturnType<typeof testApp>>['app'];
let cityA: TenantWithKeys;
let cityB: TenantWithKeys;
let importId: string;
let iccids: string[];
let simA: string;
let jobA: string;
let admin: Record<string, string>;
let batchId: string;
let deviceAddress: string;
const vendorCaPem = vendorCaToPem(createVendorCa({ random: randomBytes, now: new Date() })).certificate;

t.before(async () => {
  h = await testApp();
  app = h.app;
  cityA = await h.createCustomer('city A');
  cityB = await h.createCustomer('city B');
  ({ importId, iccids } = await seedSims(h.services, h.operator.tenant.id, 20));
  simA = iccids[0]!;
  const simB = iccids[1]!;
  admin = bearer(h.operator.tokens['operator-admin']);
  for (const [iccid, tenant] of [[simA, cityA], [simB, cityB]] as const) {
    const r = await app.inject({ method: 'POST', url: '/v1/sim-allocations', headers: admin, payload: { tenantId: tenant.tenant.id, iccids: [iccid] } });
    if (r.statusCode !== 202) throw new Error(r.body);
  }
  // Allocation runs as a job; this file runs no workers, so apply it here.
  for (const job of (await h.db.pool.query<{ id: string }>(`SELECT id FROM jobs WHERE kind = 'sim.allocate'`)).rows) await runAllocationJob(h.services, job.id);
  jobA = (await app.inject({ method: 'POST', url: `/v1/sims/${iccids[2]}/terminate`, headers: admin })).json().id as string;
  await h.db.pool.query(`UPDATE jobs SET tenant_id = $1 WHERE id = $2`, [cityA.tenant.id, jobA]);
  // A provisioning batch (no workers run here: it stays in keygen) and a device row to read.
  const ca = await app.inject({ method: 'PUT', url: `/v1/sim-imports/${importId}/vendor-ca`, headers: admin, payload: { certificate: vendorCaPem } });
  if (ca.statusCode !== 200) throw new Error(ca.body);
  const batch = await app.inject({ method: 'POST', url: '/v1/provisioning-batches', headers: admin, payload: { iccids: [iccids[10]] } });
  if (batch.statusCode !== 202) throw new Error(batch.body);
  batchId = batch.json().id as string;
  deviceAddress = `0x${randomBytes(20).toString('hex')}`;
  await h.db.pool.query(
    `INSERT INTO devices (address, iccid, tenant_id, batch_id, public_key, curve, key_slot, salt, imsi_commitment, leaf_index, proof)
     VALUES ($1, $2, $3, $4, $5, 'secp256k1', 1, $6, $7, 0, $8)`,
    [deviceAddress, iccids[10], h.operator.tenant.id, batchId, randomBytes(65), randomBytes(32), randomBytes(32), Buffer.alloc(0)],
  );
  await h.db.pool.query(`UPDATE provisioning_batches SET merkle_root = $2, leaf_count = 1, chain_id = 31337, registry = $3 WHERE id = $1`,
    [batchId, `0x${randomBytes(32).toString('hex')}`, `0x${randomBytes(20).toString('hex')}`]);
});

type Who = { tenant: TenantWithKeys; side: 'operator' | 'A' | 'B'; role: Role };
const everyone = (): Who[] => [
  ...ROLES_BY_TENANT_KIND.operator.map((role) => ({ tenant: h.operator, side: 'operator' as const, role })),
  ...ROLES_BY_TENANT_KIND.customer.map((role) => ({ tenant: cityA, side: 'A' as const, role })),
  ...ROLES_BY_TENANT_KIND.customer.map((role) => ({ tenant: cityB, side: 'B' as const, role })),
];

interface Route {
  method: 'GET' | 'POST' | 'PUT';
  url: string | (() => Promise<string>);
  roles: Role[];
  /** Customers' keys refused whatever their role. */
  operatorOnly?: boolean;
  /** The resource belongs to city A: city B gets 404. */
  ownedByA?: boolean;
  payload?: () => unknown;
  contentType?: string;
}

let n = 0;
const ALL: Role[] = ['operator-admin', 'carrier-ops', 'municipal-it', 'emergency-services', 'auditor'];
const routes = (): Route[] => [
  { method: 'POST', url: '/v1/tenants', roles: ['operator-admin'], payload: () => ({ name: `tenant ${n++}` }) },
  { method: 'GET', url: '/v1/tenants', roles: ['operator-admin', 'carrier-ops', 'auditor'], operatorOnly: true },
  { method: 'GET', url: `/v1/tenants/${cityA.tenant.id}`, roles: ALL, ownedByA: true },
  { method: 'POST', url: `/v1/tenants/${cityA.tenant.id}/api-keys`, roles: ['operator-admin'], payload: () => ({ role: 'auditor', name: 'k' }) },
  { method: 'GET', url: `/v1/tenants/${cityA.tenant.id}/api-keys`, roles: ['operator-admin', 'auditor'], ownedByA: true },
  {
    method: 'POST',
    url: async () => {
      const r = await app.inject({ method: 'POST', url: `/v1/tenants/${cityA.tenant.id}/api-keys`, headers: admin, payload: { role: 'auditor', name: 'victim' } });
      return `/v1/api-keys/${r.json().key.id}/revoke`;
    },
    roles: ['operator-admin'],
  },
  { method: 'POST', url: '/v1/sim-imports', roles: ['operator-admin', 'carrier-ops'], operatorOnly: true, contentType: 'text/csv', payload: () => vendorFile({ count: 2, firstSerial: 900_000 }) },
  { method: 'GET', url: '/v1/sim-imports', roles: ['operator-admin', 'carrier-ops', 'auditor'], operatorOnly: true },
  { method: 'GET', url: `/v1/sim-imports/${importId}`, roles: ['operator-admin', 'carrier-ops', 'auditor'], operatorOnly: true },
  { method: 'GET', url: '/v1/sims', roles: ALL },
  { method: 'GET', url: `/v1/sims/${simA}`, roles: ALL, ownedByA: true },
  { method: 'POST', url: `/v1/sims/${simA}/suspend`, roles: ['operator-admin', 'carrier-ops', 'municipal-it', 'emergency-services'], ownedByA: true },
  { method: 'POST', url: `/v1/sims/${simA}/resume`, roles: ['operator-admin', 'carrier-ops', 'municipal-it', 'emergency-services'], ownedByA: true },
  { method: 'POST', url: `/v1/sims/${iccids[3]}/terminate`, roles: ['operator-admin', 'carrier-ops'] },
  { method: 'POST', url: '/v1/sim-allocations', roles: ['operator-admin', 'carrier-ops'], operatorOnly: true, payload: () => ({ tenantId: cityA.tenant.id, iccids: [iccids[5]] }) },
  { method: 'GET', url: `/v1/jobs/${jobA}`, roles: ALL, ownedByA: true },
  { method: 'PUT', url: `/v1/sim-imports/${importId}/vendor-ca`, roles: ['operator-admin', 'carrier-ops'], operatorOnly: true, payload: () => ({ certificate: vendorCaPem }) },
  { method: 'GET', url: `/v1/sim-imports/${importId}/vendor-ca`, roles: ['operator-admin', 'carrier-ops', 'auditor'], operatorOnly: true },
  { method: 'POST', url: '/v1/provisioning-batches', roles: ['operator-admin', 'carrier-ops'], operatorOnly: true, payload: () => ({ iccids: [iccids[11]] }) },
  { method: 'GET', url: '/v1/provisioning-batches', roles: ['operator-admin', 'carrier-ops', 'auditor'], operatorOnly: true },
  { method: 'GET', url: `/v1/provisioning-batches/${batchId}`, roles: ['operator-admin', 'carrier-ops', 'auditor'], operatorOnly: true },
  { method: 'GET', url: `/v1/devices/${deviceAddress}`, roles: ALL },
  { method: 'GET', url: `/v1/sims/${simA}/ota-commands`, roles: ALL, ownedByA: true },
  { method: 'POST', url: `/v1/sims/${simA}/ota-keysets/rotate`, roles: ['operator-admin', 'carrier-ops'], operatorOnly: true },
];

async function call(route: Route, headers: Record<string, string>) {
  const url = typeof route.url === 'string' ? route.url : await route.url();
  const payload = route.payload?.();
  return app.inject({
    method: route.method,
    url,
    headers: { ...headers, ...(route.contentType ? { 'content-type': route.contentType } : {}) },
    ...(payload === undefined ? {} : { payload: payload as string }),
  });
}

t.test('every route is in the matrix', async (t) => {
  const doc = (await app.inject({ method: 'GET', url: '/docs/json' })).json() as { paths: Record<string, Record<string, unknown>> };
  const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`)).filter((r) => r.includes('/v1/'));
  t.equal(documented.length, routes().length, documented.join('\n'));
});

t.test('role x route', async (t) => {
  for (const route of routes()) {
    const label = `${route.method} ${typeof route.url === 'string' ? route.url.replace(/[0-9a-f-]{36}|89\d{17}/g, '{id}') : '/v1/api-keys/{id}/revoke'}`;
    await t.test(label, async (t) => {
      const none = await call(route, {});
      t.equal(none.statusCode, 401, 'no key: 401');
      t.equal(none.json().code, 'UNAUTHENTICATED');
      t.equal((await call(route, { authorization: 'Bearer sck_000000000000_' + 'A'.repeat(43) })).statusCode, 401, 'unknown key: 401');
      t.equal((await call(route, { authorization: 'Basic abc' })).statusCode, 401, 'not a bearer: 401');
      for (const who of everyone()) {
        const res = await call(route, bearer(who.tenant.tokens[who.role]));
        const allowed = route.roles.includes(who.role) && !(route.operatorOnly && who.side !== 'operator');
        const what = `${who.side} ${who.role}: ${res.statusCode} ${res.body.slice(0, 120)}`;
        if (!allowed) {
          t.equal(res.statusCode, 403, what);
          t.equal(res.json().code, 'FORBIDDEN');
          t.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8');
        } else if (route.ownedByA && who.side === 'B') {
          t.equal(res.statusCode, 404, `wrong tenant: ${what}`);
        } else {
          t.ok(res.statusCode < 400 || res.statusCode === 409, what);
        }
      }
    });
  }
});

t.test('a revoked key is refused at once', async (t) => {
  const created = await app.inject({ method: 'POST', url: `/v1/tenants/${cityA.tenant.id}/api-keys`, headers: admin, payload: { role: 'municipal-it', name: 'soon gone' } });
  t.equal(created.statusCode, 201);
  const { key, token } = created.json();
  t.equal((await app.inject({ method: 'GET', url: '/v1/sims', headers: bearer(token) })).statusCode, 200);
  t.equal((await app.inject({ method: 'POST', url: `/v1/api-keys/${key.id}/revoke`, headers: admin })).statusCode, 200);
  const refused = await app.inject({ method: 'GET', url: '/v1/sims', headers: bearer(token) });
  t.equal(refused.statusCode, 401);
  t.equal(refused.json().detail, 'the API key was revoked');
});

t.test('a customer lists only its own SIMs; the operator lists all', async (t) => {
  const a = (await app.inject({ method: 'GET', url: '/v1/sims', headers: bearer(cityA.tokens.auditor) })).json();
  t.same(a.items.map((s: { iccid: string }) => s.iccid), [simA], 'its SIM only (the matrix\'s allocation job was not run)');
  const other = await app.inject({ method: 'GET', url: `/v1/sims?tenantId=${cityB.tenant.id}`, headers: bearer(cityA.tokens.auditor) });
  t.equal(other.statusCode, 404);
  const all = (await app.inject({ method: 'GET', url: '/v1/sims?limit=1000', headers: bearer(h.operator.tokens.auditor) })).json();
  t.ok(all.items.length >= 20);
});
