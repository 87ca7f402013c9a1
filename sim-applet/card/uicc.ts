/**
 * The UICC: C-APDUs in, R-APDUs out, as a card answers a handset (ETSI TS 102 221, ISO 7816-4).
 *
 * The card's operating system handles SELECT, GET RESPONSE, ENVELOPE (SMS-PP download,
 * TS 31.111 §7.1.1), FETCH and TERMINAL RESPONSE (TS 102 223) and passes everything else
 * of class 80 to the selected applet. Responses follow T=0 rules: data that does not fit
 * the expected length, or that a case 4 command sent without Le produces, waits behind
 * 61xx (9Fxx for the GSM class A0) for GET RESPONSE.
 *
 * `transmit` never throws on any input: malformed commands get their status word. The one
 * exception is a simulated tear (CardTornError from a fault hook): the power is gone, the
 * card answers nothing, persistent memory is as before the command and RAM is cleared.
 */
import { decodeCommandApdu, encodeResponseApdu, type CommandApdu, type ResponseApdu } from '../protocol/apdu.js';
import { SW } from '../protocol/status-words.js';
import { decodeSmsPpDownload, ENVELOPE_CLA } from '../protocol/envelope.js';
import {
  ConcatReassembler,
  decodeSmsDeliver,
  encodeSmsSubmit,
  findConcat,
  segmentOtaPacket,
  splitUdh,
  packetKindOf,
  type Address,
  type PacketKind,
} from '../protocol/sms/index.js';
import { isProtocolError } from '../errors.js';
import { toHex } from '../bytes.js';
import { processApplet } from '../applet/simchain-applet.js';
import { LIFECYCLE_BYTE, SIMCHAIN_AID, TAG } from '../applet/constants.js';
import { encodeBerTlv } from '../protocol/tlv.js';
import { CardTornError, PersistentMemory, type FaultHook } from './memory.js';
import { processCommandPacket } from './ota-layer.js';
import { decodeTerminalResponse, sendShortMessage, TYPE_SEND_SHORT_MESSAGE } from './proactive.js';
import type { Random } from './attestation.js';
import type { CardState } from './state.js';

/** RAM: lost at reset. Kept in the snapshot only so that a trace replayed in several runs behaves like one session. */
export interface SessionState {
  /** The simchain applet is selected on the basic channel (the default application at reset). */
  selected: boolean;
  /** Response data waiting for GET RESPONSE (hex), and whether it was signalled with 9Fxx (class A0). */
  pendingResponse: string | null;
  pendingGsm: boolean;
  /** Proactive commands not yet fetched (hex), oldest first. */
  proactive: string[];
  /** Number of the proactive command fetched and waiting for its TERMINAL RESPONSE. */
  awaitingTerminalResponse: number | null;
  /** Parts of concatenated SMS-PP messages received so far: originator and UD octets (hex). */
  concatParts: { originator: string; ud: string }[];
  /** Next proactive command number and SMS-SUBMIT message reference. */
  sequence: number;
}

export interface CardSnapshot extends CardState {
  session?: SessionState;
}

export interface UiccOptions {
  random: Random;
}

/** T=0, ISO 7816-3: direct convention, TA1 = 96, T=0 and T=1 offered. */
export const ATR = Uint8Array.from(Buffer.from('3b9f96801fc78031e073fe211b63f100ad830f9000', 'hex'));

const INS_OS = { SELECT: 0xa4, GET_RESPONSE: 0xc0, ENVELOPE: 0xc2, FETCH: 0x12, TERMINAL_RESPONSE: 0x14, STATUS: 0xf2 } as const;
/** TS 23.040 §9.2.3.9 and §9.2.3.10: SIM data download, 8-bit class 2. */
const PID_SIM_DATA_DOWNLOAD = 0x7f;
const DCS_OTA = 0xf6;
const MAX_CONCAT_PARTS = 64;
const EMPTY = new Uint8Array(0);

