/**
 * The Proof of Receipt, as SMS user data (TS 102 225 §5.2, TS 31.115 §4.3 and §7):
 *
 *   02 71 00 | RPL(2) | RHL | TAR(3) | CNTR(5) | PCNTR | status | CC | data | padding
 *
 * RPL counts the bytes after itself; RHL = 10 + CC length. Its security follows SPI byte 2
 * of the command: the CC covers the UDH and every byte but the CC, computed before
 * ciphering; the ciphering covers CNTR..padding with the command's KIc. UDH, RPL, RHL and
 * TAR stay in clear. A card may answer an error unsecured (RHL 10, PCNTR 0, in clear).
 */
import { fail } from '../../errors.js';
import { checkCounterValue } from './counter.js';
import { checkBytes, checkTar, requireKey } from './fields.js';
import type { OtaKey } from './keys.js';
import { CC_LENGTH } from './mac.js';
import { isPorStatusCode, porStatusName, type PorStatusCode, type PorStatusName } from './por-status.js';
import { checksumMatches, paddingFor, paddingProblem, sealInto, unseal, type SealLayout } from './seal.js';
import { spiToUint16, type IntegrityMode, type Spi } from './spi.js';
import { expectUdh, RESPONSE_UDH } from './user-data.js';

/** Offsets in the user data, UDH included. */
const OFFSET = { RPL: 3, RHL: 5, TAR: 6, CNTR: 9, PCNTR: 14, STATUS: 15, CC: 16 } as const;
/** UDH through status: the shortest PoR. */
const POR_HEADER_LENGTH = 16;
/** TS 102 225 §5.2.1: RHL counts TAR..status (10) plus the RC/CC/DS. */
const RHL_BASE = 10;
const POR_LAYOUT: SealLayout = { cipherStart: OFFSET.CNTR, ccStart: OFFSET.CC };
const MAX_RPL = 0xffff;

export interface ResponsePacketInput {
  /** The SPI of the command answered: its byte 2 says how to secure the PoR. */
  spi: Spi;
  tar: Uint8Array;
  /** The CNTR to report (the command's). */
  cntr: number;
  status: PorStatusCode;
  /** For an applet: the TS 102 226 compact response (count, last SW, last data). */
  data: Uint8Array;
  kicKey?: OtaKey;
  kidKey?: OtaKey;
  /** false: send unsecured whatever the SPI asks (error PoR as real cards do). Default true. */
  secured?: boolean;
}

function unsupportedIntegrity(mode: IntegrityMode): never {
  fail('UNSUPPORTED', `PoR integrity '${mode}' is not offered; use 'cc' or 'none'`, { field: 'spi.porIntegrity', value: mode });
}

/**
 * Card side: the PoR as SMS user data (UDH 027100 first). INVALID_ARGUMENT for a bad field or
 * a key the SPI needs and that is missing; UNSUPPORTED for RC/DS; TOO_LONG past RPL 65535.
 */
export function encodeResponsePacket(input: ResponsePacketInput): Uint8Array {
  if (typeof input !== 'object' || input === null) fail('INVALID_ARGUMENT', 'PoR input must be an object', { field: 'input' });
  const { spi, tar, cntr, status, data } = input;
  spiToUint16(spi);
  const secured = input.secured ?? true;
  if (typeof secured !== 'boolean') fail('INVALID_ARGUMENT', 'secured must be a boolean', { field: 'secured' });
  checkTar(tar);
  checkCounterValue(cntr, 'cntr');
  if (!isPorStatusCode(status)) fail('INVALID_ARGUMENT', 'status must be a PoR status 0x00..0x0C', { field: 'status', value: status });
  checkBytes(data, 'data');
  const integrity = secured ? spi.porIntegrity : 'none';
  if (integrity === 'rc' || integrity === 'ds') unsupportedIntegrity(integrity);
  const kicKey = requireKey(input.kicKey, secured && spi.porCiphered, 'kicKey', 'the SPI asks for a ciphered PoR');
  const kidKey = requireKey(input.kidKey, integrity === 'cc', 'kidKey', 'the SPI asks for a PoR with CC');

  const ccLength = kidKey === undefined ? 0 : CC_LENGTH;
  const padding = kicKey === undefined ? 0 : paddingFor(kicKey.blockSize, POR_HEADER_LENGTH - OFFSET.CNTR + ccLength + data.length);
  const length = POR_HEADER_LENGTH + ccLength + data.length + padding;
  const rpl = length - OFFSET.RHL;
  if (rpl > MAX_RPL) fail('TOO_LONG', `the PoR would need RPL ${rpl}, over ${MAX_RPL}`, { field: 'data', rpl });

  const out = Buffer.alloc(length);
  out.set(RESPONSE_UDH, 0);
  out.writeUInt16BE(rpl, OFFSET.RPL);
  out[OFFSET.RHL] = RHL_BASE + ccLength;
  out.set(tar, OFFSET.TAR);
  out.writeUIntBE(cntr, OFFSET.CNTR, 5);
  out[OFFSET.PCNTR] = padding;
  out[OFFSET.STATUS] = status;
  sealInto(out, POR_LAYOUT, data, kidKey, kicKey);
  return out;
}

