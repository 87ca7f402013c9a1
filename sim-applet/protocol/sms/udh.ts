/**
 * User Data Header (TS 23.040 §9.2.3.24): UDHL, then information elements `IEI | IEDL | IED`.
 * Parsing is structural and keeps every IE, unknown ones included; the typed readers below
 * check the IEs this project relies on: concatenation (0x00, 0x08) and the TS 31.115
 * secured packet identifiers (0x70 command, 0x71 response).
 */
import { fail } from '../../errors.js';

export interface InformationElement {
  iei: number;
  value: Uint8Array;
}

export const IEI = {
  /** §9.2.3.24.1: concatenated short messages, 8-bit reference. */
  CONCAT_8BIT: 0x00,
  SPECIAL_SMS_INDICATION: 0x01,
  PORT_8BIT: 0x04,
  PORT_16BIT: 0x05,
  /** §9.2.3.24.8: concatenated short messages, 16-bit reference. */
  CONCAT_16BIT: 0x08,
  /** TS 31.115: command packet identifier (CPI), no data. */
  COMMAND_PACKET: 0x70,
  /** TS 31.115: response packet identifier (RPI), no data. */
  RESPONSE_PACKET: 0x71,
} as const;

export interface UdhSplit {
  ies: InformationElement[];
  /** UDHL + 1: the octets the header occupies. */
  headerLength: number;
  /** The user data after the header (a view). */
  payload: Uint8Array;
}

/** Split user data that starts with a UDH (TP-UDHI set) into its IEs and the rest. */
export function splitUdh(ud: Uint8Array): UdhSplit {
  if (!(ud instanceof Uint8Array)) fail('INVALID_ARGUMENT', 'user data must be a Uint8Array', { field: 'ud' });
  if (ud.length === 0) fail('TRUNCATED', 'UDHL missing', { field: 'udhl' });
  const headerLength = ud[0]! + 1;
  if (headerLength > ud.length) {
    fail('LENGTH_MISMATCH', `UDHL ${ud[0]} overruns the user data`, { field: 'udhl', udhl: ud[0], available: ud.length - 1 });
  }
  return { ies: parseIes(ud.subarray(1, headerLength)), headerLength, payload: ud.subarray(headerLength) };
}

/** The IEs of a header body (the octets after UDHL); every IE must end inside it. */
export function parseIes(body: Uint8Array): InformationElement[] {
  const ies: InformationElement[] = [];
  let i = 0;
  while (i < body.length) {
    if (i + 2 > body.length) fail('LENGTH_MISMATCH', 'IE header overruns the UDH', { field: 'udh.ie', offset: i, iei: body[i] });
    const iei = body[i]!;
    const length = body[i + 1]!;
    const end = i + 2 + length;
    if (end > body.length) {
      fail('LENGTH_MISMATCH', `IE ${iei} length ${length} overruns the UDH`, { field: 'udh.ie', offset: i, iei, length });
    }
    ies.push({ iei, value: body.subarray(i + 2, end) });
    i = end;
  }
  return ies;
}

/** Octets the encoded header takes, UDHL included. */
export function udhLength(ies: readonly InformationElement[]): number {
  let n = 1;
  for (const ie of ies) n += 2 + ie.value.length;
  return n;
}

/** UDHL and the IEs. A header over 139 octets cannot fit the 140 of one SMS: TOO_LONG. */
export function encodeUdh(ies: readonly InformationElement[]): Uint8Array {
  if (!Array.isArray(ies)) fail('INVALID_ARGUMENT', 'udh must be an array of IEs', { field: 'udh' });
  ies.forEach((ie, index) => {
    if (ie === null || typeof ie !== 'object' || !Number.isInteger(ie.iei) || ie.iei < 0 || ie.iei > 0xff) {
      fail('INVALID_ARGUMENT', 'IEI must be a byte', { field: 'udh.iei', index });
    }
    if (!(ie.value instanceof Uint8Array)) fail('INVALID_ARGUMENT', 'IE value must be a Uint8Array', { field: 'udh.value', index });
  });
  const length = udhLength(ies);
  if (length > 140) fail('TOO_LONG', 'UDH over 139 octets', { field: 'udh', length });
  const out = new Uint8Array(length);
  out[0] = length - 1;
  let o = 1;
  for (const ie of ies) {
    out[o] = ie.iei;
    out[o + 1] = ie.value.length;
    out.set(ie.value, o + 2);
    o += 2 + ie.value.length;
  }
  return out;
}

// ---------------------------------------------------------------- typed IEs

export interface ConcatInfo {
  ref: number;
  /** Number of parts, 1–255. */
  total: number;
  /** This part's number, 1–total. */
  seq: number;
  refBits: 8 | 16;
}

