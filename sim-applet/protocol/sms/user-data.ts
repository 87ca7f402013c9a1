/**
 * TP-UDL and TP-UD (TS 23.040 §9.2.3.16, §9.2.3.24), shared by every TPDU. TP-UDL counts
 * septets for GSM 7-bit text (the UD then takes ceil(UDL·7/8) octets; a UDH is counted in
 * septets, fill bits included, so the text starts on a septet boundary) and octets otherwise.
 */
import { fail } from '../../errors.js';
import { udlUnit } from './dcs.js';
import { packSeptets, packedLength, unpackSeptets } from './gsm7.js';
import { encodeUdh, splitUdh, type InformationElement } from './udh.js';

/** One SMS carries 140 octets of user data (§9.2.3.24), 160 septets of 7-bit text. */
export const MAX_UD_OCTETS = 140;
export const MAX_UD_SEPTETS = 160;

export interface UserData {
  udhi: boolean;
  /** TP-UDL as carried. */
  udl: number;
  /** The UD octets as carried, UDH included (a view into the TPDU). */
  ud: Uint8Array;
  /** The header's IEs, present when TP-UDHI is set. */
  udh?: InformationElement[];
  /** 8-bit and UCS2: the octets after the UDH. GSM 7-bit: the septet values (one per byte) after the UDH and fill bits. */
  payload: Uint8Array;
}

/**
 * What a TPDU encoder takes: either the header IEs and payload (any coding; for GSM 7-bit
 * the payload is septet values), or the UD octets as they go on the air with the UDHI flag
 * (8-bit and UCS2 only, where the octet count fixes TP-UDL; the SMS parts of
 * `segmentOtaPacket` go this way).
 */
export type UserDataInput =
  | { udh?: readonly InformationElement[] | undefined; payload: Uint8Array }
  | { ud: Uint8Array; udhi: boolean };

/** Octets a header of `headerOctets` takes in septets, fill bits included. */
function headerSeptets(headerOctets: number): number {
  return Math.ceil((headerOctets * 8) / 7);
}

export function encodeUserData(dcs: number, input: UserDataInput): { udhi: boolean; udl: number; ud: Uint8Array } {
  if (input === null || typeof input !== 'object') fail('INVALID_ARGUMENT', 'user data missing', { field: 'ud' });
  const septets = udlUnit(dcs) === 'septets';
  if ('payload' in input && input.payload !== undefined) {
    const { payload } = input;
    if (!(payload instanceof Uint8Array)) fail('INVALID_ARGUMENT', 'payload must be a Uint8Array', { field: 'payload' });
    const header = input.udh === undefined ? new Uint8Array(0) : encodeUdh(input.udh);
    const udhi = input.udh !== undefined;
    if (!septets) {
      const udl = header.length + payload.length;
      if (udl > MAX_UD_OCTETS) fail('TOO_LONG', `user data ${udl} octets over ${MAX_UD_OCTETS}`, { field: 'ud', length: udl });
      const ud = new Uint8Array(udl);
      ud.set(header, 0);
      ud.set(payload, header.length);
      return { udhi, udl, ud };
    }
    const skip = udhi ? headerSeptets(header.length) : 0;
    const udl = skip + payload.length;
    if (udl > MAX_UD_SEPTETS) fail('TOO_LONG', `user data ${udl} septets over ${MAX_UD_SEPTETS}`, { field: 'ud', length: udl });
    const ud = new Uint8Array(packedLength(udl));
    packSeptets(payload, skip * 7, ud);
    ud.set(header, 0);
    return { udhi, udl, ud };
  }
  if ('ud' in input && input.ud instanceof Uint8Array) {
    if (septets) fail('INVALID_ARGUMENT', 'raw user data needs an 8-bit or UCS2 coding: give udh and septets for GSM 7-bit', { field: 'ud', dcs });
    if (input.ud.length > MAX_UD_OCTETS) fail('TOO_LONG', `user data ${input.ud.length} octets over ${MAX_UD_OCTETS}`, { field: 'ud', length: input.ud.length });
    if (input.udhi) splitUdh(input.ud);
    return { udhi: input.udhi === true, udl: input.ud.length, ud: Uint8Array.from(input.ud) };
  }
  return fail('INVALID_ARGUMENT', 'give either payload (and udh) or ud and udhi', { field: 'ud' });
}

/**
 * TP-UDL at `offset` and the UD after it, which must end the TPDU. UDL beyond the bytes
 * present is LENGTH_MISMATCH, over 140 octets / 160 septets TOO_LONG, bytes after the UD
 * TRAILING_BYTES.
 */
export function decodeUserData(bytes: Uint8Array, offset: number, dcs: number, udhi: boolean): UserData {
  if (offset >= bytes.length) fail('TRUNCATED', 'TP-UDL missing', { field: 'udl', offset });
  const udl = bytes[offset]!;
  const septets = udlUnit(dcs) === 'septets';
  if (septets ? udl > MAX_UD_SEPTETS : udl > MAX_UD_OCTETS) {
    fail('TOO_LONG', `TP-UDL ${udl} over ${septets ? MAX_UD_SEPTETS : MAX_UD_OCTETS}`, { field: 'udl', udl, unit: septets ? 'septets' : 'octets' });
  }
  const octets = septets ? packedLength(udl) : udl;
  const start = offset + 1;
  const available = bytes.length - start;
  if (octets > available) fail('LENGTH_MISMATCH', `TP-UDL ${udl} needs ${octets} octets, ${available} present`, { field: 'udl', udl, octets, available });
  if (octets < available) fail('TRAILING_BYTES', 'bytes after the user data', { field: 'ud', extra: available - octets });
  const ud = bytes.subarray(start, start + octets);
  if (!udhi) return { udhi, udl, ud, payload: septets ? unpackSeptets(ud, udl) : ud };
  if (octets === 0) fail('LENGTH_MISMATCH', 'TP-UDHI set but TP-UDL is 0', { field: 'udhl', udl });
  const { ies, headerLength, payload } = splitUdh(ud);
  if (!septets) return { udhi, udl, ud, udh: ies, payload };
  const skip = headerSeptets(headerLength);
  if (skip > udl) fail('LENGTH_MISMATCH', `UDH takes ${skip} septets, TP-UDL is ${udl}`, { field: 'udhl', udl, headerSeptets: skip });
  return { udhi, udl, ud, udh: ies, payload: unpackSeptets(ud, udl - skip, skip * 7) };
}
