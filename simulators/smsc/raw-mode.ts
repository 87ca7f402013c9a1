/**
 * The `smpp` package in raw mode: short_message and message_payload stay Buffers, byte-exact.
 * Its default filter decodes by `data_coding & 0x0F` (0xF6 would be read as Cyrillic text)
 * and splits the UDH into objects; an SMSC carries octets (SMPP 3.4 §5.2.19).
 *
 * The backend's ESME has the same few lines in provisioning-api/smpp/raw-mode.ts: DESIGN §2
 * keeps simulators/ from importing the backend. The setup is process-wide and idempotent.
 */
import smpp from 'smpp';
import { walkOwnPduFields, type SmppPackage } from '../../sim-applet/index.js';

let done = false;

export function smppRawMode(): typeof smpp {
  if (done) return smpp;
  for (const c of ['submit_sm', 'deliver_sm', 'data_sm', 'submit_multi', 'replace_sm']) delete smpp.commands[c]?.params?.short_message?.filter;
  delete smpp.tlvs.message_payload?.filter;
  // Encoding walks a PDU's own fields, not its prototype's methods too (sim-applet/protocol/smpp-pdu-walk.ts).
  walkOwnPduFields(smpp as unknown as SmppPackage);
  done = true;
  return smpp;
}

/** SMPP 3.4 §5.1.3 command_status values the simulators use. */
export const STATUS = {
  ESME_ROK: 0x00,
  ESME_RINVMSGLEN: 0x01,
  ESME_RINVCMDID: 0x03,
  ESME_RINVBNDSTS: 0x04,
  ESME_RALYBND: 0x05,
  ESME_RSYSERR: 0x08,
  ESME_RINVDSTADR: 0x0b,
  ESME_RINVPASWD: 0x0e,
  ESME_RINVSYSID: 0x0f,
  ESME_RMSGQFUL: 0x14,
  ESME_RTHROTTLED: 0x58,
  ESME_RX_T_APPN: 0x64,
  ESME_RX_P_APPN: 0x65,
} as const;

/** The user data of a PDU: message_payload when used (§5.3.2.32), else short_message. */
export function userDataOf(pdu: smpp.PDU): Buffer {
  const payload = pdu.message_payload;
  if (Buffer.isBuffer(payload) && payload.length > 0) return payload;
  return Buffer.isBuffer(pdu.short_message) ? pdu.short_message : Buffer.alloc(0);
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