export function freshSession(): SessionState {
  return {
    selected: true,
    pendingResponse: null,
    pendingGsm: false,
    proactive: [],
    awaitingTerminalResponse: null,
    concatParts: [],
    sequence: 1,
  };
}

function response(sw: number, data: Uint8Array = EMPTY): ResponseApdu {
  return { data, sw };
}

/** ISO 7816-4 §5.4.1: the interindustry class, its logical channel, and the proprietary classes. */
function channelOf(cla: number): number | undefined {
  if ((cla & 0xe0) === 0x00 || (cla & 0xe0) === 0x80) return cla & 0x03;
  if ((cla & 0xc0) === 0x40) return 4 + (cla & 0x0f);
  return undefined;
}

export class Uicc {
  readonly memory: PersistentMemory<CardState>;
  session: SessionState;
  readonly #random: Random;

  /** `owned`: the snapshot is nobody else's (just parsed), so it is used as it is. */
  constructor(snapshot: CardSnapshot, options: UiccOptions, owned = false) {
    const { session, ...state } = snapshot;
    this.memory = new PersistentMemory<CardState>(owned ? state : structuredClone(state));
    this.session = session ? (owned ? session : structuredClone(session)) : freshSession();
    this.#random = options.random;
  }

  /** Set a fault hook that can tear the card at any write point. */
  set fault(hook: FaultHook | undefined) {
    this.memory.fault = hook;
  }

  /** Cold reset: RAM cleared, the applet selected again. Returns the ATR. */
  reset(): Uint8Array {
    this.session = freshSession();
    return ATR;
  }

  /** The persistent state plus the session, for storing the card. */
  snapshot(): CardSnapshot {
    return { ...structuredClone(this.memory.state), session: structuredClone(this.session) };
  }

  /** `snapshot()` as JSON, without the copy in between (a fleet stores a card after every SMS). */
  snapshotJson(): string {
    return JSON.stringify({ ...this.memory.state, session: this.session });
  }

  /** A card from its stored JSON (`snapshotJson`): the parsed state is the card's own, not copied again. */
  static fromJson(json: string, options: UiccOptions): Uicc {
    return new Uicc(JSON.parse(json) as CardSnapshot, options, true);
  }

  transmit(capdu: Uint8Array): Uint8Array {
    try {
      return encodeResponseApdu(this.#dispatch(capdu));
    } catch (e) {
      if (e instanceof CardTornError) {
        this.session = freshSession();
        throw e;
      }
      // A fault in the card's own code: real cards answer "no precise diagnosis".
      return encodeResponseApdu(response(SW.NO_PRECISE_DIAGNOSIS));
    }
  }

  #dispatch(capdu: Uint8Array): ResponseApdu {
    const r = this.#route(capdu);
    // TS 102 221 §7.4.2.2: while a proactive command waits, a normal ending is signalled 91xx, whatever the command.
    if (r.sw === SW.OK && this.session.awaitingTerminalResponse === null && this.session.proactive.length > 0) return this.#proactivePending(r.data);
    return r;
  }

