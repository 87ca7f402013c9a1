/**
 * The lifecycle through the API, with the job workers running: 202 with a job, the pending
 * action visible meanwhile, 409 with the current state for what the table forbids; allocation
 * as a bulk job. These SIMs have no device (never provisioned), so nothing on a card or on
 * chain changes and the job applies the state at once; a SIM bound to a device needs the
 * SMSC and the chain (test/e2e/lifecycle-on-card-and-chain.test.ts), and a server without
 * them refuses its action.
 */
import t from 'tap';
import { outboxForJob, setSimState, withTransaction } from '../../provisioning-api/index.js';
import { bearer, seedSims, testApp } from '../helpers/app.js';

let h: Awaited<ReturnType<typeof testApp>>;
let iccids: string[];
let importId: string;
t.before(async () => {
  h = await testApp({ workers: true });
  ({ importId, iccids } = await seedSims(h.services, h.operator.tenant.id, 30));
  // The provisioning flow (its own issue) takes SIMs inventory → provisioning → active.
  await withTransaction(h.db.pool, async (c) => {
    for (const iccid of iccids.slice(0, 10)) {
      await setSimState(c, iccid, 'provision', 'provisioning');
      await setSimState(c, iccid, 'activate', 'active');
    }
  });
});

const post = (url: string, token: string | undefined, payload?: object) =>
  h.app.inject({ method: 'POST', url, headers: bearer(token), ...(payload ? { payload } : {}) });
const get = (url: string, token: string | undefined) => h.app.inject({ method: 'GET', url, headers: bearer(token) });

t.test('suspend, resume, terminate', async (t) => {
  const ops = h.operator.tokens['carrier-ops'];
  const iccid = iccids[0]!;
  const accepted = await post(`/v1/sims/${iccid}/suspend`, ops);
  t.equal(accepted.statusCode, 202);
  t.equal(accepted.headers.location, `/v1/jobs/${accepted.json().id}`);
  t.match(accepted.json(), { kind: 'sim.suspend', state: 'queued', input: { iccid, action: 'suspend' } });
  const job = await h.waitForJob(accepted.json().id);
  t.equal(job.state, 'succeeded');
  t.match(job.result, { iccid, from: 'active', to: 'suspended', stateChanged: true, device: null, outbox: [] });
  const sim = (await get(`/v1/sims/${iccid}`, ops)).json();
  t.match(sim, { state: 'suspended', pendingAction: null });
  t.notOk('keysets' in sim, 'keys are never returned');
  t.same(await outboxForJob(h.db.pool, job.id), [], 'no device: nothing to send to a card or the chain');

  const again = await post(`/v1/sims/${iccid}/suspend`, ops);
  t.equal(again.statusCode, 409);
  t.match(again.json(), { code: 'ILLEGAL_TRANSITION', state: 'suspended', allowedActions: ['resume', 'terminate'], type: 'urn:simchain:problem:ILLEGAL_TRANSITION' });

  const resumed = await h.waitForJob((await post(`/v1/sims/${iccid}/resume`, ops)).json().id);
  t.match(resumed.result, { from: 'suspended', to: 'active' });
  const terminated = await h.waitForJob((await post(`/v1/sims/${iccid}/terminate`, ops)).json().id);
  t.match(terminated.result, { from: 'active', to: 'terminated' });
  for (const action of ['suspend', 'resume', 'terminate']) {
    const r = await post(`/v1/sims/${iccid}/${action}`, ops);
    t.equal(r.statusCode, 409, `terminated is final (${action})`);
    t.equal(r.json().state, 'terminated');
  }
});

t.test('one action at a time: a SIM carrying one refuses the next', async (t) => {
  const ops = h.operator.tokens['carrier-ops'];
  const iccid = iccids[9]!;
  // A job in flight, as a worker would see it (the real one is too quick to catch).
  const inFlight = (await h.db.pool.query<{ id: string }>(
    `INSERT INTO jobs (tenant_id, kind, input) VALUES ($1, 'sim.suspend', $2) RETURNING id`, [h.operator.tenant.id, { iccid, action: 'suspend' }])).rows[0]!.id;
  await h.db.pool.query(`UPDATE sims SET pending_action = 'suspend', pending_job_id = $2 WHERE iccid = $1`, [iccid, inFlight]);
  const sim = (await get(`/v1/sims/${iccid}`, ops)).json();
  t.same(sim.pendingAction, { action: 'suspend', jobId: inFlight }, 'the transitional state is visible');
  const refused = await post(`/v1/sims/${iccid}/terminate`, ops);
  t.equal(refused.statusCode, 409);
  t.match(refused.json(), { code: 'ACTION_PENDING', state: 'active', pendingAction: 'suspend', jobId: inFlight });
});

