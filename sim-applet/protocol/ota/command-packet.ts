/**
 * Backend side: build a secured command packet (TS 102 225 §5.1, TS 31.115 §4.2).
 *
 *   CPL(2) | CHL | SPI(2) | KIc | KID | TAR(3) | CNTR(5) | PCNTR | CC | data | padding
 *
 * CPL counts the bytes after itself; CHL = 13 + CC length. Ciphered: zero padding brings
 * CNTR..end to a block multiple and PCNTR counts it; the CC covers CPL..padding without
 * itself and is computed first; then CNTR..padding is ciphered under KIc. Not ciphered: no
 * padding, PCNTR 0. Unlike pySim's encoder, CPL is present in both cases.
 */
import { fail } from '../../errors.js';
import { checkCounterValue } from './counter.js';
import { CHL_BASE, COMMAND_HEADER_LENGTH, COMMAND_LAYOUT, COMMAND_OFFSET } from './command-header.js';
import { checkBytes, checkCodingByte, checkTar, requireKey } from './fields.js';
import { algorithmFor } from './key-coding.js';
import type { OtaKey } from './keys.js';
import { CC_LENGTH } from './mac.js';
import { paddingFor, sealInto } from './seal.js';
import { spiToUint16, type Spi } from './spi.js';
import { COMMAND_UDH, UDH_LENGTH } from './user-data.js';

export interface CommandPacketInput {
  spi: Spi;
  /** KIc coding byte: key index << 4 | algorithm nibble. */
  kic: number;
  /** KID coding byte. */
  kid: number;
  /** 3 bytes. */
  tar: Uint8Array;
  /** CNTR, 0..2^40-1. */
  cntr: number;
  /** Needed when spi.ciphered. */
  kicKey?: OtaKey;
  /** Needed when spi.integrity is 'cc'. */
  kidKey?: OtaKey;
  /** Secured data: for an applet, concatenated C-APDUs (TS 102 226 compact format). */
  data: Uint8Array;
}

const MAX_CPL = 0xffff;

function buildCommand(input: CommandPacketInput, withUdh: boolean): Buffer {
  if (typeof input !== 'object' || input === null) fail('INVALID_ARGUMENT', 'command input must be an object', { field: 'input' });
  const { spi, kic, kid, tar, cntr, data } = input;
  const spiValue = spiToUint16(spi);
  if (spi.integrity === 'rc' || spi.integrity === 'ds') {
    fail('UNSUPPORTED', `integrity '${spi.integrity}' is not offered; use 'cc' or 'none'`, { field: 'spi.integrity', value: spi.integrity });
  }
  checkCodingByte(kic, 'kic');
  checkCodingByte(kid, 'kid');
  checkTar(tar);
  checkCounterValue(cntr, 'cntr');
  checkBytes(data, 'data');
  // The coding byte of a key that is not used is sent as given: the card ignores it.
  const kicKey = requireKey(input.kicKey, spi.ciphered, 'kicKey', 'the SPI asks for ciphering');
  const kidKey = requireKey(input.kidKey, spi.integrity === 'cc', 'kidKey', 'the SPI asks for a CC');
  if (kicKey !== undefined) algorithmFor(kic, 'kic', kicKey);
  if (kidKey !== undefined) algorithmFor(kid, 'kid', kidKey);

  const ccLength = kidKey === undefined ? 0 : CC_LENGTH;
  const padding = kicKey === undefined ? 0 : paddingFor(kicKey.blockSize, COMMAND_HEADER_LENGTH - COMMAND_OFFSET.CNTR + ccLength + data.length);
  const packetLength = COMMAND_HEADER_LENGTH + ccLength + data.length + padding;
  const cpl = packetLength - 2;
  if (cpl > MAX_CPL) fail('TOO_LONG', `the packet would need CPL ${cpl}, over ${MAX_CPL}`, { field: 'data', cpl });

  const base = withUdh ? UDH_LENGTH : 0;
  // Zero-filled: the padding must be zeros (and sealInto relies on it).
  const out = Buffer.alloc(base + packetLength);
  if (withUdh) out.set(COMMAND_UDH, 0);
  const packet = withUdh ? out.subarray(base) : out;
  packet.writeUInt16BE(cpl, COMMAND_OFFSET.CPL);
  packet[COMMAND_OFFSET.CHL] = CHL_BASE + ccLength;
  packet.writeUInt16BE(spiValue, COMMAND_OFFSET.SPI);
  packet[COMMAND_OFFSET.KIC] = kic;
  packet[COMMAND_OFFSET.KID] = kid;
  packet.set(tar, COMMAND_OFFSET.TAR);
  packet.writeUIntBE(cntr, COMMAND_OFFSET.CNTR, 5);
  packet[COMMAND_OFFSET.PCNTR] = padding;
  sealInto(packet, COMMAND_LAYOUT, data, kidKey, kicKey);
  return out;
}

/**
 * The secured command packet from CPL on (no UDH). Raises INVALID_ARGUMENT for a bad field
 * or a missing key, or when a KIc/KID nibble names another algorithm than its key;
 * UNKNOWN_ALGORITHM/UNSUPPORTED for a coding byte in use that is not offered; UNSUPPORTED
 * for RC/DS; TOO_LONG past CPL 65535.
 */
export function encodeCommandPacket(input: CommandPacketInput): Uint8Array {
  return buildCommand(input, false);
}

/** The same packet as SMS user data, UDH 027000 first (one allocation). */
export function encodeCommandUserData(input: CommandPacketInput): Uint8Array {
  return buildCommand(input, true);
}