  #route(capdu: Uint8Array): ResponseApdu {
    let apdu: CommandApdu;
    try {
      apdu = decodeCommandApdu(capdu);
    } catch (e) {
      if (isProtocolError(e)) return response(SW.WRONG_LENGTH);
      throw e;
    }
    const gsm = apdu.cla === ENVELOPE_CLA.SIM;
    const channel = gsm ? 0 : channelOf(apdu.cla);
    if (channel === undefined) return response(SW.CLA_NOT_SUPPORTED);
    if (channel !== 0) return response(SW.LOGICAL_CHANNEL_NOT_SUPPORTED);
    // ISO 7816-3: INS 6X and 9X are not instructions (procedure bytes).
    if ((apdu.ins & 0xf0) === 0x60 || (apdu.ins & 0xf0) === 0x90) return response(SW.INS_NOT_SUPPORTED);
    if (apdu.ins !== INS_OS.GET_RESPONSE) {
      // Any other command discards data left unread, as T=0 cards do.
      this.session.pendingResponse = null;
    }
    switch (apdu.ins) {
      case INS_OS.GET_RESPONSE:
        return this.#getResponse(apdu);
      case INS_OS.SELECT:
        return this.#select(apdu);
      case INS_OS.ENVELOPE:
        return apdu.cla === ENVELOPE_CLA.UICC || gsm ? this.#envelope(apdu, gsm) : response(SW.CLA_NOT_SUPPORTED);
      case INS_OS.FETCH:
        return apdu.cla === ENVELOPE_CLA.UICC || gsm ? this.#fetch(apdu) : response(SW.CLA_NOT_SUPPORTED);
      case INS_OS.TERMINAL_RESPONSE:
        return apdu.cla === ENVELOPE_CLA.UICC || gsm ? this.#terminalResponse(apdu) : response(SW.CLA_NOT_SUPPORTED);
      case INS_OS.STATUS:
        if (apdu.cla === ENVELOPE_CLA.UICC) return this.#status(apdu);
        break;
    }
    if (gsm) return response(SW.INS_NOT_SUPPORTED);
    if (!this.session.selected) return response(apdu.cla === 0x80 ? SW.INS_NOT_SUPPORTED : SW.CLA_NOT_SUPPORTED);
    const r = processApplet(apdu, { memory: this.memory, random: this.#random, ota: undefined });
    return this.#deliver(r, apdu.ne, false);
  }

  /** T=0 response rules: data beyond Ne, or data of a command sent without Le, waits behind 61xx / 9Fxx. */
  #deliver(r: ResponseApdu, ne: number | undefined, gsm: boolean): ResponseApdu {
    if (r.data.length === 0 || (r.sw !== SW.OK && (r.sw & 0xff00) !== 0x6200 && (r.sw & 0xff00) !== 0x6300)) return r;
    if (ne !== undefined && r.data.length <= ne) return r;
    const now = ne === undefined ? EMPTY : r.data.subarray(0, ne);
    const rest = r.data.subarray(now.length);
    this.session.pendingResponse = toHex(rest);
    this.session.pendingGsm = gsm;
    // ISO 7816-4 §5.6: SW2 counts the bytes still available, 00 standing for 256 or more (never the length mod 256).
    const available = rest.length >= 256 ? 0 : rest.length;
    return response((gsm ? SW.GSM_RESPONSE_AVAILABLE : SW.BYTES_AVAILABLE) | available, now);
  }

