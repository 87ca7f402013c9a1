/**
 * Card side: check and open a secured command packet (TS 102 225 §5.1, §5.2.2). Never
 * throws on any packet: the outcome is the data, or the PoR status the card must answer,
 * or "malformed" (no usable header: the card discards it and answers nothing).
 *
 * Counter (02/03/04), TAR (09) and minimum security level (0A) are the card's own checks,
 * done with `parseCommandHeader`, `checkCounter` and the result's header and cntr.
 */
import { isProtocolError, type ProtocolErrorCode } from '../../errors.js';
import { CHL_BASE, COMMAND_LAYOUT, COMMAND_OFFSET, parseCommandHeader, type CommandHeader } from './command-header.js';
import { decodeKeyCoding, type KeyRole } from './key-coding.js';
import { isOtaKey, type OtaKey } from './keys.js';
import { CC_LENGTH } from './mac.js';
import { PorStatus } from './por-status.js';
import { checksumMatches, paddingProblem, unseal } from './seal.js';

/** The card's keys for the KIc and KID coding bytes of a packet (undefined: none). */
export interface CommandKeys {
  kicKey?: OtaKey;
  kidKey?: OtaKey;
}
export type ResolveKeys = (kic: number, kid: number) => CommandKeys | undefined;

export interface DecodedCommand {
  ok: true;
  header: CommandHeader;
  cntr: number;
  pcntr: number;
  /** The CC as received and verified (empty without one). */
  cc: Uint8Array;
  /** Secured data without padding. */
  data: Uint8Array;
  /** The keys checked for this packet, to secure its PoR with (TS 102 225 §5.2: same keys). */
  kicKey?: OtaKey;
  kidKey?: OtaKey;
}

/** A packet the card answers with an error PoR. */
export interface RejectedCommand {
  ok: false;
  malformed: false;
  status: typeof PorStatus.RC_CC_DS_FAILED | typeof PorStatus.CIPHERING_ERROR | typeof PorStatus.UNDEFINED_SECURITY_ERROR;
  reason: string;
  /** The header field at fault. */
  field: string;
  /** Present once the SPI could be read. */
  header?: CommandHeader;
}

/** A packet without a usable header: too short, or CPL disagreeing with its length. No PoR. */
export interface MalformedCommand {
  ok: false;
  malformed: true;
  /** TRUNCATED or LENGTH_MISMATCH. */
  code: ProtocolErrorCode;
  reason: string;
  field: string;
}

export type CommandDecodeResult = DecodedCommand | RejectedCommand | MalformedCommand;

function reject(status: RejectedCommand['status'], field: string, reason: string, header?: CommandHeader): RejectedCommand {
  return header === undefined ? { ok: false, malformed: false, status, reason, field } : { ok: false, malformed: false, status, reason, field, header };
}

function malformed(code: ProtocolErrorCode, field: string, reason: string): MalformedCommand {
  return { ok: false, malformed: true, code, reason, field };
}

/** The status a key problem gets: 05 for KIc, 06 for KID (TS 102 225 §5.2.2 Table 5). */
function keyStatus(role: KeyRole): RejectedCommand['status'] {
  return role === 'kic' ? PorStatus.CIPHERING_ERROR : PorStatus.UNDEFINED_SECURITY_ERROR;
}

/** The key for a coding byte, or why there is none. */
function pickKey(byte: number, role: KeyRole, key: unknown): OtaKey | string {
  let coded;
  try {
    coded = decodeKeyCoding(byte, role).algorithm;
  } catch (e) {
    if (isProtocolError(e)) return e.shortMessage;
    throw e;
  }
  if (key === undefined) return `no ${role === 'kic' ? 'KIc' : 'KID'} key for index ${byte >>> 4}`;
  if (!isOtaKey(key)) return `the ${role} key given for index ${byte >>> 4} is not an OtaKey`;
  if (coded !== 'implicit' && coded !== key.algorithm) return `${role} names ${coded} but key ${byte >>> 4} is ${key.algorithm}`;
  return key;
}

