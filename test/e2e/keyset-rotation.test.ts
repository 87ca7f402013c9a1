/**
 * OTA keyset rotation end to end, every part real: the API, pg-boss, PostgreSQL, the OTA
 * gateway over SMPP, the SMSC simulator and the handset fleet with its cards. The database
 * switches to the new keyset only when the card proves it took it (its PoR, or a probe under
 * the new keys after a lost PoR), and otherwise keeps what the card keeps.
 */
import t from 'tap';
import {
  createOtaKey,
  getStatusApdu,
  type OperatorKeyset,
  type OtaAlgorithm,
} from '../../sim-applet/index.js';
import { loadDataKey, openKeysets, parseMasterKeyring } from '../../provisioning-api/index.js';
import { getOtaMessage, OPEN_OTA_STATES, simsForOta, type OtaMessage } from '../../provisioning-api/db/repositories/ota-messages.js';
import { keysetsForOtaMessage, rotationByJob, type KeysetRotation } from '../../provisioning-api/db/repositories/keyset-rotations.js';
import { configureKeysetRotation } from '../../provisioning-api/services/keyset-rotation.js';
import { startStack, type Stack } from '../helpers/stack.js';

// Probes a few seconds apart, short waits: the defaults are minutes.
configureKeysetRotation({ probeRounds: 3, backoffSeconds: [2], waitSliceMs: 2_000, pollMs: 100 });

let stack: Stack;
let sims: Array<{ iccid: string; msisdn: string }>;
let ops: string;
const used = new Set<string>();

t.before(async () => {
  stack = await startStack({ cards: 10, porTimeoutSeconds: 8, smsc: { retry: { initialMs: 100, maxMs: 300 } } });
  await stack.importInventory();
  sims = (await stack.db.pool.query<{ iccid: string; msisdn: string }>(`SELECT iccid, msisdn FROM sims ORDER BY iccid`)).rows;
  const key = await stack.api('POST', `/v1/tenants/${(await operatorTenant()).id}/api-keys`, { role: 'carrier-ops', name: 'ops' });
  ops = key.body.token;
});

async function operatorTenant(): Promise<{ id: string }> {
  return (await stack.db.pool.query<{ id: string }>(`SELECT id FROM tenants WHERE kind = 'operator'`)).rows[0]!;
}

/** A SIM no other test has used. */
function freshSim(): { iccid: string; msisdn: string; digits: string } {
  const s = sims.find((x) => !used.has(x.iccid))!;
  used.add(s.iccid);
  return { ...s, digits: s.msisdn.replace('+', '') };
}