  #getResponse(apdu: CommandApdu): ResponseApdu {
    if (apdu.p1 !== 0 || apdu.p2 !== 0) return response(SW.INCORRECT_P1P2);
    const pending = this.session.pendingResponse;
    if (pending === null) return response(SW.CONDITIONS_NOT_SATISFIED);
    const data = Buffer.from(pending, 'hex');
    const ne = apdu.ne ?? 256;
    // T=0: a length that asks for more than is there is corrected with 6Cxx; the data stays.
    if (ne > data.length) return response(SW.WRONG_LE | (data.length & 0xff));
    this.session.pendingResponse = null;
    return this.#deliver(response(SW.OK, data), ne, this.session.pendingGsm);
  }

  #select(apdu: CommandApdu): ResponseApdu {
    // P1 04: select by DF name (AID), the only way to reach an applet. P1 00 with 3F00: the MF.
    if (apdu.p1 === 0x00 && toHex(apdu.data) === '3f00') {
      this.session.selected = false;
      return response(SW.OK);
    }
    // No file system is modelled beyond the MF: other files are not found.
    if (apdu.p1 !== 0x04) return response(SW.FILE_NOT_FOUND);
    if ((apdu.p2 & 0xf0) !== 0 || (apdu.p2 & 0x03) !== 0) return response(SW.INCORRECT_P1P2);
    const aid = toHex(apdu.data);
    // ISO 7816-4 §7.1.1: a partial DF name selects the application whose name starts with it.
    if (apdu.data.length < 5 || !SIMCHAIN_AID.startsWith(aid)) return response(SW.FILE_NOT_FOUND);
    this.session.selected = true;
    if ((apdu.p2 & 0x0c) === 0x0c) return response(SW.OK);
    return this.#deliver(response(SW.OK, this.#fci()), apdu.ne, false);
  }

  /** FCI template: DF name and the applet's proprietary data (ISO 7816-4 §5.3.3: A5 holds BER-TLVs, coded as in GET STATUS). */
  #fci(): Uint8Array {
    const state = this.memory.state;
    const [major, minor] = state.applet.version.split('.').map(Number);
    const proprietary = Buffer.concat([
      encodeBerTlv(TAG.LIFECYCLE, Uint8Array.of(LIFECYCLE_BYTE[state.lifecycle])),
      encodeBerTlv(TAG.VERSION, Uint8Array.of(major ?? 0, minor ?? 0)),
    ]);
    return encodeBerTlv(0x6f, Buffer.concat([encodeBerTlv(0x84, Buffer.from(SIMCHAIN_AID, 'hex')), encodeBerTlv(0xa5, proprietary)]));
  }

  #envelope(apdu: CommandApdu, gsm: boolean): ResponseApdu {
    if (apdu.p1 !== 0 || apdu.p2 !== 0) return response(SW.INCORRECT_P1P2);
    let packet: Uint8Array;
    let originator: Address;
    try {
      const envelope = decodeSmsPpDownload(apdu.data);
      const deliver = decodeSmsDeliver(envelope.tpdu);
      originator = deliver.oa;
      // Not SIM data download, or no secured packet in it: nothing for the OTA layer (a real card would store it in EF_SMS).
      if (deliver.pid !== PID_SIM_DATA_DOWNLOAD || !deliver.udhi) return response(SW.OK);
      const message = this.#collect(originator.digits, deliver.ud);
      if (!message) return response(SW.OK);
      if (message.kind !== 'command') return response(SW.OK);
      packet = message.data;
    } catch (e) {
      if (isProtocolError(e)) return response(SW.WRONG_DATA);
      throw e;
    }
    const result = processCommandPacket(packet, { memory: this.memory, random: this.#random });
    if (!result.por) return response(SW.OK);
    if (!result.porViaSubmit) return this.#deliver(response(SW.OK, result.por), undefined, gsm);
    // TS 31.115 §4.2: the PoR goes to the address the command came from, by SMS-SUBMIT, in as many parts as it needs.
    const ref = this.session.sequence & 0xff;
    const parts = result.por.length <= 140 ? [result.por] : segmentOtaPacket(result.por.subarray(3), 'response', ref);
    for (const ud of parts) {
      const number = this.#nextSequence();
      const tpdu = encodeSmsSubmit({ mr: number & 0xff, da: originator, pid: PID_SIM_DATA_DOWNLOAD, dcs: DCS_OTA, ud, udhi: true });
      this.session.proactive.push(toHex(sendShortMessage(number & 0xff, tpdu)));
    }
    return this.#proactivePending();
  }

  /** Add one SMS's user data; the whole secured packet (and its kind) once every part is in. */
  #collect(originator: string, ud: Uint8Array): { kind: PacketKind | undefined; data: Uint8Array } | undefined {
    const { ies, payload } = splitUdh(ud);
    if (!findConcat(ies)) return { kind: packetKindOf(ies), data: payload };
    // The parts held so far live in the session (RAM); a reassembler is rebuilt from them per part.
    const reassembler = new ConcatReassembler({ maxOpen: 8, maxRecent: 0 });
    for (const p of this.session.concatParts) {
      const held = splitUdh(Buffer.from(p.ud, 'hex'));
      reassembler.accept({ originator: p.originator, udh: held.ies, payload: held.payload });
    }
    const result = reassembler.accept({ originator, udh: ies, payload });
    if (result.status === 'duplicate') return undefined;
    if (result.status === 'pending') {
      this.session.concatParts.push({ originator, ud: toHex(ud) });
      if (this.session.concatParts.length > MAX_CONCAT_PARTS) this.session.concatParts.shift();
      return undefined;
    }
    const done = result.message.concat!;
    this.session.concatParts = this.session.concatParts.filter((p) => {
      const held = findConcat(splitUdh(Buffer.from(p.ud, 'hex')).ies);
      return !(p.originator === originator && held && held.ref === done.ref && held.refBits === done.refBits);
    });
    return result.message;
  }

  #nextSequence(): number {
    const n = this.session.sequence;
    this.session.sequence = n >= 0xfe ? 1 : n + 1;
    return n;
  }

  #proactivePending(data: Uint8Array = EMPTY): ResponseApdu {
    const next = this.session.proactive[0];
    if (next === undefined) return response(SW.OK, data);
    // TS 102 221 §10.2.1.1: 91xx, xx = length of the pending proactive command.
    return response(SW.PROACTIVE_PENDING | ((next.length / 2) & 0xff), data);
  }

  /**
   * TS 102 221 §11.1.2 STATUS, the terminal's poll: P2 0C no data, 01 the DF name (AID) of
   * the current application, 00 its FCI. P1 (application status indication) is accepted as sent.
   */
  #status(apdu: CommandApdu): ResponseApdu {
    if (apdu.p1 > 0x02) return response(SW.INCORRECT_P1P2);
    if (apdu.p2 === 0x0c) return response(SW.OK);
    if (apdu.p2 === 0x01 && this.session.selected) return this.#deliver(response(SW.OK, encodeBerTlv(0x84, Buffer.from(SIMCHAIN_AID, 'hex'))), apdu.ne, false);
    if (apdu.p2 === 0x00 && this.session.selected) return this.#deliver(response(SW.OK, this.#fci()), apdu.ne, false);
    return response(apdu.p2 === 0x00 || apdu.p2 === 0x01 ? SW.CONDITIONS_NOT_SATISFIED : SW.INCORRECT_P1P2);
  }

  #fetch(apdu: CommandApdu): ResponseApdu {
    if (apdu.p1 !== 0 || apdu.p2 !== 0) return response(SW.INCORRECT_P1P2);
    const next = this.session.proactive[0];
    if (next === undefined || this.session.awaitingTerminalResponse !== null) return response(SW.CONDITIONS_NOT_SATISFIED);
    const data = Buffer.from(next, 'hex');
    if (apdu.ne !== undefined && apdu.ne !== data.length && !(apdu.ne === 256 && data.length > 256)) {
      return response(SW.WRONG_LE | (data.length & 0xff));
    }
    this.session.proactive.shift();
    // The command number is the first byte of the command details value: D0 len 81 03 <number> 13 00.
    const lengthBytes = data[1]! === 0x81 ? 2 : 1;
    this.session.awaitingTerminalResponse = data[1 + lengthBytes + 2]!;
    return response(SW.OK, data);
  }

  #terminalResponse(apdu: CommandApdu): ResponseApdu {
    if (apdu.p1 !== 0 || apdu.p2 !== 0) return response(SW.INCORRECT_P1P2);
    const awaited = this.session.awaitingTerminalResponse;
    if (awaited === null) return response(SW.CONDITIONS_NOT_SATISFIED);
    let tr;
    try {
      tr = decodeTerminalResponse(apdu.data);
    } catch (e) {
      if (isProtocolError(e)) return response(SW.WRONG_DATA);
      throw e;
    }
    if (tr.commandNumber !== awaited || tr.commandType !== TYPE_SEND_SHORT_MESSAGE) return response(SW.WRONG_DATA);
    this.session.awaitingTerminalResponse = null;
    return this.#proactivePending();
  }
}