t.test('a SIM bound to a device on a server with neither SMSC nor chain: the action fails, the SIM stays', async (t) => {
  const ops = h.operator.tokens['carrier-ops'];
  const iccid = iccids[8]!;
  const device = '0x' + 'ab'.repeat(20);
  await withTransaction(h.db.pool, async (c) => {
    const batch = (await c.query<{ id: string }>(
      `INSERT INTO provisioning_batches (id, tenant_id, selector, state, sim_count, deadline_at, batch_ref)
       VALUES (gen_random_uuid(), $1, '{}', 'completed', 1, now(), '0x' || repeat('0', 63) || '1') RETURNING id`, [h.operator.tenant.id])).rows[0]!.id;
    await c.query(
      `INSERT INTO devices (address, iccid, tenant_id, batch_id, public_key, curve, key_slot, salt, imsi_commitment, leaf_index, proof)
       VALUES ($1, $2, $3, $4, '\\x04', 'secp256k1', 1, '\\x00', '\\x00', 0, '\\x')`, [device, iccid, h.operator.tenant.id, batch]);
  });
  const job = await h.waitForJob((await post(`/v1/sims/${iccid}/suspend`, ops)).json().id);
  t.equal(job.state, 'failed');
  t.equal(job.error?.code, 'EFFECTS_UNAVAILABLE');
  t.match(job.error?.message, /bound to device .*neither/);
  t.match((await get(`/v1/sims/${iccid}`, ops)).json(), { state: 'active', pendingAction: null }, 'state unchanged, the SIM takes requests again');
  t.same(await outboxForJob(h.db.pool, job.id), [], 'nothing of the attempt stays');
  t.equal((await h.db.pool.query('SELECT 1 FROM sim_lifecycle_effects WHERE job_id = $1', [job.id])).rowCount, 0);
});

t.test('a card in stock cannot be suspended; terminating it sends nothing', async (t) => {
  const ops = h.operator.tokens['operator-admin'];
  const r = await post(`/v1/sims/${iccids[20]}/suspend`, ops);
  t.equal(r.statusCode, 409);
  t.match(r.json(), { code: 'ILLEGAL_TRANSITION', state: 'inventory' });
  const job = await h.waitForJob((await post(`/v1/sims/${iccids[20]}/terminate`, ops)).json().id);
  t.match(job.result, { from: 'inventory', to: 'terminated', stateChanged: true, device: null, outbox: [] });
  t.equal((await post(`/v1/sims/8999900000999999990/suspend`, ops)).json().code, 'SIM_NOT_FOUND');
  const bad = await post(`/v1/sims/12345/suspend`, ops);
  t.equal(bad.statusCode, 400);
  t.equal(bad.json().code, 'VALIDATION_FAILED');
});

t.test('allocation to a city, and the city acting on its own SIMs', async (t) => {
  const city = await h.createCustomer('Lyon');
  const other = await h.createCustomer('Porto');
  const admin = h.operator.tokens['operator-admin'];
  const job = await h.waitForJob((await post('/v1/sim-allocations', admin, { tenantId: city.tenant.id, range: { from: iccids[1]!, to: iccids[5]! } })).json().id);
  t.match(job.result, { allocated: 5, conflicts: 0, movedNow: 5 });
  const rerun = await h.waitForJob((await post('/v1/sim-allocations', admin, { tenantId: city.tenant.id, range: { from: iccids[1]!, to: iccids[5]! } })).json().id);
  t.match(rerun.result, { allocated: 5, movedNow: 0 }, 'allocating again changes nothing');
  const conflict = await h.waitForJob((await post('/v1/sim-allocations', admin, { tenantId: other.tenant.id, iccids: [iccids[1]!, iccids[6]!, '8999900000999999990'] })).json().id);
  t.match(conflict.result, { allocated: 1, conflicts: 1, notFound: 1 }, 'another customer\'s SIM is a conflict');
  const byImport = await h.waitForJob((await post('/v1/sim-allocations', admin, { tenantId: h.operator.tenant.id, importId })).json().id);
  t.match(byImport.result, { allocated: 30, conflicts: 0 }, 'the operator takes every SIM back');
  await h.waitForJob((await post('/v1/sim-allocations', admin, { tenantId: city.tenant.id, iccids: [iccids[2]!] })).json().id);

  const it = city.tokens['municipal-it'];
  const suspended = await post(`/v1/sims/${iccids[2]}/suspend`, it);
  t.equal(suspended.statusCode, 202, 'a city suspends its own SIM');
  t.equal((await get(`/v1/jobs/${suspended.json().id}`, it)).statusCode, 200, 'and sees its job');
  t.equal((await get(`/v1/jobs/${suspended.json().id}`, other.tokens['municipal-it'])).statusCode, 404, 'another city does not');
  t.equal((await post(`/v1/sims/${iccids[3]}/suspend`, it)).statusCode, 404, 'not a SIM of its own');
  t.equal((await post(`/v1/sims/${iccids[2]}/terminate`, it)).statusCode, 403, 'terminate is the operator\'s');
  const neither = await post('/v1/sim-allocations', admin, { tenantId: city.tenant.id });
  t.equal(neither.statusCode, 400);
  const ghost = await post('/v1/sim-allocations', admin, { tenantId: '00000000-0000-4000-8000-000000000000', iccids: [iccids[0]!] });
  t.equal(ghost.json().code, 'TENANT_NOT_FOUND');
});

t.test('listing: filters and cursor pagination', async (t) => {
  const token = h.operator.tokens.auditor;
  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const res: { items: { iccid: string }[]; nextCursor: string | null } =
      (await get(`/v1/sims?limit=7&importId=${importId}${cursor ? `&cursor=${cursor}` : ''}`, token)).json();
    seen.push(...res.items.map((s) => s.iccid));
    cursor = res.nextCursor;
  } while (cursor);
  t.same(seen, [...iccids].sort(), 'every SIM once, in ICCID order');
  const active = (await get('/v1/sims?state=active&limit=100', token)).json();
  t.ok(active.items.length > 0 && active.items.every((s: { state: string }) => s.state === 'active'));
  const bad = await get('/v1/sims?cursor=nonsense', token);
  t.equal(bad.statusCode, 400);
  t.equal(bad.json().code, 'INVALID_CURSOR');
  t.equal((await get('/v1/sims?state=sleeping', token)).json().code, 'VALIDATION_FAILED');
});
