/**
 * The terminal's side of the card interface (TS 102 221, TS 31.111, TS 102 223): what a
 * handset's modem does when an SMS for the card arrives. It wraps the SMS-DELIVER in an
 * ENVELOPE, collects response data with GET RESPONSE (the PoR for the SMS-DELIVER-REPORT),
 * and runs the proactive session (FETCH, TERMINAL RESPONSE) in which the card sends its
 * PoR by SMS-SUBMIT. Pure: it talks to the card through the `transmit` it is given.
 */
import { decodeResponseApdu, encodeCommandApdu } from '../protocol/apdu.js';
import { encodeSmsPpDownloadApdu, ENVELOPE_CLA, type EnvelopeAddress } from '../protocol/envelope.js';
import { SW } from '../protocol/status-words.js';
import { fail } from '../errors.js';
import { decodeProactiveCommand, encodeTerminalResponse, TYPE_SEND_SHORT_MESSAGE } from '../card/proactive.js';

export type Transmit = (capdu: Uint8Array) => Uint8Array;

export interface SmsPpDownloadResult {
  /** Final status word of the exchange. */
  sw: number;
  /** Data the card answered the ENVELOPE with: the PoR the terminal returns in the SMS-DELIVER-REPORT (RP-ACK). */
  responseData: Uint8Array | undefined;
  /** SMS-SUBMIT TPDUs the card asked the terminal to send (SEND SHORT MESSAGE), in order. */
  submits: Uint8Array[];
}

/** Guard against a card that never stops asking (a terminal gives up too). */
const MAX_ROUNDS = 300;

export function smsPpDownload(
  transmit: Transmit,
  deliverTpdu: Uint8Array,
  options: { cla?: number; address?: EnvelopeAddress } = {},
): SmsPpDownloadResult {
  const cla = options.cla ?? ENVELOPE_CLA.UICC;
  let r = decodeResponseApdu(transmit(encodeSmsPpDownloadApdu({ cla, tpdu: deliverTpdu, ...(options.address ? { address: options.address } : {}) })));
  const chunks: Uint8Array[] = [];
  const submits: Uint8Array[] = [];
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const hi = r.sw >> 8;
    if (hi === 0x61 || hi === 0x9f) {
      chunks.push(r.data);
      const le = r.sw & 0xff;
      r = decodeResponseApdu(transmit(encodeCommandApdu({ cla: cla === ENVELOPE_CLA.SIM ? 0xa0 : 0x00, ins: 0xc0, p1: 0, p2: 0, data: new Uint8Array(0), ne: le === 0 ? 256 : le })));
      continue;
    }
    if (hi === 0x91) {
      const le = r.sw & 0xff;
      const fetched = decodeResponseApdu(transmit(encodeCommandApdu({ cla, ins: 0x12, p1: 0, p2: 0, data: new Uint8Array(0), ne: le === 0 ? 256 : le })));
      if (fetched.sw !== SW.OK) return { sw: fetched.sw, responseData: joined(chunks), submits };
      const command = decodeProactiveCommand(fetched.data);
      // TS 102 223 §8.12: 00 = command performed successfully; 30 = command beyond the terminal's capabilities.
      const performed = command.commandType === TYPE_SEND_SHORT_MESSAGE && command.tpdu !== undefined;
      if (performed) submits.push(command.tpdu!);
      const tr = encodeTerminalResponse({ commandNumber: command.commandNumber, commandType: command.commandType, result: performed ? 0x00 : 0x30 });
      r = decodeResponseApdu(transmit(encodeCommandApdu({ cla, ins: 0x14, p1: 0, p2: 0, data: tr })));
      continue;
    }
    chunks.push(r.data);
    return { sw: r.sw, responseData: joined(chunks), submits };
  }
  return fail('TOO_LONG', `the card kept the terminal busy for more than ${MAX_ROUNDS} exchanges`, { field: 'card' });
}

function joined(chunks: Uint8Array[]): Uint8Array | undefined {
  const all = Buffer.concat(chunks);
  return all.length > 0 ? all : undefined;
}

/** Send one plain C-APDU and follow 61xx with GET RESPONSE until the whole response is in. */
export function transmitWithResponse(transmit: Transmit, capdu: Uint8Array): { data: Uint8Array; sw: number } {
  let r = decodeResponseApdu(transmit(capdu));
  const chunks: Uint8Array[] = [r.data];
  for (let round = 0; round < MAX_ROUNDS && r.sw >> 8 === 0x61; round++) {
    const le = r.sw & 0xff;
    r = decodeResponseApdu(transmit(encodeCommandApdu({ cla: 0x00, ins: 0xc0, p1: 0, p2: 0, data: new Uint8Array(0), ne: le === 0 ? 256 : le })));
    chunks.push(r.data);
  }
  return { data: Buffer.concat(chunks), sw: r.sw };
}