export interface DecodedResponse {
  tar: Uint8Array;
  cntr: number;
  pcntr: number;
  status: number;
  statusName: PorStatusName | 'reserved';
  /** Data without padding. */
  data: Uint8Array;
  /** The CC as received (empty when the PoR carries none). */
  cc: Uint8Array;
  ciphered: boolean;
  /** True only when a CC was present and verified. */
  ccValid: boolean;
}

export interface ResponseKeys {
  /** The SPI of the command this PoR answers. */
  spi: Spi;
  kicKey?: OtaKey;
  kidKey?: OtaKey;
}

/**
 * Backend side: read a PoR (SMS user data with UDH 027100). What is secured follows the
 * command's SPI byte 2, except that RHL 10 (in clear) where a CC was asked for means the card
 * answered unsecured: then nothing is deciphered and ccValid is false. A CC that does not
 * verify gives ccValid false, not an error.
 *
 * Throws: TRUNCATED, MALFORMED (UDH; RHL that fits neither 10 nor the SPI's CC),
 * LENGTH_MISMATCH (RPL), INVALID_PADDING (ciphertext not a block multiple, bad PCNTR or
 * padding), UNSUPPORTED (RC/DS), INVALID_ARGUMENT (a key the PoR needs is missing).
 *
 * A PoR the SPI wants ciphered but without CC cannot show that it came back in clear; it is
 * deciphered as asked.
 */
export function decodeResponsePacket(userData: Uint8Array, keys: ResponseKeys): DecodedResponse {
  if (typeof keys !== 'object' || keys === null) fail('INVALID_ARGUMENT', 'keys must be { spi, kicKey?, kidKey? }', { field: 'keys' });
  const { spi } = keys;
  spiToUint16(spi);
  expectUdh(userData, RESPONSE_UDH, 'PoR');
  if (userData.length < POR_HEADER_LENGTH) {
    fail('TRUNCATED', `a PoR has at least ${POR_HEADER_LENGTH} bytes with its UDH`, { field: 'userData', length: userData.length });
  }
  const rpl = (userData[OFFSET.RPL]! << 8) | userData[OFFSET.RPL + 1]!;
  if (rpl !== userData.length - OFFSET.RHL) {
    fail('LENGTH_MISMATCH', `RPL ${rpl} disagrees with the ${userData.length - OFFSET.RHL} bytes after it`, {
      field: 'rpl',
      rpl,
      actual: userData.length - OFFSET.RHL,
    });
  }
  const requested = spi.porIntegrity;
  if (requested === 'rc' || requested === 'ds') unsupportedIntegrity(requested);
  const rhl = userData[OFFSET.RHL]!;
  const ccLength = rhl - RHL_BASE;
  if (ccLength !== 0 && !(requested === 'cc' && ccLength === CC_LENGTH)) {
    fail('MALFORMED', `RHL ${rhl} fits neither an unsecured PoR (10) nor the SPI's checksum`, { field: 'rhl', rhl, requested });
  }
  // TS 102 225 §5.2: a card may answer unsecured; RHL, in clear, is how the receiver knows.
  const answeredInClear = requested === 'cc' && ccLength === 0;
  const ciphered = spi.porCiphered && !answeredInClear;
  const kicKey = requireKey(keys.kicKey, ciphered, 'kicKey', 'the SPI asks for a ciphered PoR');
  const kidKey = requireKey(keys.kidKey, ccLength > 0, 'kidKey', 'the PoR carries a CC');

  const opened = unseal(userData, POR_LAYOUT, ccLength, kicKey);
  const ccValid = kidKey !== undefined && checksumMatches(opened, POR_LAYOUT, kidKey);
  const pcntr = opened.plain[OFFSET.PCNTR]!;
  const problem = paddingProblem(pcntr, opened.body, kicKey?.blockSize);
  if (problem !== undefined) fail('INVALID_PADDING', problem.reason, { field: problem.field, pcntr, ccValid });
  const status = opened.plain[OFFSET.STATUS]!;
  return {
    tar: opened.plain.subarray(OFFSET.TAR, OFFSET.TAR + 3),
    cntr: opened.plain.readUIntBE(OFFSET.CNTR, 5),
    pcntr,
    status,
    statusName: porStatusName(status),
    data: opened.body.subarray(0, opened.body.length - pcntr),
    cc: opened.cc,
    ciphered,
    ccValid,
  };
}
