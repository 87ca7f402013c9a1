/**
 * The card side of the OTA security layer (TS 102 225 §5, TS 31.115): a secured command
 * packet comes in; the card finds the application by TAR, checks the packet against the
 * TAR's minimum security level, opens it with the keyset its KIc/KID name, checks the
 * counter, runs the commands, and builds the PoR the SPI asks for.
 *
 * A packet rejected at any of these steps changes nothing on the card. Error PoRs go out
 * unsecured with CNTR zero, as deployed cards send them (vector doc-3des-por-replay-error):
 * a card cannot secure a reply to a sender it could not authenticate.
 */
import {
  checkCounter,
  decodeCommandPacket,
  encodeResponsePacket,
  parseCommandHeader,
  PorStatus,
  decodeSpi,
  type CommandHeader,
  type CommandKeys,
  type PorStatusCode,
  type Spi,
} from '../protocol/ota/index.js';
import { encodeCompactResponse, readCompactCommand } from '../protocol/compact.js';
import { isSuccessful, SW } from '../protocol/status-words.js';
import type { ResponseApdu } from '../protocol/apdu.js';
import { isProtocolError } from '../errors.js';
import { toHex } from '../bytes.js';
import { INS_CASE } from '../applet/constants.js';
import { processApplet } from '../applet/simchain-applet.js';
import type { AppletContext } from '../applet/context.js';
import type { CardState, KeysetRecord, MinimumSecurityLevel, TarRecord } from './state.js';
import type { PersistentMemory } from './memory.js';
import type { Random } from './attestation.js';
import { otaKeyOf } from './ota-keys.js';

export interface OtaResult {
  /** PoR user data (UDH 027100 first), or undefined when the SPI asks for none (or the packet had no usable header). */
  por: Uint8Array | undefined;
  /** SPI byte 2 b6: the sender wants the PoR by SMS-SUBMIT rather than in the SMS-DELIVER-REPORT. */
  porViaSubmit: boolean;
  /** PoR status, for logs and tests; undefined when the packet was discarded as malformed. */
  status: PorStatusCode | undefined;
}

export interface OtaLayerContext {
  memory: PersistentMemory<CardState>;
  random: Random;
}

const COUNTER_RANK = { none: 0, 'no-replay-check': 1, higher: 2, 'one-higher': 3 } as const;

/** TS 102 226 §8.2.1.3.2.4: the SPI must offer at least the TAR's minimum security level. */
function meetsMinimumSecurity(spi: Spi, msl: MinimumSecurityLevel): boolean {
  if (msl.ciphered && !spi.ciphered) return false;
  if (msl.integrity === 'cc' && spi.integrity !== 'cc') return false;
  return COUNTER_RANK[spi.counter] >= COUNTER_RANK[msl.counter];
}

function keysetByIndex(state: Readonly<CardState>, coding: number): KeysetRecord | undefined {
  const index = coding >>> 4;
  return index >= 1 ? (state.keysets[index - 1] ?? undefined) : undefined;
}

function resolveKeys(state: Readonly<CardState>): (kic: number, kid: number) => CommandKeys | undefined {
  return (kic, kid) => {
    const keys: CommandKeys = {};
    const kicSet = keysetByIndex(state, kic);
    const kidSet = keysetByIndex(state, kid);
    if (kicSet) keys.kicKey = otaKeyOf(kicSet.kic);
    if (kidSet) keys.kidKey = otaKeyOf(kidSet.kid);
    return keys;
  };
}

function errorPor(tar: Uint8Array, spi: Spi | undefined, status: PorStatusCode, porViaSubmit: boolean): OtaResult {
  // No PoR at all when the sender asked for none (SPI2 b2b1 = 00).
  if (spi && spi.por === 'none') return { por: undefined, porViaSubmit, status };
  const por = encodeResponsePacket({
    spi: spi ?? decodeSpi(Uint8Array.of(0, 0)),
    tar,
    cntr: 0,
    status,
    data: new Uint8Array(0),
    secured: false,
  });
  return { por, porViaSubmit, status };
}

