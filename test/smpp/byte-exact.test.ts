/**
 * Binary user data crosses every SMPP path byte for byte (the `smpp` package in raw mode):
 * MT submit_sm → SMSC → deliver_sm to the network; MO submit_sm from the network → SMSC →
 * deliver_sm to the operator; short_message and message_payload; every octet value, the
 * data codings whose text filter would mangle them (0xF6, 0x08, 0x00), and the receipt.
 */
import t from 'tap';
import { randomBytes } from 'node:crypto';
import type smppTypes from 'smpp';
import { Esme } from '../../provisioning-api/smpp/esme.js';
import { otaSubmitFields, userDataOf } from '../../provisioning-api/smpp/ota-pdu.js';
import { isDeliveryReceipt, parseDeliveryReceipt } from '../../provisioning-api/smpp/receipts.js';
import { bindOptions, networkSide, startSmsc, until } from './helpers.js';

const SOURCE = { ton: 1, npi: 1, address: '4912345' };
const EVERY_OCTET = Buffer.from(Array.from({ length: 140 }, (_, i) => (i * 7 + 0x80) & 0xff));

t.test('MT and MO user data arrive byte-exact, with receipts', async (t) => {
  const { port } = await startSmsc();
  const network = await networkSide(port);
  const inbound: smppTypes.PDU[] = [];
  const esme = new Esme(bindOptions(port), (pdu) => {
    inbound.push(pdu);
    return 0;
  });
  await esme.start();
  t.teardown(() => esme.stop());

  const payloads = [
    Buffer.concat([Buffer.from('027000', 'hex'), EVERY_OCTET.subarray(0, 137)]),
    Buffer.from([0x00, 0x00, 0x1b, 0xff, 0x00]),
    randomBytes(140),
  ];
  const codings = [0xf6, 0x08, 0x00];
  const ids: string[] = [];
  for (const [i, ud] of payloads.entries()) {
    const fields = { ...otaSubmitFields(ud, { source: SOURCE, msisdn: `+4477000000${i}` }), data_coding: codings[i] };
    ids.push((await esme.submit(fields)).messageId);
  }
  await until('MT at the network', () => network.received.length === payloads.length);
  for (const [i, ud] of payloads.entries()) {
    const pdu = network.received.find((p) => p.destination_addr === `4477000000${i}`)!;
    t.ok(Buffer.isBuffer(pdu.short_message), 'a Buffer, not a decoded object');
    t.equal(userDataOf(pdu).toString('hex'), ud.toString('hex'), `MT ${i} byte-exact`);
    t.equal(pdu.data_coding, codings[i]);
    t.equal(pdu.protocol_id, 0x7f);
    t.equal(pdu.esm_class! & 0x40, 0x40, 'UDHI');
  }
  await until('receipts', () => inbound.filter(isDeliveryReceipt).length === payloads.length);
  const receipts = inbound.filter(isDeliveryReceipt).map((p) => parseDeliveryReceipt(p)!);
  t.same(receipts.map((r) => r.messageId).sort(), [...ids].sort(), 'one receipt per message id');
  t.ok(receipts.every((r) => r.stat === 'DELIVRD'));

  // MO: short_message and, over 254 octets, message_payload.
  const mo = [Buffer.concat([Buffer.from('027100', 'hex'), randomBytes(60)]), randomBytes(300)];
  for (const ud of mo) {
    const fields = { ...otaSubmitFields(ud, { source: { ton: 1, npi: 1, address: '447700000000' }, msisdn: SOURCE.address, registeredDelivery: false }) };
    const r = await network.bind.request('submit_sm', fields);
    t.equal(r.command_status, 0);
  }
  await until('MO at the operator', () => inbound.filter((p) => !isDeliveryReceipt(p)).length === mo.length);
  const got = inbound.filter((p) => !isDeliveryReceipt(p));
  t.equal(userDataOf(got[0]!).toString('hex'), mo[0]!.toString('hex'), 'MO short_message byte-exact');
  t.equal(userDataOf(got[1]!).toString('hex'), mo[1]!.toString('hex'), 'MO message_payload byte-exact');
  t.ok(Buffer.isBuffer(got[1]!.message_payload), 'carried in message_payload');
  t.equal(got[0]!.source_addr, '447700000000');
});

t.test('an OTA packet over 254 octets goes whole in message_payload and reaches the handset as TS 31.115 parts', async (t) => {
  const { port } = await startSmsc();
  const network = await networkSide(port);
  const esme = new Esme(bindOptions(port), () => 0);
  await esme.start();
  t.teardown(() => esme.stop());
  const packet = randomBytes(400);
  const ud = Buffer.concat([Buffer.from('027000', 'hex'), packet]);
  const fields = otaSubmitFields(ud, { source: SOURCE, msisdn: '+447700000009' });
  t.ok(Buffer.isBuffer(fields.message_payload) && fields.short_message!.length === 0, 'message_payload used');
  await esme.submit(fields);
  await until('parts', () => network.received.length === 3);
  const parts = network.received.map(userDataOf);
  t.equal(parts[0]!.subarray(0, 8).toString('hex').slice(0, 4), '0700', 'first part: UDHL 7, concatenation IE');
  t.equal(Buffer.concat([parts[0]!.subarray(8), parts[1]!.subarray(6), parts[2]!.subarray(6)]).toString('hex'), packet.toString('hex'), 'the packet, in order');
});

t.test('short_message over 254 octets is refused before anything is sent', async (t) => {
  const { port } = await startSmsc();
  const esme = new Esme(bindOptions(port), () => 0);
  await esme.start();
  t.teardown(() => esme.stop());
  await t.rejects(esme.submit({ destination_addr: '1', short_message: Buffer.alloc(255) }), { code: 'SMPP_INVALID_ARGUMENT' });
});