/**
 * Check and open `packet` (from CPL on, no UDH) with the keys `resolveKeys` gives for its
 * KIc and KID bytes. Only an exception thrown by `resolveKeys` itself passes through.
 *
 * Order (later checks assume earlier ones): structure (malformed) → SPI reserved bits or
 * RC/DS (06) → CHL (06) → KIc (05) and KID (06) → ciphertext length (05) → CC (01) →
 * PCNTR and padding (05). The CC is checked before the padding is looked at, so a forged
 * packet can only ever learn 01, never a padding verdict (no padding oracle).
 */
export function decodeCommandPacket(packet: Uint8Array, resolveKeys: ResolveKeys): CommandDecodeResult {
  let header: CommandHeader;
  try {
    header = parseCommandHeader(packet);
  } catch (e) {
    if (!isProtocolError(e)) throw e;
    if (e.code === 'MALFORMED') return reject(PorStatus.UNDEFINED_SECURITY_ERROR, 'spi', e.shortMessage);
    return malformed(e.code, String(e.details.field ?? 'packet'), e.shortMessage);
  }
  const { spi } = header;
  if (spi.integrity === 'rc' || spi.integrity === 'ds' || spi.porIntegrity === 'rc' || spi.porIntegrity === 'ds') {
    return reject(PorStatus.UNDEFINED_SECURITY_ERROR, 'spi', 'RC and DS are not supported, only CC', header);
  }
  const ccLength = spi.integrity === 'cc' ? CC_LENGTH : 0;
  if (header.chl !== CHL_BASE + ccLength) {
    return reject(PorStatus.UNDEFINED_SECURITY_ERROR, 'chl', `CHL ${header.chl} does not fit the SPI (${CHL_BASE + ccLength})`, header);
  }
  if (packet.length < COMMAND_LAYOUT.ccStart + ccLength) {
    return malformed('TRUNCATED', 'cc', 'the packet ends inside its header');
  }

  // The PoR is secured with the same keys, so they are needed when only the PoR uses them.
  const porSent = spi.por !== 'none';
  const needKic = spi.ciphered || (porSent && spi.porCiphered);
  const needKid = spi.integrity === 'cc' || (porSent && spi.porIntegrity === 'cc');
  const keys = needKic || needKid ? resolveKeys(header.kic, header.kid) : undefined;
  let kicKey: OtaKey | undefined;
  let kidKey: OtaKey | undefined;
  if (needKic) {
    const k = pickKey(header.kic, 'kic', keys?.kicKey);
    if (typeof k === 'string') return reject(keyStatus('kic'), 'kic', k, header);
    kicKey = k;
  }
  if (needKid) {
    const k = pickKey(header.kid, 'kid', keys?.kidKey);
    if (typeof k === 'string') return reject(keyStatus('kid'), 'kid', k, header);
    kidKey = k;
  }

  const cipherKey = spi.ciphered ? kicKey : undefined;
  if (cipherKey !== undefined && (packet.length - COMMAND_LAYOUT.cipherStart) % cipherKey.blockSize !== 0) {
    return reject(PorStatus.CIPHERING_ERROR, 'ciphertext', `the ciphered part is not a multiple of ${cipherKey.blockSize} bytes`, header);
  }
  const opened = unseal(packet, COMMAND_LAYOUT, ccLength, cipherKey);
  if (ccLength > 0 && !checksumMatches(opened, COMMAND_LAYOUT, kidKey!)) {
    return reject(PorStatus.RC_CC_DS_FAILED, 'cc', 'the CC does not verify', header);
  }
  const pcntr = opened.plain[COMMAND_OFFSET.PCNTR]!;
  const problem = paddingProblem(pcntr, opened.body, cipherKey?.blockSize);
  if (problem !== undefined) return reject(PorStatus.CIPHERING_ERROR, problem.field, problem.reason, header);

  const result: DecodedCommand = {
    ok: true,
    header,
    cntr: opened.plain.readUIntBE(COMMAND_OFFSET.CNTR, 5),
    pcntr,
    cc: opened.cc,
    data: opened.body.subarray(0, opened.body.length - pcntr),
  };
  if (kicKey !== undefined) result.kicKey = kicKey;
  if (kidKey !== undefined) result.kidKey = kidKey;
  return result;
}