export function concatIe(info: ConcatInfo): InformationElement {
  const maxRef = info.refBits === 16 ? 0xffff : 0xff;
  if (info.refBits !== 8 && info.refBits !== 16) fail('INVALID_ARGUMENT', 'refBits must be 8 or 16', { field: 'refBits', value: info.refBits });
  if (!Number.isInteger(info.ref) || info.ref < 0 || info.ref > maxRef) {
    fail('INVALID_ARGUMENT', `concatenation reference must be 0..${maxRef}`, { field: 'ref', value: info.ref });
  }
  checkParts(info.total, info.seq, 'INVALID_ARGUMENT');
  return info.refBits === 8
    ? { iei: IEI.CONCAT_8BIT, value: Uint8Array.of(info.ref, info.total, info.seq) }
    : { iei: IEI.CONCAT_16BIT, value: Uint8Array.of(info.ref >> 8, info.ref & 0xff, info.total, info.seq) };
}

function checkParts(total: number, seq: number, code: 'MALFORMED' | 'INVALID_ARGUMENT'): void {
  // §9.2.3.24.1: a total or sequence number of 0, or a sequence number over the total, shall be ignored as a whole IE; here it is an error.
  if (!Number.isInteger(total) || total < 1 || total > 255) fail(code, 'concatenation total must be 1..255', { field: 'concat.total', value: total });
  if (!Number.isInteger(seq) || seq < 1 || seq > total) fail(code, 'concatenation sequence number must be 1..total', { field: 'concat.seq', value: seq, total });
}

/** The concatenation IE (0x00 or 0x08) read and checked. */
export function decodeConcatIe(ie: InformationElement): ConcatInfo {
  const v = ie.value;
  if (ie.iei === IEI.CONCAT_8BIT) {
    if (v.length !== 3) fail('MALFORMED', 'concatenation IE (8-bit reference) must be 3 octets', { field: 'concat', length: v.length });
    checkParts(v[1]!, v[2]!, 'MALFORMED');
    return { ref: v[0]!, total: v[1]!, seq: v[2]!, refBits: 8 };
  }
  if (ie.iei === IEI.CONCAT_16BIT) {
    if (v.length !== 4) fail('MALFORMED', 'concatenation IE (16-bit reference) must be 4 octets', { field: 'concat', length: v.length });
    checkParts(v[2]!, v[3]!, 'MALFORMED');
    return { ref: (v[0]! << 8) | v[1]!, total: v[2]!, seq: v[3]!, refBits: 16 };
  }
  return fail('INVALID_ARGUMENT', 'not a concatenation IE', { field: 'iei', value: ie.iei });
}

/** The concatenation of a header, if any; §9.2.3.24: of repeated non-repeatable IEs the last one counts. */
export function findConcat(ies: readonly InformationElement[]): ConcatInfo | undefined {
  for (let i = ies.length - 1; i >= 0; i--) {
    const ie = ies[i]!;
    if (ie.iei === IEI.CONCAT_8BIT || ie.iei === IEI.CONCAT_16BIT) return decodeConcatIe(ie);
  }
  return undefined;
}

export function isConcatIe(ie: InformationElement): boolean {
  return ie.iei === IEI.CONCAT_8BIT || ie.iei === IEI.CONCAT_16BIT;
}

export type PacketKind = 'command' | 'response';

export function packetIdentifierIe(kind: PacketKind): InformationElement {
  if (kind !== 'command' && kind !== 'response') fail('INVALID_ARGUMENT', "kind must be 'command' or 'response'", { field: 'kind', value: kind });
  return { iei: kind === 'command' ? IEI.COMMAND_PACKET : IEI.RESPONSE_PACKET, value: new Uint8Array(0) };
}

/**
 * Which TS 31.115 secured packet the header announces: 0x70 command, 0x71 response, or
 * none. The identifiers carry no data (TS 31.115); both at once is MALFORMED.
 */
export function packetKindOf(ies: readonly InformationElement[]): PacketKind | undefined {
  let kind: PacketKind | undefined;
  for (const ie of ies) {
    if (ie.iei !== IEI.COMMAND_PACKET && ie.iei !== IEI.RESPONSE_PACKET) continue;
    const k: PacketKind = ie.iei === IEI.COMMAND_PACKET ? 'command' : 'response';
    if (ie.value.length !== 0) fail('MALFORMED', `${k} packet identifier must be empty`, { field: 'udh.packetIdentifier', iei: ie.iei, length: ie.value.length });
    if (kind !== undefined && kind !== k) fail('MALFORMED', 'both command and response packet identifiers', { field: 'udh.packetIdentifier' });
    kind = k;
  }
  return kind;
}
