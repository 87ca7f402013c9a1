/**
 * The ESME's own machinery over real TCP against the SMSC simulator: the send window, the
 * timeout per PDU, pending requests failed when the session closes and a new session after
 * it, enquire_link finding a dead peer, throttling (the SMSC's cap and the bind's own),
 * several binds at once, refused credentials, and TLS.
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import smpp from 'smpp';
import type { AddressInfo } from 'node:net';
import { Esme } from '../../provisioning-api/smpp/esme.js';
import { otaSubmitFields } from '../../provisioning-api/smpp/ota-pdu.js';
import { bindOptions, networkSide, OPERATOR, startSmsc, until } from './helpers.js';

const SOURCE = { ton: 1, npi: 1, address: '4912345' };
const sms = (i: number) => otaSubmitFields(Buffer.from(`027000${i.toString(16).padStart(8, '0')}`, 'hex'), { source: SOURCE, msisdn: `+44770${String(i).padStart(6, '0')}`, registeredDelivery: false });

async function esmeOn(port: number, extra: Parameters<typeof bindOptions>[1] = {}): Promise<Esme> {
  const esme = new Esme(bindOptions(port, extra), () => 0);
  await esme.start();
  t.teardown(() => esme.stop());
  return esme;
}

t.test('the window bounds what is outstanding', async (t) => {
  const { smsc, port } = await startSmsc({ faults: { delayRate: 1, delayMs: 300 } });
  await networkSide(port);
  const esme = await esmeOn(port, { window: 5 });
  const all = Promise.all(Array.from({ length: 20 }, (_, i) => esme.submit(sms(i))));
  await new Promise((r) => setTimeout(r, 150));
  t.equal(smsc.stats.mtTaken, 5, 'five sent, the rest wait for a slot');
  t.equal(esme.binds[0]!.window.inFlight, 5);
  t.equal((await all).length, 20);
});

t.test('a PDU with no answer times out', async (t) => {
  const { port } = await startSmsc({ faults: { dropRate: 1 } });
  const esme = await esmeOn(port, { pduTimeoutMs: 150 });
  await t.rejects(esme.submit(sms(1)), { code: 'SMPP_TIMEOUT' });
  t.equal(esme.binds[0]!.window.inFlight, 0, 'its slot is free again');
});

t.test('a closed session fails what is pending; the next submit goes on a new session', async (t) => {
  const { smsc, port } = await startSmsc({ faults: { delayRate: 1, delayMs: 5000 } });
  const esme = await esmeOn(port);
  const pending = Array.from({ length: 10 }, (_, i) => esme.submit(sms(i)));
  await until('all sent', () => smsc.stats.mtTaken === 10);
  smsc.disconnect(OPERATOR.systemId);
  for (const p of pending) await t.rejects(p, { code: 'SMPP_SESSION_CLOSED' });
  smsc.setFaults({});
  const r = await esme.submit(sms(99));
  t.ok(r.messageId, 'rebound on a new session');
  t.equal(esme.bound, 1);
});

t.test('enquire_link finds a peer that stopped answering and reconnects', async (t) => {
  let connections = 0;
  const server = smpp.createServer({}, (session) => {
    connections++;
    session.on('error', () => session.destroy());
    session.on('bind_transceiver', (pdu: smpp.PDU) => session.send(pdu.response({ system_id: 'mute' })));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => new Promise<void>((r) => {
    for (const s of server.sessions) s.destroy();
    server.close(() => r());
  }));
  const esme = await esmeOn((server.address() as AddressInfo).port, { enquireLinkMs: 60, pduTimeoutMs: 80 });
  await until('a second connection', () => connections >= 2, 5000);
  t.ok(esme.binds[0]!.lastError === null || esme.binds[0]!.lastError instanceof Error);
  t.pass('the silent session was dropped and a new one bound');
});

t.test('throttling: ESME_RTHROTTLED shrinks the window and the message is sent again', async (t) => {
  const { smsc, port } = await startSmsc({ accounts: [{ ...OPERATOR, role: 'operator', maxPerSecond: 200 }, { systemId: 'network', password: 'net-secret', role: 'network' }] });
  await networkSide(port);
  const esme = await esmeOn(port, { window: 50 });
  const results = await Promise.all(Array.from({ length: 150 }, (_, i) => esme.submit(sms(i))));
  t.equal(results.length, 150, 'every message taken in the end');
  t.ok(smsc.stats.throttled > 0, `the SMSC throttled ${smsc.stats.throttled} times`);
  t.ok(results.some((r) => r.throttled > 0), 'and the ESME sent those again');
  t.equal(smsc.stats.mtTaken, 150, 'each taken once');
});

t.test('a messages-per-second cap on the bind keeps under the SMSC cap', async (t) => {
  const { smsc, port } = await startSmsc({ accounts: [{ ...OPERATOR, role: 'operator', maxPerSecond: 60 }, { systemId: 'network', password: 'net-secret', role: 'network' }] });
  await networkSide(port);
  const esme = await esmeOn(port, { maxPerSecond: 50 });
  await Promise.all(Array.from({ length: 30 }, (_, i) => esme.submit(sms(i))));
  t.equal(smsc.stats.throttled, 0, 'never throttled');
});

t.test('several binds at once share the load', async (t) => {
  const { port } = await startSmsc();
  await networkSide(port);
  const esme = await esmeOn(port, { binds: 3, window: 4 });
  t.equal(esme.bound, 3);
  const results = await Promise.all(Array.from({ length: 30 }, (_, i) => esme.submit(sms(i))));
  t.ok(new Set(results.map((r) => r.bind)).size >= 2, 'more than one bind used');
});

t.test('wrong credentials are refused', async (t) => {
  const { smsc, port } = await startSmsc();
  const bad = new Esme(bindOptions(port, { password: 'wrong' }), () => 0);
  await t.rejects(bad.start(), { code: 'SMPP_BIND_FAILED', status: 0x0e });
  const unknown = new Esme(bindOptions(port, { systemId: 'nobody' }), () => 0);
  await t.rejects(unknown.start(), { code: 'SMPP_BIND_FAILED', status: 0x0f });
  t.equal(smsc.stats.refusedBinds, 2);
});

t.test('TLS where the SMSC offers it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'simchain-tls-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'key.pem'),
    '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost'], { stdio: 'ignore' });
  const cert = readFileSync(join(dir, 'cert.pem'));
  const { port } = await startSmsc({ tls: { key: readFileSync(join(dir, 'key.pem')), cert } });
  const esme = await esmeOn(port, { tls: { ca: cert, servername: 'localhost' } });
  t.equal(esme.bound, 1, 'bound over TLS');
  const untrusted = new Esme(bindOptions(port, { tls: { servername: 'localhost' }, reconnect: { initialMs: 10, maxMs: 20 } }), () => 0);
  const outcome = await Promise.race([untrusted.start().then(() => 'bound'), new Promise((r) => setTimeout(() => r('refused'), 500))]);
  await untrusted.stop();
  t.equal(outcome, 'refused', 'an SMSC certificate nobody trusts is not accepted');
});
