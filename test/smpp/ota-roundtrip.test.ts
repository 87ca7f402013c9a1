/**
 * OTA end to end over real SMPP on loopback and a real PostgreSQL: the backend secures a
 * command for an imported SIM, the SMSC simulator routes it to the fleet's handset, its card
 * (personalised from the same vendor file) answers by SMS-SUBMIT, and the PoR comes back as
 * an MO, matched by MSISDN, TAR and counter, verified, and recorded with every step.
 */
import t from 'tap';
import {
  generateKeyPairApdu,
  getStatusApdu,
  parseKeyTemplate,
  parseStatus,
  readPublicKeyApdu,
  verifyAttestation,
  type CompactResponse,
} from '../../sim-applet/index.js';
import { getOtaMessage, otaSubmissions } from '../../provisioning-api/db/repositories/ota-messages.js';
import type { OtaGateway, OtaSettled } from '../../provisioning-api/smpp/ota-gateway.js';
import { decodeCompactResponse } from '../../sim-applet/index.js';
import { until } from './helpers.js';
import { otaEnv, startFleet, startGateway } from './ota-env.js';

function settledOf(gateway: OtaGateway): Map<string, OtaSettled> {
  const settled = new Map<string, OtaSettled>();
  gateway.on('settled', (s: OtaSettled) => settled.set(s.id, s));
  return settled;
}

t.test('GET STATUS and GENERATE KEY PAIR round trips, single and concatenated, recorded', async (t) => {
  const env = await otaEnv({ count: 4 });
  const fleet = await startFleet(env);
  const gateway = await startGateway(env);
  const settled = settledOf(gateway);
  const [a, b, c] = env.sims;

  // One SMS each way; a 30-command script (two SMS down); a key pair with its attestation (a PoR of several SMS up).
  const ids = await gateway.send([
    { iccid: a!.iccid, commands: [getStatusApdu()] },
    { iccid: b!.iccid, commands: Array.from({ length: 30 }, () => getStatusApdu()) },
    { iccid: c!.iccid, commands: [generateKeyPairApdu('secp256k1', 1, { label: 'device' })] },
  ]);
  await until('three PoRs', () => ids.every((id) => settled.has(id)), 20_000);

  const rows = await Promise.all(ids.map((id) => getOtaMessage(env.db.pool, id)));
  for (const row of rows) {
    t.equal(row!.state, 'por-received', `${row!.iccid}: PoR received`);
    t.equal(row!.porStatus, 0);
    t.equal(row!.porCcValid, true, 'the PoR verified with the keyset (CC)');
    t.equal(row!.attempts, 1);
    t.equal(row!.cntr, 1, 'the first counter of the keyset');
    t.ok(row!.submittedAt && row!.porAt && row!.finishedAt, 'timestamps');
  }
  t.equal(rows[0]!.userData.length, 1, 'one SMS');
  t.equal(rows[1]!.userData.length, 2, 'a concatenated MT');
  t.ok(rows[1]!.userData.every((p, i, all) => i === all.length - 1 || p.length === 140), 'every part but the last is 140 octets');

  const status = parseStatus(decodeCompactResponse(rows[0]!.porData!).data);
  t.equal(status.lifecycle, 'personalised');
  const script = settled.get(ids[1]!)!.response as CompactResponse;
  t.equal(script.executed, 30, 'all 30 commands of the concatenated script ran');

  const key = parseKeyTemplate(settled.get(ids[2]!)!.response!.data);
  t.ok(rows[2]!.porData!.length > 140, 'the key PoR needed several SMS (a concatenated MO)');
  t.same(
    verifyAttestation({ iccid: c!.iccid, curve: 'secp256k1', slot: 1, publicKey: key.publicKey, signature: key.attestationSignature!, certificate: key.certificate!, caCertificate: env.vendorCa.certificate, at: new Date() }).ok,
    true,
    'the card key is attested under the vendor CA the fleet personalised with',
  );

  // Receipts: every part DELIVRD, the row delivered before its PoR.
  await until('receipts', async () => (await Promise.all(ids.map((id) => otaSubmissions(env.db.pool, id)))).flat().every((s) => s.receiptStat === 'DELIVRD'));
  const subs = await otaSubmissions(env.db.pool, ids[1]!);
  t.same(subs.map((s) => [s.part, s.attempt]), [[1, 1], [2, 1]], 'one submission per part');
  t.ok((await getOtaMessage(env.db.pool, ids[1]!))!.deliveredAt, 'delivered_at recorded');

  // The next command takes the next counter; the card state survived between them.
  const [next] = await gateway.send([{ iccid: c!.iccid, commands: [readPublicKeyApdu(1, false)] }]);
  await until('second PoR', () => settled.has(next!));
  const again = await getOtaMessage(env.db.pool, next!);
  t.equal(again!.cntr, 2);
  t.same(parseKeyTemplate(settled.get(next!)!.response!.data).publicKey, key.publicKey, 'the same key read back');
  t.equal(fleet.stats.mt, 1 + 2 + 1 + 1);
});

t.test('a handset offline, then back: the SMSC stores the SMS and forwards it', async (t) => {
  const env = await otaEnv({ count: 2 });
  const fleet = await startFleet(env);
  const gateway = await startGateway(env);
  const settled = settledOf(gateway);
  const sim = env.sims[0]!;
  fleet.setOnline(sim.msisdn, false);
  const [id] = await gateway.send([{ iccid: sim.iccid, commands: [getStatusApdu()] }]);
  await until('submitted and refused by the absent handset', async () => (await getOtaMessage(env.db.pool, id!))!.state === 'submitted' && fleet.stats.absent >= 2);
  t.equal(env.smsc.heldMt, 1, 'held by the SMSC');
  t.notOk(settled.has(id!));
  fleet.setOnline(sim.msisdn, true);
  await until('PoR after the handset came back', () => settled.has(id!));
  const row = await getOtaMessage(env.db.pool, id!);
  t.equal(row!.state, 'por-received');
  t.equal(row!.attempts, 1, 'sent once: the SMSC did the retrying');
});

t.test('no PoR in time: the message expires', async (t) => {
  const env = await otaEnv({ count: 1 });
  const fleet = await startFleet(env);
  const gateway = await startGateway(env, { porTimeoutSeconds: 1 });
  const sim = env.sims[0]!;
  fleet.setOnline(sim.msisdn, false);
  const [id] = await gateway.send([{ iccid: sim.iccid, commands: [getStatusApdu()] }]);
  await until('expired', async () => (await getOtaMessage(env.db.pool, id!))!.state === 'expired', 5000);
  t.match((await getOtaMessage(env.db.pool, id!))!.lastError, /no PoR/);
});

t.test('bad requests change nothing', async (t) => {
  const env = await otaEnv({ count: 1 });
  const gateway = await startGateway(env);
  await t.rejects(gateway.send([{ iccid: env.sims[0]!.iccid, commands: [getStatusApdu()] }, { iccid: '8999900000000099999', commands: [getStatusApdu()] }]), { code: 'SIM_NOT_FOUND' });
  await t.rejects(gateway.send([{ iccid: env.sims[0]!.iccid, commands: [getStatusApdu()], keysetIndex: 7 }]), { code: 'KEYSET_NOT_FOUND' });
  const n = (await env.db.pool.query('SELECT (SELECT count(*) FROM ota_messages)::int AS m, (SELECT count(*) FROM ota_counters)::int AS c')).rows[0];
  t.same(n, { m: 0, c: 0 }, 'no message, no counter taken');
});
