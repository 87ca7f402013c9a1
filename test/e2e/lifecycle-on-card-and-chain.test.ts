/**
 * Issue 7, suspend / resume / terminate of provisioned SIMs with every part real: the card's
 * LOCK / UNLOCK / TERMINATE goes over OTA through the SMSC simulator to the card in the fleet,
 * DeviceRegistry.setStatus through the chain outbox to anvil, and the SIM's state changes only
 * once both are confirmed. Checked from outside: the card's lifecycle and its refusal to sign,
 * the registry's statusOf, the job and the outbox rows the API shows.
 */
import t from 'tap';
import { DEVICE_STATUSES, DeviceRegistry__factory, type DeviceStatus } from '../../contracts/index.js';
import { getStatusApdu, lockApdu, parseStatus, signReadingApdu, storeDataApdu, type Lifecycle, type Uicc } from '../../sim-applet/index.js';
import { registryCalls } from '../../provisioning-api/chain/index.js';
import { plain } from '../helpers/applet.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { startSmsc } from '../smpp/helpers.js';

const CARDS = 5;

async function until<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs = 90_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Provisioned {
  iccid: string;
  msisdn: string;
  address: string;
}

let stack: Stack;
let sims: Provisioned[];

t.before(async () => {
  stack = await startStack({ cards: CARDS, porTimeoutSeconds: 6 });
  await stack.importInventory();
  const iccids = (await stack.db.pool.query<{ iccid: string }>('SELECT iccid FROM sims ORDER BY iccid')).rows.map((r) => r.iccid);
  const created = await stack.api('POST', '/v1/provisioning-batches', { iccids });
  if (created.status !== 202) throw new Error(`provisioning: ${created.status} ${JSON.stringify(created.body)}`);
  const batch = await until('the provisioning batch', async () => {
    const b = (await stack.api('GET', `/v1/provisioning-batches/${created.body.id}`)).body;
    return b.state === 'completed' || b.state === 'failed' ? b : null;
  }, 180_000);
  if (batch.state !== 'completed') throw new Error(`provisioning failed: ${JSON.stringify(batch)}`);
  sims = (await stack.db.pool.query<Provisioned>(
    `SELECT s.iccid, s.msisdn, d.address FROM sims s JOIN devices d USING (iccid) WHERE s.state = 'active' ORDER BY s.iccid`)).rows;
  if (sims.length !== CARDS) throw new Error(`${sims.length} of ${CARDS} SIMs provisioned`);
});

const registry = () => DeviceRegistry__factory.connect(stack.backend.chain!.registry, stack.backend.chain!.connection.provider);
const statusOnChain = async (address: string): Promise<DeviceStatus> => DEVICE_STATUSES[Number(await registry().statusOf(address))]!;
const cardOf = async (sim: Provisioned): Promise<Uicc> => (await stack.fleet.cards.get(sim.msisdn.replace('+', '')))!;
const lifecycleOf = async (sim: Provisioned): Promise<Lifecycle> => parseStatus(plain(await cardOf(sim), getStatusApdu()).data).lifecycle;
const reading = signReadingApdu(1, { observedAt: 1n, metric: new Uint8Array(32), value: 21n, payloadHash: new Uint8Array(32) });
/** What the firmware gets when it asks the card to sign a reading. */
const signSw = async (sim: Provisioned): Promise<number> => plain(await cardOf(sim), reading).sw;
const simOf = async (sim: Provisioned) => (await stack.api('GET', `/v1/sims/${sim.iccid}`)).body;

