/**
 * GET /v1/sims/{iccid}/ota-commands over HTTP against the whole stack: OTA commands sent
 * through the backend's gateway to real (simulated) cards over SMPP, shown with their SMS
 * parts, delivery receipts and PoR (TS 102 225 status code and name), newest first, paged;
 * a customer sees only its own SIMs' commands; no key or packet byte is ever returned.
 */
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { createOtaKey, getStatusApdu, readPublicKeyApdu } from '../../sim-applet/index.js';
import { getOtaMessage, OPEN_OTA_STATES } from '../../provisioning-api/db/repositories/ota-messages.js';
import { startStack, type Stack } from '../helpers/stack.js';

let stack: Stack;
let iccids: string[];

t.before(async () => {
  stack = await startStack({ cards: 4, porTimeoutSeconds: 20 });
  await stack.importInventory();
  iccids = (await stack.db.pool.query<{ iccid: string }>(`SELECT iccid FROM sims ORDER BY iccid`)).rows.map((r) => r.iccid);
});

async function until<T>(what: string, check: () => Promise<T | null | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Send through the gateway; resolve once the message is closed and its receipt is in. */
async function sent(...requests: Parameters<NonNullable<Stack['backend']['ota']>['send']>[0]): Promise<string[]> {
  const ids = await stack.backend.ota!.send(requests);
  for (const id of ids) {
    await until(`OTA message ${id}`, async () => {
      const m = await getOtaMessage(stack.db.pool, id);
      if (!m || OPEN_OTA_STATES.includes(m.state)) return false;
      const receipts = await stack.db.pool.query(`SELECT 1 FROM ota_submissions WHERE ota_message_id = $1 AND receipt_stat IS NOT NULL`, [id]);
      return m.state === 'failed' || (receipts.rowCount ?? 0) > 0;
    });
  }
  return ids;
}

t.test('a GET STATUS and its PoR, as the operator sees them', async (t) => {
  const iccid = iccids[0]!;
  const [id] = await sent({ iccid, commands: [getStatusApdu()] });
  const r = await stack.api('GET', `/v1/sims/${iccid}/ota-commands`);
  t.equal(r.status, 200, JSON.stringify(r.body));
  t.equal(r.body.items.length, 1);
  t.equal(r.body.nextCursor, null);
  const c = r.body.items[0];
  t.match(c, {
    id, iccid, state: 'por-received', keysetIndex: 1, counter: 1, spi: /^[0-9a-f]{4}$/, tar: 'bfff01', partCount: 1, deliveredParts: [1],
    attempts: 1, lastError: null, jobId: null,
    por: { status: 0, statusName: 'ok', ccValid: true, executed: 1, sw: '9000' },
  });
  t.ok(c.por.dataLength > 0, 'GET STATUS returned data (its length only is shown)');
  t.equal(c.parts.length, 1);
  t.match(c.parts[0], { part: 1, attempt: 1, smppMessageId: /.+/, receipt: { stat: 'DELIVRD' } });
  for (const at of [c.queuedAt, c.submittedAt, c.deliveredAt, c.porAt, c.finishedAt, c.expiresAt]) t.ok(!Number.isNaN(Date.parse(at)), 'timestamps');
  t.notOk('userData' in c, 'no packet bytes');
  t.notOk('porData' in c.por, 'no response bytes');
  t.same(Object.keys(c.por).sort(), ['ccValid', 'dataLength', 'executed', 'status', 'statusName', 'sw']);
});

t.test('an error PoR shows its TS 102 225 status; an SMSC refusal shows the error', async (t) => {
  const iccid = iccids[1]!;
  // Keys the card does not have: it answers unsecured, RC/CC/DS failed (status 01).
  const wrong = { index: 1, kic: createOtaKey('aes', randomBytes(16)), kid: createOtaKey('aes', randomBytes(16)) };
  const [bad] = await sent({ iccid, commands: [getStatusApdu()], keyset: wrong });
  stack.smsc.setFaults({ refuseRate: 1 });
  let refused: string;
  try {
    refused = (await sent({ iccid, commands: [readPublicKeyApdu(1)] }))[0]!;
  } finally {
    stack.smsc.setFaults({});
  }
  const items = (await stack.api('GET', `/v1/sims/${iccid}/ota-commands`)).body.items;
  t.same(items.map((c: { id: string }) => c.id), [refused!, bad], 'newest first');
  t.match(items[1], { state: 'por-error', por: { status: 1, statusName: 'rc-cc-ds-failed', ccValid: false, executed: null, sw: null, dataLength: 0 } });
  t.match(items[0], { state: 'failed', por: null, parts: [], lastError: /SMPP_COMMAND_STATUS/ });
});

t.test('cursor pagination', async (t) => {
  const iccid = iccids[2]!;
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) ids.push(...(await sent({ iccid, commands: [getStatusApdu()] })));
  const first = await stack.api('GET', `/v1/sims/${iccid}/ota-commands?limit=2`);
  t.same(first.body.items.map((c: { id: string }) => c.id), [ids[2], ids[1]]);
  t.same(first.body.items.map((c: { counter: number }) => c.counter), [3, 2], 'counters follow the keyset');
  t.type(first.body.nextCursor, 'string');
  const second = await stack.api('GET', `/v1/sims/${iccid}/ota-commands?limit=2&cursor=${first.body.nextCursor}`);
  t.same(second.body.items.map((c: { id: string }) => c.id), [ids[0]]);
  t.equal(second.body.nextCursor, null);
  const junk = await stack.api('GET', `/v1/sims/${iccid}/ota-commands?cursor=${Buffer.from('["x"]').toString('base64url')}`);
  t.equal(junk.status, 400);
  t.equal(junk.body.code, 'INVALID_CURSOR');
});