/** Run a compact command list through the applet (TS 102 226 §5.1): stop at the first unsuccessful status word. */
function runScript(data: Uint8Array, ctx: AppletContext): { executed: number; last: ResponseApdu } {
  let executed = 0;
  let last: ResponseApdu = { data: new Uint8Array(0), sw: SW.OK };
  let offset = 0;
  while (offset < data.length) {
    let next: number;
    try {
      const read = readCompactCommand(data, offset, (_cla, ins) => INS_CASE[ins] ?? 1);
      next = read.next;
      last = processApplet(read.apdu, ctx);
    } catch (e) {
      if (!isProtocolError(e)) throw e;
      // The list ends inside a command: it counts as executed, with the status a card gives a wrong length.
      executed++;
      return { executed, last: { data: new Uint8Array(0), sw: SW.WRONG_LENGTH } };
    }
    executed++;
    offset = next;
    if (!isSuccessful(last.sw)) break;
  }
  return { executed, last };
}

/** Process one complete secured command packet (from CPL on; concatenation already undone). */
export function processCommandPacket(packet: Uint8Array, ctx: OtaLayerContext): OtaResult {
  const state = ctx.memory.state;
  let header: CommandHeader;
  try {
    header = parseCommandHeader(packet);
  } catch (e) {
    if (!isProtocolError(e)) throw e;
    // Reserved SPI values: the header is whole, so the TAR can be echoed with 06 (unsecured).
    if (e.code === 'MALFORMED' && packet.length >= 10) {
      return errorPor(packet.subarray(7, 10), undefined, PorStatus.UNDEFINED_SECURITY_ERROR, ((packet[4] ?? 0) & 0x20) !== 0);
    }
    return { por: undefined, porViaSubmit: false, status: undefined };
  }
  const { spi, tar } = header;
  const viaSubmit = spi.porViaSubmit;
  const target: TarRecord | undefined = state.tars.find((t) => t.tar === toHex(tar));
  if (!target) return errorPor(tar, spi, PorStatus.TAR_UNKNOWN, viaSubmit);
  if (!meetsMinimumSecurity(spi, target.msl)) return errorPor(tar, spi, PorStatus.INSUFFICIENT_SECURITY_LEVEL, viaSubmit);

  const decoded = decodeCommandPacket(packet, resolveKeys(state));
  if (!decoded.ok) {
    return decoded.malformed ? { por: undefined, porViaSubmit: false, status: undefined } : errorPor(tar, spi, decoded.status, viaSubmit);
  }
  // TS 102 225 §5.1.1: the counter belongs to the keyset that authenticates the packet.
  const keyset = keysetByIndex(state, spi.integrity === 'cc' ? header.kid : header.kic);
  if (!keyset) return errorPor(tar, spi, PorStatus.UNDEFINED_SECURITY_ERROR, viaSubmit);
  const counter = checkCounter(spi.counter, decoded.cntr, keyset.counter);
  if (!counter.ok) return errorPor(tar, spi, counter.status, viaSubmit);

  // One transaction for the counter and the whole script: a tear anywhere leaves the card as
  // before the packet (and the packet may then be sent again), never half-applied.
  const { executed, last } = ctx.memory.transaction((draft, checkpoint) => {
    draft.keysets[keyset.index - 1]!.counter = counter.next;
    checkpoint('ota-counter-written');
    return runScript(decoded.data, { memory: ctx.memory, random: ctx.random, ota: { keysetIndex: keyset.index } });
  });
  const failed = !isSuccessful(last.sw);
  if (spi.por === 'none' || (spi.por === 'on-error' && !failed)) return { por: undefined, porViaSubmit: viaSubmit, status: PorStatus.OK };
  // Secured with the keys that opened the command, even if the script replaced them (PUT KEY).
  const por = encodeResponsePacket({
    spi,
    tar,
    cntr: decoded.cntr,
    status: PorStatus.OK,
    data: encodeCompactResponse({ executed, sw: last.sw, data: last.data }),
    ...(decoded.kicKey ? { kicKey: decoded.kicKey } : {}),
    ...(decoded.kidKey ? { kidKey: decoded.kidKey } : {}),
  });
  return { por, porViaSubmit: viaSubmit, status: PorStatus.OK };
}