async function until<T>(what: string, check: () => Promise<T | null | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function finishedJob(id: string): Promise<any> {
  return until(`job ${id}`, async () => {
    const j = await stack.api('GET', `/v1/jobs/${id}`);
    return j.body.state === 'succeeded' || j.body.state === 'failed' ? j.body : null;
  });
}

async function closedMessage(id: string): Promise<OtaMessage> {
  return until(`OTA message ${id}`, async () => {
    const m = await getOtaMessage(stack.db.pool, id);
    return m && !OPEN_OTA_STATES.includes(m.state) ? m : null;
  });
}

async function rotation(jobId: string): Promise<KeysetRotation> {
  return (await rotationByJob(stack.db.pool, jobId))!;
}

const keyring = () => parseMasterKeyring(process.env.SIMCHAIN_MASTER_KEY!);

/** The SIM's keyset 1 as the database holds it (hex). */
async function dbKeyset(iccid: string): Promise<{ kic: string; kid: string; kik: string; kicAlg: string; kidAlg: string; kikAlg: string }> {
  const sim = (await simsForOta(stack.db.pool, [iccid]))[0]!;
  const dataKey = await loadDataKey(stack.db.pool, keyring(), sim.dataKeyId);
  return openKeysets(dataKey, iccid, sim.keysets).find((k) => k.index === 1)!;
}

/** The card's keyset 1 (hex) and its lifecycle. */
async function cardKeyset(digits: string): Promise<{ kic: string; kid: string; kik: string; counter: number }> {
  const card = (await stack.fleet.cards.get(digits))!;
  const k = card.memory.state.keysets[0]!;
  return { kic: k.kic.key, kid: k.kid.key, kik: k.kik.key, counter: k.counter };
}

function operatorKeyset(k: { kic: string; kid: string; kicAlg: string; kidAlg: string }): OperatorKeyset {
  return { index: 1, kic: createOtaKey(k.kicAlg as OtaAlgorithm, Buffer.from(k.kic, 'hex')), kid: createOtaKey(k.kidAlg as OtaAlgorithm, Buffer.from(k.kid, 'hex')) };
}

/** GET STATUS through the backend's gateway, secured with the stored keys or `keyset`. */
async function getStatus(iccid: string, keyset?: OperatorKeyset): Promise<OtaMessage> {
  const [id] = await stack.backend.ota!.send([{ iccid, commands: [getStatusApdu()], ...(keyset ? { keyset } : {}) }]);
  return closedMessage(id!);
}

/** The handset loses its next PoR: the card runs the command, its answer never leaves. */
function dropNextPor(digits: string): void {
  const fleet = stack.fleet as unknown as { sendMo(d: string, mo: unknown): void };
  const original = fleet.sendMo;
  fleet.sendMo = function (d: string, mo: unknown) {
    if (d === digits) {
      delete (this as { sendMo?: unknown }).sendMo;
      return;
    }
    original.call(this, d, mo);
  };
}

async function rotate(iccid: string, body?: object, key = ops) {
  return stack.api('POST', `/v1/sims/${iccid}/ota-keysets/rotate`, body, key);
}

t.test('PUT KEY with its PoR: the database switches, and only the new keys work afterwards', async (t) => {
  const sim = freshSim();
  const before = await dbKeyset(sim.iccid);
  const cardBefore = await cardKeyset(sim.digits);
  t.equal(cardBefore.kic, before.kic, 'card and database start with the same keys');

  const accepted = await rotate(sim.iccid, {});
  t.equal(accepted.status, 202, JSON.stringify(accepted.body));
  t.match(accepted.body, { kind: 'sim.rotate-keyset', state: 'queued', input: { iccid: sim.iccid, keysetIndex: 1 } });
  const job = await finishedJob(accepted.body.id);
  t.equal(job.state, 'succeeded', JSON.stringify(job));
  t.match(job.result, { iccid: sim.iccid, keysetIndex: 1, state: 'completed', provenBy: 'por', sw: '9000', probeRounds: 0 });
  t.equal(job.result.otaMessageIds.length, 1, 'one OTA message: PUT KEY');

  const after = await dbKeyset(sim.iccid);
  const card = await cardKeyset(sim.digits);
  t.not(after.kic, before.kic, 'new KIc');
  t.not(after.kid, before.kid, 'new KID');
  t.not(after.kik, before.kik, 'new KIk');
  t.same([after.kicAlg, after.kidAlg, after.kikAlg, after.kic.length, after.kid.length, after.kik.length],
    [before.kicAlg, before.kidAlg, before.kikAlg, before.kic.length, before.kid.length, before.kik.length], 'same algorithms and lengths');
  t.same({ kic: card.kic, kid: card.kid, kik: card.kik }, { kic: after.kic, kid: after.kid, kik: after.kik }, 'the card holds what the database holds');
  t.equal((await rotation(job.id)).state, 'completed');
  const pending = await stack.db.pool.query(`SELECT pending_keysets FROM keyset_rotations WHERE job_id = $1`, [job.id]);
  t.equal(pending.rows[0].pending_keysets, null, 'no copy of the keys left on the rotation');
  for (const hex of [after.kic, after.kid, after.kik]) t.notOk(JSON.stringify(job).includes(hex), 'no key in the job');

  const withNew = await getStatus(sim.iccid);
  t.equal(withNew.state, 'por-received', 'GET STATUS under the stored (new) keys');
  t.equal(withNew.porCcValid, true, 'its PoR verifies');
  const withOld = await getStatus(sim.iccid, operatorKeyset(before));
  t.equal(withOld.state, 'por-error', 'the old keys are refused by the card');
  t.equal(withOld.porStatus, 0x01, 'RC/CC/DS failed');
  t.equal(withOld.porCcValid, false);
  t.ok((await cardKeyset(sim.digits)).counter > cardBefore.counter, 'the keyset counter went on across PUT KEY');

  const listed = await stack.api('GET', `/v1/sims/${sim.iccid}/ota-commands`);
  t.equal(listed.status, 200);
  const putKey = listed.body.items.find((c: { id: string }) => c.id === job.result.otaMessageIds[0]);
  t.match(putKey, { state: 'por-received', jobId: job.id, por: { status: 0, statusName: 'ok', ccValid: true, sw: '9000' } });
});

t.test('a card that refuses PUT KEY changes nothing', async (t) => {
  const sim = freshSim();
  const before = await dbKeyset(sim.iccid);
  // The card was retired behind the operator's back: the applet answers 6985 to PUT KEY.
  const card = (await stack.fleet.cards.get(sim.digits))!;
  card.memory.transaction((draft) => {
    draft.lifecycle = 'terminated';
  });
  stack.fleet.cards.save(sim.digits, card);
  const job = await finishedJob((await rotate(sim.iccid)).body.id);
  t.equal(job.state, 'failed');
  t.equal(job.error.code, 'CARD_REFUSED');
  t.match(job.error.message, /6985/);
  t.match(job.result, { state: 'failed', failureCode: 'CARD_REFUSED', sw: '6985' });
  t.same(await dbKeyset(sim.iccid), before, 'the database keeps its keys');
  t.equal((await cardKeyset(sim.digits)).kic, before.kic, 'so does the card');
  const row = await stack.db.pool.query(`SELECT pending_keysets FROM keyset_rotations WHERE job_id = $1`, [job.id]);
  t.equal(row.rows[0].pending_keysets, null, 'keys the card never took are dropped');
  // The next rotation is allowed (the previous one is closed), and is refused by the same card.
  t.equal((await rotate(sim.iccid)).status, 202);
});

t.test('PoR lost after the card took the keys: the probe under the new keys proves it', async (t) => {
  const sim = freshSim();
  const before = await dbKeyset(sim.iccid);
  dropNextPor(sim.digits);
  const accepted = await rotate(sim.iccid, { keysetIndex: 1 });
  t.equal(accepted.status, 202);
  const job = await finishedJob(accepted.body.id);
  t.equal(job.state, 'succeeded', JSON.stringify(job));
  t.match(job.result, { state: 'completed', provenBy: 'probe', probeRounds: 1 });
  const [putKeyId, probeId] = job.result.otaMessageIds as string[];
  t.equal((await getOtaMessage(stack.db.pool, putKeyId!))!.state, 'expired', 'PUT KEY never got its PoR');
  const probe = (await getOtaMessage(stack.db.pool, probeId!))!;
  t.match(probe, { state: 'por-received', porCcValid: true, keysetIndex: 1 }, 'GET STATUS under the new keys verified');
  const after = await dbKeyset(sim.iccid);
  t.not(after.kic, before.kic);
  t.same((await cardKeyset(sim.digits)).kic, after.kic, 'database and card agree');
  t.equal((await getStatus(sim.iccid)).porCcValid, true, 'and the next command goes through');
});

t.test('PUT KEY never reached the card: the probe under the old keys proves the card kept them', async (t) => {
  const sim = freshSim();
  const before = await dbKeyset(sim.iccid);
  // The SMSC refuses everything for a round: PUT KEY and both probes fail.
  stack.smsc.setFaults({ refuseRate: 1 });
  const accepted = await rotate(sim.iccid);
  t.equal(accepted.status, 202);
  try {
    await until('the first round of probes', async () => (await rotation(accepted.body.id)).state === 'probe-backoff');
  } finally {
    stack.smsc.setFaults({});
  }
  const job = await finishedJob(accepted.body.id);
  t.equal(job.state, 'failed');
  t.equal(job.error.code, 'PUT_KEY_NOT_TAKEN');
  t.match(job.result, { state: 'failed', probeRounds: 2 });
  const ids = job.result.otaMessageIds as string[];
  t.equal(ids.length, 5, 'PUT KEY, then two rounds of probes (new, old)');
  const states = await Promise.all(ids.map(async (id) => (await getOtaMessage(stack.db.pool, id))!));
  t.same(states.slice(0, 3).map((m) => m.state), ['failed', 'failed', 'failed'], 'refused by the SMSC');
  t.match(states[3], { state: 'por-error', porStatus: 1, porCcValid: false }, 'the card refuses the new keys');
  t.match(states[4], { state: 'por-received', porCcValid: true }, 'and answers under the old ones');
  t.same(await dbKeyset(sim.iccid), before, 'the database keeps the old keyset');
  t.equal((await cardKeyset(sim.digits)).kic, before.kic, 'as the card does');
  t.equal((await getStatus(sim.iccid)).porCcValid, true, 'commands go on under the old keys');
});

t.test('nothing answers: a few rounds of probes, then PROBE_EXHAUSTED with the old keys in place', async (t) => {
  const sim = freshSim();
  const before = await dbKeyset(sim.iccid);
  stack.smsc.setFaults({ refuseRate: 1 });
  let job: any;
  try {
    job = await finishedJob((await rotate(sim.iccid)).body.id);
  } finally {
    stack.smsc.setFaults({});
  }
  t.equal(job.state, 'failed');
  t.equal(job.error.code, 'PROBE_EXHAUSTED');
  t.match(job.result, { probeRounds: 3 });
  t.equal(job.result.otaMessageIds.length, 7);
  t.same(await dbKeyset(sim.iccid), before, 'the old keyset stays');
  const row = await stack.db.pool.query(`SELECT pending_keysets FROM keyset_rotations WHERE job_id = $1`, [job.id]);
  t.ok(row.rows[0].pending_keysets, 'the new keyset stays sealed on the rotation: the card might hold it');

  // The card kept its old keys. The next rotation finds that out first, then rotates afresh.
  const again = await finishedJob((await rotate(sim.iccid)).body.id);
  t.equal(again.state, 'succeeded', JSON.stringify(again));
  t.match(again.result, { state: 'completed', provenBy: 'por', recovers: job.result.rotationId });
  const ids = again.result.otaMessageIds as string[];
  t.equal(ids.length, 3, 'a probe under the exhausted rotation\'s keys, one under the stored keys, then PUT KEY');
  const messages = await Promise.all(ids.map(async (id) => (await getOtaMessage(stack.db.pool, id))!));
  t.match(messages[0], { state: 'por-error', porCcValid: false }, 'the card refuses the keys it never took');
  t.match(messages[1], { state: 'por-received', porCcValid: true }, 'and answers under the stored ones');
  t.match(messages[2], { state: 'por-received', porStatus: 0 }, 'PUT KEY of fresh keys, with its PoR');
  const after = await dbKeyset(sim.iccid);
  t.not(after.kic, before.kic, 'rotated');
  t.same((await cardKeyset(sim.digits)).kic, after.kic, 'database and card agree');
  t.equal((await getStatus(sim.iccid)).porCcValid, true, 'and commands go through');
});

t.test('PROBE_EXHAUSTED after the card took the keys: the next rotation recovers them by probe', async (t) => {
  const sim = freshSim();
  const before = await dbKeyset(sim.iccid);
  // The card takes PUT KEY, its PoR is lost, and then the network refuses every probe.
  dropNextPor(sim.digits);
  const first = await rotate(sim.iccid);
  t.equal(first.status, 202);
  let exhausted: any;
  try {
    await until('the card to hold new keys', async () => (await cardKeyset(sim.digits)).kic !== before.kic);
    stack.smsc.setFaults({ refuseRate: 1 });
    exhausted = await finishedJob(first.body.id);
  } finally {
    stack.smsc.setFaults({});
  }
  t.equal(exhausted.error?.code, 'PROBE_EXHAUSTED', JSON.stringify(exhausted));
  t.same(await dbKeyset(sim.iccid), before, 'the database still has the old keys');
  t.not((await cardKeyset(sim.digits)).kic, before.kic, 'the card has the new ones: out of step');
  t.equal((await getStatus(sim.iccid)).porCcValid, false, 'so commands under the stored keys fail');

  const accepted = await rotate(sim.iccid);
  t.equal(accepted.status, 202);
  const job = await finishedJob(accepted.body.id);
  t.equal(job.state, 'succeeded', JSON.stringify(job));
  t.match(job.result, { state: 'completed', provenBy: 'probe', recovers: exhausted.result.rotationId, probeRounds: 1 });
  t.equal(job.result.otaMessageIds.length, 1, 'one probe under the recovered keys, no PUT KEY');
  const after = await dbKeyset(sim.iccid);
  t.same((await cardKeyset(sim.digits)).kic, after.kic, 'database and card agree again');
  t.not(after.kic, before.kic);
  t.equal((await getStatus(sim.iccid)).porCcValid, true, 'and commands go through');
  // Recovered once: the rotation after that is an ordinary one.
  const ordinary = await finishedJob((await rotate(sim.iccid)).body.id);
  t.match(ordinary.result, { state: 'completed', provenBy: 'por', recovers: null });
});

t.test('the probe\'s PoR reaches a process that did not send it (backend restarted): its keys come from the rotation row', async (t) => {
  const sim = freshSim();
  const before = await dbKeyset(sim.iccid);
  dropNextPor(sim.digits);
  const accepted = await rotate(sim.iccid);
  const jobId = accepted.body.id as string;
  // PUT KEY reaches the card (its receipt comes after the card ran it); then the handset goes away.
  const putKeyId = await until('PUT KEY sent', async () => (await rotation(jobId)).putKeyMessageId);
  await until('PUT KEY delivered', async () => (await getOtaMessage(stack.db.pool, putKeyId))!.state === 'delivered');
  stack.fleet.setOnline(sim.msisdn, false);
  const probeId = await until('the probe under the new keys', async () => (await rotation(jobId)).probeNewMessageId);
  const sealed = await keysetsForOtaMessage(stack.db.pool, sim.iccid, probeId);
  const current = (await simsForOta(stack.db.pool, [sim.iccid]))[0]!;
  t.not(sealed!.keysets.toString('hex'), current.keysets.toString('hex'), 'the sender\'s lookup gives the pending keys for the probe');
  await stack.restartBackend();
  stack.fleet.setOnline(sim.msisdn, true);
  const job = await finishedJob(jobId);
  t.equal(job.state, 'succeeded', JSON.stringify(job));
  t.match(job.result, { provenBy: 'probe' });
  t.match((await getOtaMessage(stack.db.pool, probeId))!, { state: 'por-received', porCcValid: true }, 'verified by the new process');
  const after = await dbKeyset(sim.iccid);
  t.not(after.kic, before.kic);
  t.equal((await cardKeyset(sim.digits)).kic, after.kic, 'database and card agree');
});

t.test('refusals: roles, tenants, states, one rotation at a time', async (t) => {
  const sim = freshSim();
  const tenant = (await operatorTenant()).id;
  const auditor = (await stack.api('POST', `/v1/tenants/${tenant}/api-keys`, { role: 'auditor', name: 'audit' })).body.token;
  const city = (await stack.api('POST', '/v1/tenants', { name: 'city' })).body.id;
  const cityIt = (await stack.api('POST', `/v1/tenants/${city}/api-keys`, { role: 'municipal-it', name: 'it' })).body.token;
  t.equal((await rotate(sim.iccid, undefined, auditor)).status, 403, 'auditor: 403');
  const refused = await rotate(sim.iccid, undefined, cityIt);
  t.equal(refused.status, 403, 'a customer: 403');
  t.equal(refused.body.code, 'FORBIDDEN');
  t.equal((await rotate('8999900000000000000', undefined, stack.adminKey)).status, 404, 'no such SIM: 404');
  const noKeyset = await rotate(sim.iccid, { keysetIndex: 9 });
  t.equal(noKeyset.status, 422);
  t.match(noKeyset.body, { code: 'KEYSET_NOT_FOUND', keysetIndexes: [1] });
  t.equal((await rotate(sim.iccid, { keysetIndex: 0 })).status, 400, 'index out of range: 400');
  t.equal((await rotate(sim.iccid, { kic: '00' })).status, 400, 'keys are never given by the caller');

  // A rotation held open: the handset is away, PUT KEY waits at the SMSC.
  stack.fleet.setOnline(sim.msisdn, false);
  const first = await rotate(sim.iccid);
  t.equal(first.status, 202);
  const second = await rotate(sim.iccid);
  t.equal(second.status, 409);
  t.match(second.body, { code: 'ROTATION_OPEN', jobId: first.body.id, type: 'urn:simchain:problem:ROTATION_OPEN' });
  stack.fleet.setOnline(sim.msisdn, true);
  t.equal((await finishedJob(first.body.id)).state, 'succeeded', 'the held PUT KEY goes through once the handset is back');

  const other = freshSim();
  await stack.db.pool.query(`UPDATE sims SET state = 'terminated' WHERE iccid = $1`, [other.iccid]);
  const terminated = await rotate(other.iccid);
  t.equal(terminated.status, 409);
  t.match(terminated.body, { code: 'ILLEGAL_TRANSITION', state: 'terminated' });
  await stack.db.pool.query(`UPDATE sims SET state = 'provisioning' WHERE iccid = $1`, [other.iccid]);
  t.equal((await rotate(other.iccid)).body.code, 'ILLEGAL_TRANSITION', 'not while provisioning');
});