async function request(sim: Provisioned, action: string): Promise<string> {
  const r = await stack.api('POST', `/v1/sims/${sim.iccid}/${action}`);
  if (r.status !== 202) throw new Error(`${action}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.id as string;
}

async function finished(jobId: string, timeoutMs = 90_000): Promise<any> {
  return until(`job ${jobId}`, async () => {
    const j = (await stack.api('GET', `/v1/jobs/${jobId}`)).body;
    return j.state === 'succeeded' || j.state === 'failed' ? j : null;
  }, timeoutMs);
}

async function outboxOf(jobId: string): Promise<Array<{ kind: string; state: string; payload: any; result: any }>> {
  return (await stack.db.pool.query('SELECT kind, state, payload, result FROM outbox WHERE job_id = $1 ORDER BY id', [jobId])).rows;
}

t.test('suspend, resume, terminate: the card and the chain first, then the SIM', async (t) => {
  const sim = sims[0]!;
  // SIGN READING needs the reading contract in the card's identity (not part of provisioning).
  const [pushed] = await stack.backend.ota!.send([{ iccid: sim.iccid, commands: [storeDataApdu({ readingContract: new Uint8Array(20).fill(0x22) })] }]);
  await until('the reading contract on the card', async () =>
    (await stack.db.pool.query(`SELECT 1 FROM ota_messages WHERE id = $1 AND state = 'por-received'`, [pushed])).rowCount === 1);
  t.equal(await lifecycleOf(sim), 'operational', 'a provisioned card is operational');
  t.equal(await signSw(sim), 0x9000, 'and signs');
  t.equal(await statusOnChain(sim.address), 'Active');

  // The handset is away: the chain confirms, the card cannot; the SIM must not say suspended.
  stack.fleet.setOnline(sim.msisdn, false);
  const suspend = await request(sim, 'suspend');
  t.match(await simOf(sim), { state: 'active', pendingAction: { action: 'suspend', jobId: suspend } }, 'the transitional state is visible');
  await until('the chain side confirmed', async () => (await stack.api('GET', `/v1/jobs/${suspend}`)).body.result?.chain?.state === 'confirmed');
  t.equal(await statusOnChain(sim.address), 'Suspended', 'the registry already says Suspended');
  const meanwhile = (await stack.api('GET', `/v1/jobs/${suspend}`)).body;
  t.match(meanwhile, { state: 'running', result: { card: { state: 'pending', instruction: 'LOCK' }, chain: { state: 'confirmed' }, stateChanged: false } });
  t.match(await simOf(sim), { state: 'active', pendingAction: { action: 'suspend' } }, 'no confirmation from the card: the SIM is still active');
  t.equal(await lifecycleOf(sim), 'operational');
  t.equal((await stack.api('POST', `/v1/sims/${sim.iccid}/terminate`)).body.code, 'ACTION_PENDING', 'one action at a time');

  stack.fleet.setOnline(sim.msisdn, true);
  const suspended = await finished(suspend);
  t.equal(suspended.state, 'succeeded', JSON.stringify(suspended.error));
  t.match(suspended.result, {
    iccid: sim.iccid, device: sim.address, from: 'active', to: 'suspended', stateChanged: true,
    card: { state: 'confirmed', instruction: 'LOCK', how: /LOCK answered 9000|GET STATUS: the card is locked/ },
    chain: { state: 'confirmed', status: 'Suspended', txHash: /^0x[0-9a-f]{64}$/ },
  });
  t.match(await simOf(sim), { state: 'suspended', pendingAction: null });
  t.equal(await lifecycleOf(sim), 'locked', 'the card is locked');
  t.equal(await signSw(sim), 0x6985, 'and refuses to sign');
  t.equal(await statusOnChain(sim.address), 'Suspended');
  const outbox = await outboxOf(suspend);
  t.same(outbox.map((m) => [m.kind, m.state]), [['chain.tx', 'confirmed'], ['ota.command', 'por-received']], 'the outbox rows show what left and how it ended');
  t.match(outbox[1]!.payload, { instruction: 'LOCK', purpose: 'command', iccid: sim.iccid });
  t.match(outbox[0]!.result, { txHash: /^0x[0-9a-f]{64}$/ });
  t.same(suspended.result.outbox.length, 2, 'the job lists them');
  await until('the indexer', async () =>
    (await stack.db.pool.query(`SELECT 1 FROM chain_device_status WHERE device = $1 AND status = 'Suspended'`, [sim.address])).rowCount === 1);

  const resumed = await finished(await request(sim, 'resume'));
  t.equal(resumed.state, 'succeeded', JSON.stringify(resumed.error));
  t.match(resumed.result, { from: 'suspended', to: 'active', card: { state: 'confirmed', instruction: 'UNLOCK' }, chain: { state: 'confirmed', status: 'Active' } });
  t.match(await simOf(sim), { state: 'active', pendingAction: null });
  t.equal(await lifecycleOf(sim), 'operational');
  t.equal(await signSw(sim), 0x9000, 'signs again');
  t.equal(await statusOnChain(sim.address), 'Active');

  const terminated = await finished(await request(sim, 'terminate'));
  t.equal(terminated.state, 'succeeded', JSON.stringify(terminated.error));
  t.match(terminated.result, { to: 'terminated', card: { state: 'confirmed', instruction: 'TERMINATE' }, chain: { state: 'confirmed', status: 'Revoked' } });
  t.match(await simOf(sim), { state: 'terminated', pendingAction: null });
  t.equal(await lifecycleOf(sim), 'terminated');
  t.equal(await signSw(sim), 0x6985);
  t.equal(await statusOnChain(sim.address), 'Revoked');
});

t.test('a card that already took the instruction (its PoR lost) is confirmed by GET STATUS', async (t) => {
  const sim = sims[1]!;
  // The LOCK arrives on the card, but its PoR never reaches the job: the same as a first
  // attempt whose PoR was lost. The job's LOCK then gets 6985, and GET STATUS tells why.
  const [id] = await stack.backend.ota!.send([{ iccid: sim.iccid, commands: [lockApdu()] }]);
  await until('the out-of-band LOCK', async () =>
    (await stack.db.pool.query(`SELECT 1 FROM ota_messages WHERE id = $1 AND state = 'por-received'`, [id])).rowCount === 1);
  t.equal(await lifecycleOf(sim), 'locked');
  const job = await finished(await request(sim, 'suspend'));
  t.equal(job.state, 'succeeded', JSON.stringify(job.error));
  t.match(job.result, { card: { state: 'confirmed', how: /GET STATUS: the card is locked/, sends: 2 }, chain: { state: 'confirmed' } });
  t.match(await simOf(sim), { state: 'suspended', pendingAction: null });
  const outbox = await outboxOf(job.id);
  t.same(outbox.filter((m) => m.kind === 'ota.command').map((m) => [m.payload.instruction, m.payload.purpose, m.state]),
    [['LOCK', 'command', 'por-received'], ['GET STATUS', 'probe-refused', 'por-received']]);
});

t.test('a card that refuses: the job fails with the reason, the SIM keeps its state, the chain is put back', async (t) => {
  const sim = sims[2]!;
  // The card no longer has the keys the operator holds: it cannot check the packet's CC.
  const card = await cardOf(sim);
  card.memory.transaction((draft) => {
    draft.keysets[0]!.kid = { ...draft.keysets[0]!.kid, key: 'ff'.repeat(draft.keysets[0]!.kid.key.length / 2) };
  });
  const job = await finished(await request(sim, 'suspend'));
  t.equal(job.state, 'failed');
  t.equal(job.error.code, 'CARD_REFUSED');
  t.match(job.error.message, /PoR status 0x01 \(rc-cc-ds-failed\)/);
  t.match(job.result, {
    stateChanged: false, phase: 'done',
    failure: { code: 'CARD_REFUSED', card: { state: 'refused' }, chain: { state: 'confirmed', status: 'Suspended' } },
    card: { state: 'untouched' },
    chain: { state: 'confirmed', status: 'Active', compensation: true },
  });
  t.match(await simOf(sim), { state: 'active', pendingAction: null }, 'the SIM keeps its state and takes requests again');
  t.equal(await statusOnChain(sim.address), 'Active', 'the registry was put back');
  t.equal(await lifecycleOf(sim), 'operational');
  const chainRows = (await outboxOf(job.id)).filter((m) => m.kind === 'chain.tx');
  t.same(chainRows.map((m) => [m.payload.status, m.payload.compensation ?? false, m.state]), [['suspended', false, 'confirmed'], ['active', true, 'confirmed']]);
  const events = (await stack.db.pool.query<{ status: string }>(
    `SELECT event->>'status' AS status FROM chain_registry_events WHERE name = 'DeviceStatusChanged' AND subject = $1 ORDER BY block_number, log_index`, [sim.address]));
  t.ok(events.rowCount! <= 2, 'at most the change and its undo on chain');
});

t.test('the SMSC down delays the change but does not lose it', async (t) => {
  const sim = sims[3]!;
  await stack.smsc.stop();
  const jobId = await request(sim, 'suspend');
  await new Promise((r) => setTimeout(r, 3_000));
  t.match(await simOf(sim), { state: 'active', pendingAction: { action: 'suspend', jobId } }, 'nothing confirmed while the SMSC is away');
  t.equal((await stack.api('GET', `/v1/jobs/${jobId}`)).body.state, 'running');
  t.equal(await lifecycleOf(sim), 'operational');

  await startSmsc({ port: stack.smscPort });
  const job = await finished(jobId, 120_000);
  t.equal(job.state, 'succeeded', JSON.stringify(job.error));
  t.match(await simOf(sim), { state: 'suspended', pendingAction: null });
  t.equal(await lifecycleOf(sim), 'locked');
  t.equal(await signSw(sim), 0x6985);
  t.equal(await statusOnChain(sim.address), 'Suspended');
});

t.test('a chain that refuses: the card is put back, the job fails with the revert', async (t) => {
  const sim = sims[4]!;
  // Revoked on chain behind the backend's back: DeviceRegistry refuses any other status now.
  const chain = stack.backend.chain!;
  await chain.signer.outbox.submit('test:revoke-behind-the-back', registryCalls.setStatus(chain.registry, sim.address, 'Revoked'));
  const job = await finished(await request(sim, 'suspend'));
  t.equal(job.state, 'failed');
  t.equal(job.error.code, 'CHAIN_FAILED');
  t.match(job.error.message, /setStatus\(Suspended\) failed: DeviceIsRevoked/);
  t.match(job.result, {
    stateChanged: false,
    failure: { card: { state: 'confirmed', instruction: 'LOCK' }, chain: { state: 'failed' } },
    card: { state: 'confirmed', instruction: 'UNLOCK', compensation: true },
    chain: { state: 'untouched' },
  });
  t.match(await simOf(sim), { state: 'active', pendingAction: null });
  t.equal(await lifecycleOf(sim), 'operational', 'the card was unlocked again');
  t.same((await outboxOf(job.id)).filter((m) => m.kind === 'ota.command').map((m) => [m.payload.instruction, m.state]),
    [['LOCK', 'por-received'], ['UNLOCK', 'por-received']]);

  // Terminate is final on both sides: the revoked registry counts as done.
  const terminated = await finished(await request(sim, 'terminate'));
  t.equal(terminated.state, 'succeeded', JSON.stringify(terminated.error));
  t.match(terminated.result, { chain: { state: 'confirmed', how: /already was Revoked/ }, card: { state: 'confirmed' } });
  t.equal(await lifecycleOf(sim), 'terminated');
});