t.test('who may read: operator staff and auditors, a customer for its own SIMs only', async (t) => {
  const iccid = iccids[3]!;
  await sent({ iccid, commands: [getStatusApdu()] });
  const operator = (await stack.db.pool.query<{ id: string }>(`SELECT id FROM tenants WHERE kind = 'operator'`)).rows[0]!.id;
  const key = async (tenant: string, role: string) => (await stack.api('POST', `/v1/tenants/${tenant}/api-keys`, { role, name: role })).body.token as string;
  const cityA = (await stack.api('POST', '/v1/tenants', { name: 'city A' })).body.id as string;
  const cityB = (await stack.api('POST', '/v1/tenants', { name: 'city B' })).body.id as string;
  const allocation = await stack.api('POST', '/v1/sim-allocations', { tenantId: cityA, iccids: [iccid] });
  t.equal(allocation.status, 202);
  await until('the allocation', async () => (await stack.api('GET', `/v1/jobs/${allocation.body.id}`)).body.state === 'succeeded');

  const path = `/v1/sims/${iccid}/ota-commands`;
  for (const [who, token] of [
    ['operator carrier-ops', await key(operator, 'carrier-ops')],
    ['operator auditor', await key(operator, 'auditor')],
    ['city A municipal-it', await key(cityA, 'municipal-it')],
    ['city A auditor', await key(cityA, 'auditor')],
  ] as const) {
    const r = await stack.api('GET', path, undefined, token);
    t.equal(r.status, 200, who);
    t.equal(r.body.items.length, 1, who);
  }
  const other = await stack.api('GET', path, undefined, await key(cityB, 'municipal-it'));
  t.equal(other.status, 404, 'another tenant\'s SIM does not exist for city B');
  t.equal(other.body.code, 'SIM_NOT_FOUND');
  t.equal((await stack.api('GET', `/v1/sims/${iccids[0]}/ota-commands`, undefined, await key(cityA, 'auditor'))).status, 404, 'nor the operator\'s for city A');
  t.equal((await stack.api('GET', '/v1/sims/8999900000000000000/ota-commands')).status, 404, 'no such SIM');
  t.equal((await stack.api('GET', path, undefined, 'sck_000000000000_' + 'A'.repeat(43))).status, 401);
});
