/**
 * The command packet header as the card reads it before looking up keys (TS 102 225 §5.1.1):
 *
 *   CPL(2) | CHL | SPI(2) | KIc | KID | TAR(3) | CNTR(5) | PCNTR | CC | data | padding
 *
 * CPL..TAR are always in clear, so TAR, SPI and the key indexes are known before any key is.
 */
import { fail } from '../../errors.js';
import { spiFromBytes, type Spi } from './spi.js';

export const COMMAND_OFFSET = { CPL: 0, CHL: 2, SPI: 3, KIC: 5, KID: 6, TAR: 7, CNTR: 10, PCNTR: 15, CC: 16 } as const;
/** CPL through PCNTR: the shortest packet that can exist. */
export const COMMAND_HEADER_LENGTH = 16;
/** TS 102 225 §5.1.1: CHL counts SPI..PCNTR (13) plus the RC/CC/DS. */
export const CHL_BASE = 13;
/** TS 102 225 §5.1: ciphering starts at CNTR. */
export const COMMAND_LAYOUT = { cipherStart: COMMAND_OFFSET.CNTR, ccStart: COMMAND_OFFSET.CC } as const;
export const TAR_LENGTH = 3;

export interface CommandHeader {
  /** Command packet length: bytes after CPL. */
  cpl: number;
  /** Command header length: SPI..end of the CC. */
  chl: number;
  spi: Spi;
  /** KIc coding byte (key index and algorithm). */
  kic: number;
  /** KID coding byte. */
  kid: number;
  tar: Uint8Array;
}

/**
 * Read CPL..TAR of a packet (from CPL on, no UDH). Raises TRUNCATED when shorter than the
 * 16-byte header, LENGTH_MISMATCH when CPL disagrees with the bytes present, MALFORMED
 * (field 'spi') when the SPI uses reserved bits or values. CHL is returned as read: whether
 * it fits the SPI is a security check (decodeCommandPacket answers it with status 06).
 */
export function parseCommandHeader(packet: Uint8Array): CommandHeader {
  if (!(packet instanceof Uint8Array)) fail('INVALID_ARGUMENT', 'packet must be bytes', { field: 'packet' });
  if (packet.length < COMMAND_HEADER_LENGTH) {
    fail('TRUNCATED', `a command packet has at least ${COMMAND_HEADER_LENGTH} bytes`, {
      field: 'packet',
      length: packet.length,
    });
  }
  const cpl = (packet[COMMAND_OFFSET.CPL]! << 8) | packet[COMMAND_OFFSET.CPL + 1]!;
  if (cpl !== packet.length - 2) {
    fail('LENGTH_MISMATCH', `CPL ${cpl} disagrees with the ${packet.length - 2} bytes after it`, {
      field: 'cpl',
      cpl,
      actual: packet.length - 2,
    });
  }
  return {
    cpl,
    chl: packet[COMMAND_OFFSET.CHL]!,
    spi: spiFromBytes(packet[COMMAND_OFFSET.SPI]!, packet[COMMAND_OFFSET.SPI + 1]!),
    kic: packet[COMMAND_OFFSET.KIC]!,
    kid: packet[COMMAND_OFFSET.KID]!,
    tar: Buffer.from(packet.subarray(COMMAND_OFFSET.TAR, COMMAND_OFFSET.TAR + TAR_LENGTH)),
  };
}
