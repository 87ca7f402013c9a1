/**
 * The SMSC simulator joining concatenated MO for the operator (`joinMo`): the parts of a
 * message become one deliver_sm whose message_payload is the response packet's UDH and the
 * whole packet; parts that stay incomplete go on as they came after the hold; a message in
 * one SMS and a copy of a held part are handled as a real SMSC would. Then a GENERATE KEY
 * PAIR (a 4-SMS PoR) over the whole OTA path with the SMSC joining: the PoR is verified and
 * recorded as without joining.
 */
import t from 'tap';
import { randomBytes } from 'node:crypto';
import type smppTypes from 'smpp';
import { generateKeyPairApdu, segmentOtaPacket } from '../../sim-applet/index.js';
import { SmppBind } from '../../provisioning-api/smpp/bind.js';
import { getOtaMessage } from '../../provisioning-api/db/repositories/ota-messages.js';
import type { OtaSettled } from '../../provisioning-api/smpp/ota-gateway.js';
import { NETWORK, OPERATOR, startSmsc, until } from './helpers.js';
import { otaEnv, startFleet, startGateway } from './ota-env.js';

function userData(pdu: smppTypes.PDU): Buffer {
  return Buffer.isBuffer(pdu.message_payload) && pdu.message_payload.length > 0 ? pdu.message_payload : (pdu.short_message as Buffer);
}

async function sides(port: number): Promise<{ network: SmppBind; operator: smppTypes.PDU[] }> {
  const operator: smppTypes.PDU[] = [];
  const op = new SmppBind({ host: '127.0.0.1', port, ...OPERATOR, pduTimeoutMs: 2000, reconnect: { initialMs: 20, maxMs: 200 } }, async (pdu) => {
    operator.push(pdu);
    return 0;
  });
  await op.start();
  t.teardown(() => op.stop());
  const network = new SmppBind({ host: '127.0.0.1', port, ...NETWORK, pduTimeoutMs: 2000, reconnect: { initialMs: 20, maxMs: 200 } }, async () => 0);
  await network.start();
  t.teardown(() => network.stop());
  return { network, operator };
}

function mo(source: string, ud: Uint8Array, udhi = true): smppTypes.PduFields {
  return { source_addr_ton: 1, source_addr_npi: 1, source_addr: source, dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: '4912345', esm_class: udhi ? 0x40 : 0, protocol_id: 0x7f, data_coding: 0xf6, short_message: Buffer.from(ud) };
}

t.test('parts are joined into one deliver_sm; stragglers go on as they came', async (t) => {
  const { smsc, port } = await startSmsc({ joinMo: { holdMs: 300 } });
  const { network, operator } = await sides(port);
  const packet = randomBytes(500);
  const parts = segmentOtaPacket(packet, 'response', 7);
  t.equal(parts.length, 4, 'a 500-byte response packet is 4 SMS');
  // Interleaved with a second handset's message, last part first.
  const other = segmentOtaPacket(randomBytes(200), 'response', 7);
  for (const [i, p] of [parts[3], other[0], parts[0], parts[1], other[1], parts[2]].entries()) {
    await network.request('submit_sm', mo(i === 1 || i === 4 ? '447700900002' : '447700900001', p!));
  }
  await network.request('submit_sm', mo('447700900001', parts[1]!)); // a copy of a part already taken
  await until('both messages at the operator', () => operator.length >= 2);
  await new Promise((r) => setTimeout(r, 100));
  t.equal(operator.length, 2, 'one deliver_sm per message, the copy dropped');
  const first = operator.find((p) => p.source_addr === '447700900001')!;
  t.equal(first.esm_class! & 0x40, 0x40, 'UDHI set');
  t.same(userData(first), Buffer.concat([Buffer.from('027100', 'hex'), packet]), 'UDH 027100 and the whole packet, in order');
  t.equal(Buffer.isBuffer(first.message_payload) && first.message_payload.length, 503, 'in message_payload');

  // A message that never completes: its parts go on, each as it came, after the hold.
  const lonely = segmentOtaPacket(randomBytes(300), 'response', 9);
  await network.request('submit_sm', mo('447700900003', lonely[0]!));
  await network.request('submit_sm', mo('447700900003', lonely[2]!));
  await new Promise((r) => setTimeout(r, 100));
  t.equal(operator.length, 2, 'held while the hold lasts');
  await until('the parts after the hold', () => operator.length === 4);
  t.same(operator.slice(2).map((p) => userData(p).toString('hex')).sort(), [lonely[0], lonely[2]].map((p) => Buffer.from(p!).toString('hex')).sort(), 'the parts as they came');

  // One SMS, no concatenation: straight through.
  await network.request('submit_sm', mo('447700900004', Buffer.from('027100aabb', 'hex')));
  await until('the single SMS', () => operator.length === 5);
  t.equal(userData(operator[4]!).toString('hex'), '027100aabb');

  // Parts whose only IE is the concatenation: the joined message has no UDH at all.
  for (const [i, text] of ['hello ', 'world'].entries()) {
    await network.request('submit_sm', mo('447700900005', Buffer.concat([Buffer.from([5, 0, 3, 0x2a, 2, i + 1]), Buffer.from(text)])));
  }
  await until('the plain joined message', () => operator.length === 6);
  t.equal(userData(operator[5]!).toString(), 'hello world', 'the payloads alone');
  t.equal(operator[5]!.esm_class! & 0x40, 0, 'UDHI cleared');
  t.equal(smsc.stats.mo, 12, 'every part taken from the network');
  t.equal(smsc.stats.moJoined, 3, 'three messages joined');
});

t.test('GENERATE KEY PAIR with the SMSC joining the 4-SMS PoR', async (t) => {
  const env = await otaEnv({ count: 3, smsc: { joinMo: true } });
  await startFleet(env);
  const gateway = await startGateway(env);
  const settled = new Map<string, OtaSettled>();
  gateway.on('settled', (s: OtaSettled) => settled.set(s.id, s));
  const ids = await gateway.send(env.sims.map((s) => ({ iccid: s.iccid, commands: [generateKeyPairApdu('secp256k1', 1, { replace: true, label: 'chain' })] })));
  await until('every PoR', () => ids.every((id) => settled.has(id)), 20_000);
  for (const id of ids) {
    t.equal(settled.get(id)!.state, 'por-received', `message ${id}: PoR received`);
    const m = (await getOtaMessage(env.db.pool, id))!;
    t.equal(m.porCcValid, true, 'its CC verified');
    t.ok(m.porData && m.porData.length > 400, `the key template with the certificate (${m.porData?.length} bytes)`);
  }
  t.equal(gateway.counts.inbound, 0, 'nothing unmatched');
  t.equal(env.smsc.stats.moJoined, 3, 'each PoR reached the backend joined');
});
