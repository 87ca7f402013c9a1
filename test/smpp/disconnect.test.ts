/**
 * An SMSC that cuts the session in the middle of a window: one submit_sm is taken (the card
 * gets it) but never answered. Nothing is lost (every command gets its PoR), and the copy
 * sent again is known: attempts 2 on its row, and the card's refusal of the copy (counter
 * low) recorded as a duplicate, not as the command's answer.
 */
import t from 'tap';
import { getStatusApdu } from '../../sim-applet/index.js';
import { getOtaMessage } from '../../provisioning-api/db/repositories/ota-messages.js';
import type { OtaSettled } from '../../provisioning-api/smpp/ota-gateway.js';
import { until } from './helpers.js';
import { otaEnv, startFleet, startGateway } from './ota-env.js';

t.test('disconnect mid-window: no message lost, none sent twice unknown', async (t) => {
  const env = await otaEnv({ count: 40 });
  const fleet = await startFleet(env);
  const gateway = await startGateway(env, { smpp: { host: '127.0.0.1', port: env.port, systemId: 'operator', password: 'op-secret', window: 20, pduTimeoutMs: 2000, reconnect: { initialMs: 20, maxMs: 100 } } });
  const settled = new Map<string, OtaSettled>();
  gateway.on('settled', (s: OtaSettled) => settled.set(s.id, s));
  env.smsc.setFaults({ disconnectAfter: 15 });
  const ids = await gateway.send(env.sims.map((s) => ({ iccid: s.iccid, commands: [getStatusApdu()] })));
  await until('every PoR', () => ids.every((id) => settled.has(id)), 30_000);
  const rows = await Promise.all(ids.map((id) => getOtaMessage(env.db.pool, id)));
  t.ok(rows.every((r) => r!.state === 'por-received' && r!.porCcValid), 'every command answered and verified');
  const resent = rows.filter((r) => r!.attempts > 1);
  t.ok(resent.length >= 1, `${resent.length} resent after the cut`);
  t.ok(env.smsc.stats.mtTaken > ids.length, 'the SMSC took more submit_sm than commands: the unanswered one went through');
  // The copy reached the card, which refused it; that answer is kept beside, as a duplicate.
  await until('the copies answered', async () => {
    const n = (await env.db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ota_inbound WHERE outcome = 'duplicate'`)).rows[0]!.n;
    return n >= env.smsc.stats.mtTaken - ids.length;
  });
  const dup = (await env.db.pool.query(`SELECT ota_message_id::text AS id, por_status FROM ota_inbound WHERE outcome = 'duplicate'`)).rows;
  // Two kinds of duplicate: the card's refusal of a copy (counter low), which names a resent
  // message; and, when the cut also caught an MO unacknowledged, the same PoR delivered again
  // by the SMSC (status 0), which names a message already answered.
  t.ok(dup.every((d) => ids.includes(d.id)), 'each duplicate names one of the commands');
  const refusals = dup.filter((d) => d.por_status === 2);
  t.ok(refusals.length >= 1, 'the copy was refused by the card');
  t.ok(refusals.every((d) => resent.some((r) => r!.id === d.id)), 'each refusal names a resent message');
  t.ok(dup.every((d) => d.por_status === 2 || d.por_status === 0), 'nothing else');
  t.equal(fleet.stats.mt, env.smsc.stats.mtTaken);
});
