/**
 * A delivery receipt that arrives in the same TCP read as the submit_sm_resp naming its
 * message id (an SMSC that delivers at once, a backend busy enough to read both together)
 * is recorded against its submission, not counted as unknown and dropped.
 *
 * The SMSC here is the smpp package's server, scripted: it answers each submit_sm and sends
 * the receipt in the same write (a corked socket).
 */
import t from 'tap';
import smpp from 'smpp';
import { getStatusApdu } from '../../sim-applet/index.js';
import { getOtaMessage, otaSubmissions } from '../../provisioning-api/db/repositories/ota-messages.js';
import { receiptFields } from '../../simulators/smsc/receipt.js';
import { smppRawMode } from '../../simulators/smsc/raw-mode.js';
import { OPERATOR, until } from './helpers.js';
import { otaEnv, startGateway } from './ota-env.js';

t.test('a receipt read together with its submit_sm_resp is recorded', async (t) => {
  const env = await otaEnv({ count: 20 });
  smppRawMode();
  let next = 1;
  const server = smpp.createServer({}, (session: smpp.Session) => {
    session.on('bind_transceiver', (pdu: smpp.PDU) => session.send(pdu.response({ system_id: 'scripted' })));
    session.on('enquire_link', (pdu: smpp.PDU) => session.send(pdu.response()));
    session.on('unbind', (pdu: smpp.PDU) => session.send(pdu.response()));
    session.on('submit_sm', (pdu: smpp.PDU) => {
      const messageId = `m${next++}`;
      const at = new Date();
      session.socket.cork();
      session.send(pdu.response({ message_id: messageId }));
      session.send(new smpp.PDU('deliver_sm', receiptFields({
        messageId, stat: 'DELIVRD', submittedAt: at, doneAt: at,
        mt: { sourceTon: pdu.source_addr_ton ?? 0, sourceNpi: pdu.source_addr_npi ?? 0, source: String(pdu.source_addr ?? ''), destTon: pdu.dest_addr_ton ?? 0, destNpi: pdu.dest_addr_npi ?? 0, dest: String(pdu.destination_addr ?? '') },
      })));
      process.nextTick(() => session.socket.uncork());
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => {
    server.close();
  });
  const port = (server.address() as { port: number }).port;
  const gateway = await startGateway(env, { smpp: { host: '127.0.0.1', port, ...OPERATOR, pduTimeoutMs: 2000, reconnect: { initialMs: 20, maxMs: 200 } } });

  const ids = await gateway.send(env.sims.map((s) => ({ iccid: s.iccid, commands: [getStatusApdu()] })));
  await until('every receipt handled', () => gateway.counts.receipts === ids.length);
  await until('every message delivered', async () => {
    for (const id of ids) if ((await getOtaMessage(env.db.pool, id))?.state !== 'delivered') return false;
    return true;
  });
  t.equal(gateway.counts.unknownReceipts, 0, 'no receipt taken for unknown');
  for (const id of ids) {
    const subs = await otaSubmissions(env.db.pool, id);
    t.same(subs.map((s) => s.receiptStat), ['DELIVRD'], `message ${id}: its submission carries the receipt`);
  }
});
