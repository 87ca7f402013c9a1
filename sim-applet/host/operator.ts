/**
 * The operator's side of an OTA exchange, from the protocol layer only: a command list
 * becomes the SMS user data parts an SMSC sends (TS 31.115 concatenation when it needs more
 * than one SMS), and the SMS parts of a PoR become its decoded fields. The backend, the
 * simulators, the demo and the tests all build their exchanges with these.
 */
import type { CommandApdu } from '../protocol/apdu.js';
import { decodeCompactResponse, encodeCompactCommands, type CompactResponse } from '../protocol/compact.js';
import {
  decodeResponsePacket,
  encodeCommandUserData,
  encodeKeyCoding,
  type DecodedResponse,
  type OtaKey,
  type Spi,
} from '../protocol/ota/index.js';
import { encodeSmsDeliver, reassemble, sctsFromDate, segmentOtaPacket, type Address } from '../protocol/sms/index.js';
import { fail } from '../errors.js';

/** One SMS carries 140 octets of user data (TS 23.040 §9.2.3.24). */
export const SMS_USER_DATA_OCTETS = 140;
/** TS 23.040 §9.2.3.9 / §9.2.3.10: SIM data download, 8-bit data, class 2 (SIM specific). */
export const PID_SIM_DATA_DOWNLOAD = 0x7f;
export const DCS_SIM_SPECIFIC_8BIT = 0xf6;

/**
 * The SPI the operator administers the simchain applet with: ciphered, CC, counter must be
 * higher (the TAR's minimum security level), PoR always, ciphered and CC'd, by SMS-SUBMIT
 * (so it can come back over SMPP in as many parts as it needs).
 */
export const ADMIN_SPI: Readonly<Spi> = Object.freeze({
  integrity: 'cc',
  ciphered: true,
  counter: 'higher',
  por: 'always',
  porIntegrity: 'cc',
  porCiphered: true,
  porViaSubmit: true,
});

export interface OperatorKeyset {
  /** Key index 1..15 as the card knows it. */
  index: number;
  kic: OtaKey;
  kid: OtaKey;
}

export interface OtaCommand {
  spi: Spi;
  keyset: OperatorKeyset;
  /** 3 bytes */
  tar: Uint8Array;
  cntr: number;
  /** C-APDUs, or secured data already in compact form. */
  commands: readonly CommandApdu[] | Uint8Array;
  /** Concatenation reference when the packet needs several SMS (default: the counter's low byte). */
  ref?: number;
}

/** The SMS user data parts of a secured command packet, in sending order. */
export function commandSmsUserData(c: OtaCommand): Uint8Array[] {
  const data = c.commands instanceof Uint8Array ? c.commands : encodeCompactCommands(c.commands);
  const userData = encodeCommandUserData({
    spi: c.spi,
    kic: encodeKeyCoding({ index: c.keyset.index, algorithm: c.keyset.kic.algorithm }, 'kic'),
    kid: encodeKeyCoding({ index: c.keyset.index, algorithm: c.keyset.kid.algorithm }, 'kid'),
    tar: c.tar,
    cntr: c.cntr,
    kicKey: c.keyset.kic,
    kidKey: c.keyset.kid,
    data,
  });
  if (userData.length <= SMS_USER_DATA_OCTETS) return [userData];
  return segmentOtaPacket(userData.subarray(3), 'command', c.ref ?? c.cntr & 0xff);
}

/** The SMS-DELIVER an SMSC hands to the handset for one part (TP-PID 7F, TP-DCS F6, TP-UDHI set). */
export function smsDeliverOf(userData: Uint8Array, originator: Address, at: Date): Uint8Array {
  return encodeSmsDeliver({ oa: originator, pid: PID_SIM_DATA_DOWNLOAD, dcs: DCS_SIM_SPECIFIC_8BIT, scts: sctsFromDate(at), ud: userData, udhi: true });
}

/** The PoR's user data in single-SMS form (UDH 027100 + response packet) from the parts it came in. */
export function porUserDataOf(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 0) fail('INVALID_ARGUMENT', 'no PoR parts', { field: 'parts' });
  if (parts.length === 1 && parts[0]![0] === 0x02 && parts[0]![1] === 0x71) return parts[0]!;
  const message = reassemble([...parts]);
  if (message.kind !== 'response') fail('MALFORMED', 'the parts are not a response packet (IE 71)', { field: 'parts' });
  return Buffer.concat([Uint8Array.of(0x02, 0x71, 0x00), message.data]);
}

export interface PorReading {
  por: DecodedResponse;
  /** The TS 102 226 compact response, when the PoR is OK and carries one. */
  response: CompactResponse | undefined;
}

/** Decode and check a PoR with the keyset and SPI of the command it answers. */
export function readPor(porUserData: Uint8Array, spi: Spi, keyset: OperatorKeyset): PorReading {
  const por = decodeResponsePacket(porUserData, { spi, kicKey: keyset.kic, kidKey: keyset.kid });
  const response = por.status === 0 && por.data.length >= 3 ? decodeCompactResponse(por.data) : undefined;
  return { por, response };
}
