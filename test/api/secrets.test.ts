/**
 * Secrets never leave: API key tokens appear once (in the creation response) and never in
 * logs or listings; OTA keys never in a response nor a log line, whatever happens.
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import t from 'tap';
import { inventory } from '../../sim-applet/index.js';
import { createLogger } from '../../provisioning-api/index.js';
import { bearer, testApp } from '../helpers/app.js';

t.test('tokens and keys stay out of logs and responses', async (t) => {
  let logs = '';
  const stream = new Writable({ write(chunk, _e, cb) { logs += chunk.toString(); cb(); } });
  const h = await testApp({ logStream: stream, workers: true });
  const admin = h.operator.tokens['operator-admin']!;
  const created = await h.app.inject({ method: 'POST', url: `/v1/tenants/${h.operator.tenant.id}/api-keys`, headers: bearer(admin), payload: { role: 'carrier-ops', name: 'ops' } });
  const { token, key } = created.json();
  t.match(token, /^sck_[0-9a-f]{12}_/);
  const listing = await h.app.inject({ method: 'GET', url: `/v1/tenants/${h.operator.tenant.id}/api-keys`, headers: bearer(admin) });
  t.notOk(listing.body.includes(token.slice(17)), 'listings show no secret');
  t.ok(listing.json().items.some((k: { id: string; prefix: string }) => k.id === key.id && token.includes(k.prefix)));
  const stored = (await h.db.pool.query(`SELECT row_to_json(k)::text AS j FROM api_keys k WHERE id = $1`, [key.id])).rows[0].j as string;
  t.notOk(stored.includes(token.slice(17)), 'the database holds only the hash');

  const lines = [...inventory.generateVendorFile({ count: 50, format: 'csv', random: randomBytes, firstSerial: 7000 })];
  const reader = new inventory.VendorFileReader();
  const keys = lines.flatMap((l) => reader.push(l)?.keysets.flatMap((k) => [k.kic, k.kid, k.kik]) ?? []);
  const up = await h.app.inject({ method: 'POST', url: '/v1/sim-imports', headers: { ...bearer(token), 'content-type': 'text/csv' }, payload: lines.join('\n') });
  t.equal(up.statusCode, 202);
  await h.waitForJob(up.json().jobId);
  const sims = await h.app.inject({ method: 'GET', url: '/v1/sims?limit=1000', headers: bearer(token) });
  const imp = await h.app.inject({ method: 'GET', url: `/v1/sim-imports/${up.json().id}`, headers: bearer(token) });
  // A bad file's problem report quotes no key either.
  const bad = await h.app.inject({ method: 'POST', url: '/v1/sim-imports', headers: { ...bearer(token), 'content-type': 'text/csv' }, payload: lines.join('\n').replace(/,aes,/g, ',AES9,') });
  t.equal(bad.statusCode, 422);
  const everything = (logs + sims.body + imp.body + bad.body + up.body).toLowerCase();
  t.ok(logs.includes('inventory file received'), 'requests were logged');
  for (const k of keys) t.notOk(everything.includes(k), 'an OTA key leaked');
  t.notOk(logs.includes(token.slice(17)), 'the token is not logged');
  t.notOk(logs.toLowerCase().includes('authorization'), 'no authorization header logged');

  // Redaction holds even when code logs a secret by mistake.
  let direct = '';
  const log = createLogger({ stream: new Writable({ write(c, _e, cb) { direct += c.toString(); cb(); } }) });
  log.info({ token, keysets: [{ kic: keys[0] }], req: { headers: { authorization: `Bearer ${token}` } }, masterKey: 'm' }, 'oops');
  t.notOk(direct.includes(token.slice(17)));
  t.notOk(direct.includes(keys[0]!));
  t.match(direct, /\[redacted\]/);
});

t.test('rate limit: 429 problem once a key exceeds its budget', async (t) => {
  const h = await testApp({ rateLimitPerMinute: 5 });
  const token = h.operator.tokens.auditor;
  const codes: number[] = [];
  for (let i = 0; i < 7; i++) codes.push((await h.app.inject({ method: 'GET', url: '/v1/sims', headers: bearer(token) })).statusCode);
  t.same(codes, [200, 200, 200, 200, 200, 429, 429]);
  const limited = await h.app.inject({ method: 'GET', url: '/v1/sims', headers: bearer(token) });
  t.equal(limited.json().code, 'RATE_LIMITED');
  t.ok(limited.headers['retry-after']);
});
