/**
 * `simchain sim fleet` in its own process: the OTA round trip through it, and card states
 * that survive a restart (snapshots on disk): a key generated before the restart is read
 * back after it, and a replayed counter is still refused.
 */
import t from 'tap';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { generateKeyPairApdu, parseKeyTemplate, readPublicKeyApdu } from '../../sim-applet/index.js';
import { getOtaMessage } from '../../provisioning-api/db/repositories/ota-messages.js';
import type { OtaSettled } from '../../provisioning-api/smpp/ota-gateway.js';
import { until } from '../smpp/helpers.js';
import { otaEnv, spawnFleet, startGateway } from '../smpp/ota-env.js';

t.test('the fleet process answers OTA and keeps card state across a restart', async (t) => {
  const env = await otaEnv({ count: 3 });
  const first = await spawnFleet(env);
  t.equal(first.ready.handsets, 3, 'every card of the vendor file');
  const gateway = await startGateway(env);
  const settled = new Map<string, OtaSettled>();
  gateway.on('settled', (s: OtaSettled) => settled.set(s.id, s));
  const sim = env.sims[1]!;

  const [gen] = await gateway.send([{ iccid: sim.iccid, commands: [generateKeyPairApdu('secp256k1', 2, { label: 'meter' })] }]);
  await until('PoR', () => settled.has(gen!), 20_000);
  const key = parseKeyTemplate(settled.get(gen!)!.response!.data);
  t.equal((await first.stop()), 0, 'stops cleanly on SIGTERM');
  t.ok(statSync(join(env.dir, 'cards', 'cards.log')).size > 0, 'card snapshots are on disk');

  await spawnFleet(env);
  const [read] = await gateway.send([{ iccid: sim.iccid, commands: [readPublicKeyApdu(2, false)] }]);
  await until('PoR after restart', () => settled.has(read!), 20_000);
  t.same(parseKeyTemplate(settled.get(read!)!.response!.data).publicKey, key.publicKey, 'the key generated before the restart');

  // Replay, as after restoring an old backup of the database: counter 2, which the card
  // took after its restart, comes again and is refused (PoR 02, unsecured).
  await env.db.pool.query('DELETE FROM ota_submissions WHERE ota_message_id = $1', [read]);
  await env.db.pool.query('DELETE FROM ota_messages WHERE id = $1', [read]);
  await env.db.pool.query('UPDATE ota_counters SET last_counter = 1 WHERE iccid = $1', [sim.iccid]);
  const [replay] = await gateway.send([{ iccid: sim.iccid, commands: [readPublicKeyApdu(2, false)] }]);
  await until('error PoR', () => settled.has(replay!), 20_000);
  const row = await getOtaMessage(env.db.pool, replay!);
  t.equal(row!.state, 'por-error');
  t.equal(row!.porStatus, 2, 'counter low: the card remembers');
  t.equal(row!.porCcValid, false, 'an unsecured error PoR is never reported as verified');
});
