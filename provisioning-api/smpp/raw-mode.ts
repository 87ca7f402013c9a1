/**
 * The `smpp` package in raw mode: binary user data passes byte-exact.
 *
 * Its default codec for short_message and message_payload decodes by `data_coding & 0x0F`
 * (so 0xF6, 8-bit class 2 in TS 23.038 terms, is read as a 6 = Cyrillic text) and splits
 * the UDH into objects; OTA packets are octets (SMPP 3.4 §5.2.19: data_coding is the
 * receiver's business, not the transport's). Deleting the filters leaves Buffers in and out.
 *
 * simulators/ has the same few lines in simulators/smsc/raw-mode.ts: DESIGN §2 forbids it to
 * import the backend, and the setup is process-wide and idempotent, so both may run it.
 */
import smpp from 'smpp';
import { walkOwnPduFields, type SmppPackage } from '../../sim-applet/index.js';

const WITH_SHORT_MESSAGE = ['submit_sm', 'deliver_sm', 'data_sm', 'submit_multi', 'replace_sm'] as const;

let done = false;

export function smppRawMode(): typeof smpp {
  if (done) return smpp;
  for (const c of WITH_SHORT_MESSAGE) delete smpp.commands[c]?.params?.short_message?.filter;
  delete smpp.tlvs.message_payload?.filter;
  // Encoding walks a PDU's own fields, not its prototype's methods too (sim-applet/protocol/smpp-pdu-walk.ts).
  walkOwnPduFields(smpp as unknown as SmppPackage);
  done = true;
  return smpp;
}

/**
 * Gather the PDUs a session writes in one turn of the event loop into one system call: the
 * package writes each PDU with its own `socket.write`, and at thousands of PDUs a second the
 * system calls cost more than the PDUs. The socket is corked at the first write of a turn and
 * uncorked on the next tick, so nothing waits longer than the current turn.
 */
export function corkWrites(session: smpp.Session): void {
  const send = session.send.bind(session);
  session.send = (pdu, responseCallback, sendCallback) => {
    const socket = session.socket;
    if (!socket.writableCorked) {
      socket.cork();
      process.nextTick(() => socket.uncork());
    }
    return send(pdu, responseCallback, sendCallback);
  };
}
