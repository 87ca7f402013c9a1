/**
 * Proactive UICC commands (ETSI TS 102 223): how the card sends a PoR by SMS-SUBMIT. The
 * card answers the ENVELOPE with 91xx; the terminal FETCHes a SEND SHORT MESSAGE command,
 * sends the SMS, and reports with TERMINAL RESPONSE. A PoR longer than one SMS goes as
 * several SEND SHORT MESSAGE commands, one per concatenated part.
 */
import { decodeBerTlv, decodeComprehensionTlvs, encodeBerTlv, encodeComprehensionTlv } from '../protocol/tlv.js';
import { DEVICE } from '../protocol/envelope.js';
import { fail } from '../errors.js';

/** TS 102 223 §9.2: BER-TLV tag of a proactive command. */
export const PROACTIVE_COMMAND_TAG = 0xd0;
/** TS 102 223 §9.4: type of command SEND SHORT MESSAGE. */
export const TYPE_SEND_SHORT_MESSAGE = 0x13;
/** COMPREHENSION-TLV tags (TS 101 220 §7.2), without the CR bit. */
export const CTAG = { COMMAND_DETAILS: 0x01, DEVICE_IDENTITIES: 0x02, RESULT: 0x03, SMS_TPDU: 0x0b } as const;

/** SEND SHORT MESSAGE carrying an SMS-SUBMIT TPDU, from the UICC to the network (qualifier 00: packing not required). */
export function sendShortMessage(commandNumber: number, tpdu: Uint8Array): Uint8Array {
  return encodeBerTlv(
    PROACTIVE_COMMAND_TAG,
    Buffer.concat([
      encodeComprehensionTlv(CTAG.COMMAND_DETAILS, Uint8Array.of(commandNumber, TYPE_SEND_SHORT_MESSAGE, 0x00), true),
      encodeComprehensionTlv(CTAG.DEVICE_IDENTITIES, Uint8Array.of(DEVICE.UICC, DEVICE.NETWORK), true),
      encodeComprehensionTlv(CTAG.SMS_TPDU, tpdu, true),
    ]),
  );
}

export interface TerminalResponse {
  commandNumber: number;
  commandType: number;
  /** General result (TS 102 223 §8.12): 0x0X = performed, 0x1X = temporary problem, 0x2X/0x3X = failed. */
  result: number;
}

/** Read the fields the card checks in a TERMINAL RESPONSE. Throws ProtocolError when they are missing. */
export function decodeTerminalResponse(data: Uint8Array): TerminalResponse {
  const tlvs = decodeComprehensionTlvs(data);
  const details = tlvs.find((t) => t.tag === CTAG.COMMAND_DETAILS);
  const result = tlvs.find((t) => t.tag === CTAG.RESULT);
  if (!details || details.value.length !== 3) fail('MALFORMED', 'TERMINAL RESPONSE without command details', { field: 'commandDetails' });
  if (!result || result.value.length < 1) fail('MALFORMED', 'TERMINAL RESPONSE without a result', { field: 'result' });
  return { commandNumber: details.value[0]!, commandType: details.value[1]!, result: result.value[0]! };
}

/** What a terminal sends after performing a proactive command (for simulators and tests). */
export function encodeTerminalResponse(response: TerminalResponse): Uint8Array {
  return Buffer.concat([
    encodeComprehensionTlv(CTAG.COMMAND_DETAILS, Uint8Array.of(response.commandNumber, response.commandType, 0x00), true),
    encodeComprehensionTlv(CTAG.DEVICE_IDENTITIES, Uint8Array.of(DEVICE.TERMINAL, DEVICE.UICC), true),
    encodeComprehensionTlv(CTAG.RESULT, Uint8Array.of(response.result), true),
  ]);
}

export interface ProactiveCommand {
  commandNumber: number;
  commandType: number;
  qualifier: number;
  /** The SMS TPDU of a SEND SHORT MESSAGE. */
  tpdu?: Uint8Array;
}

/** Read a proactive command as a terminal does after FETCH. Throws ProtocolError when it is not one. */
export function decodeProactiveCommand(data: Uint8Array): ProactiveCommand {
  const outer = decodeBerTlv(data);
  if (outer.tag !== PROACTIVE_COMMAND_TAG) fail('MALFORMED', 'not a proactive command (tag D0)', { field: 'tag' });
  const tlvs = decodeComprehensionTlvs(outer.value);
  const details = tlvs.find((t) => t.tag === CTAG.COMMAND_DETAILS);
  if (!details || details.value.length !== 3) fail('MALFORMED', 'proactive command without command details', { field: 'commandDetails' });
  const tpdu = tlvs.find((t) => t.tag === CTAG.SMS_TPDU)?.value;
  const out: ProactiveCommand = { commandNumber: details.value[0]!, commandType: details.value[1]!, qualifier: details.value[2]! };
  if (tpdu) out.tpdu = tpdu;
  return out;
}
