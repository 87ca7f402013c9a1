/**
 * The SMS user data header in front of a secured packet (TS 31.115 §4.2, §4.3): UDHL 02 and
 * one IE with no data, 70 (command packet identifier, CPI) or 71 (response packet, RPI).
 */
import { fail } from '../../errors.js';

// Not re-exported by index.ts: a typed array cannot be frozen, so callers get no handle on them.
export const COMMAND_UDH: Readonly<Uint8Array> = Uint8Array.of(0x02, 0x70, 0x00);
export const RESPONSE_UDH: Readonly<Uint8Array> = Uint8Array.of(0x02, 0x71, 0x00);
export const UDH_LENGTH = 3;

/** Throws unless `userData` starts with `udh`; TRUNCATED when shorter, MALFORMED when different. */
export function expectUdh(userData: Uint8Array, udh: Readonly<Uint8Array>, what: string): void {
  if (!(userData instanceof Uint8Array)) fail('INVALID_ARGUMENT', `${what} user data must be bytes`, { field: 'userData' });
  if (userData.length < UDH_LENGTH) {
    fail('TRUNCATED', `${what} user data is shorter than its header`, { field: 'udh', length: userData.length });
  }
  if (userData[0] !== udh[0] || userData[1] !== udh[1] || userData[2] !== udh[2]) {
    fail('MALFORMED', `${what} user data must start with UDH ${Buffer.from(udh).toString('hex')}`, {
      field: 'udh',
      actual: Buffer.from(userData.subarray(0, UDH_LENGTH)).toString('hex'),
    });
  }
}

/** SMS user data of a command packet: UDH 027000 then the packet (from CPL on). */
export function commandUserData(packet: Uint8Array): Uint8Array {
  if (!(packet instanceof Uint8Array)) fail('INVALID_ARGUMENT', 'packet must be bytes', { field: 'packet' });
  const out = Buffer.allocUnsafe(UDH_LENGTH + packet.length);
  out.set(COMMAND_UDH, 0);
  out.set(packet, UDH_LENGTH);
  return out;
}

/** The command packet in SMS user data that starts with UDH 027000 (a view, not a copy). */
export function commandPacketFromUserData(userData: Uint8Array): Uint8Array {
  expectUdh(userData, COMMAND_UDH, 'command');
  return userData.subarray(UDH_LENGTH);
}
