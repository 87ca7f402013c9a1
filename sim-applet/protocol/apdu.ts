/**
 * ISO/IEC 7816-4 §5.1 command and response APDUs: cases 1–4, short and extended length
 * fields. Decoding follows the standard's length rules exactly, so any byte string is
 * either one well-formed APDU or a typed error.
 */
import { fail } from '../errors.js';

export type ApduCase = 1 | 2 | 3 | 4;

export interface CommandApdu {
  cla: number;
  ins: number;
  p1: number;
  p2: number;
  /** Command data (Nc = data.length; empty for cases 1 and 2). */
  data: Uint8Array;
  /** Ne, the maximum number of response bytes expected: 1..256 short, 1..65536 extended; absent for cases 1 and 3. */
  ne?: number;
}

export interface DecodedCommandApdu extends CommandApdu {
  case: ApduCase;
  /** The length fields were extended (3 bytes Lc / 2 or 3 bytes Le). */
  extended: boolean;
}

export interface ResponseApdu {
  data: Uint8Array;
  sw: number;
}

const EMPTY = new Uint8Array(0);

export function apduCase(apdu: Pick<CommandApdu, 'data' | 'ne'>): ApduCase {
  const hasData = apdu.data.length > 0;
  const hasLe = apdu.ne !== undefined;
  return hasData ? (hasLe ? 4 : 3) : hasLe ? 2 : 1;
}

function checkByte(value: number, field: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xff) {
    fail('INVALID_ARGUMENT', `${field} must be a byte (0..255)`, { field, value });
  }
}

/**
 * Encode a command APDU. Short length fields are used when Nc ≤ 255 and Ne ≤ 256, extended
 * ones otherwise or when `extended` is asked for (ISO 7816-4: both fields short or both extended).
 */
export function encodeCommandApdu(apdu: CommandApdu, options: { extended?: boolean } = {}): Uint8Array {
  checkByte(apdu.cla, 'cla');
  checkByte(apdu.ins, 'ins');
  checkByte(apdu.p1, 'p1');
  checkByte(apdu.p2, 'p2');
  const nc = apdu.data.length;
  const ne = apdu.ne;
  if (nc > 65535) fail('TOO_LONG', 'command data longer than 65535 bytes', { field: 'data', length: nc });
  if (ne !== undefined && (!Number.isInteger(ne) || ne < 1 || ne > 65536)) {
    fail('INVALID_ARGUMENT', 'ne must be 1..65536', { field: 'ne', value: ne });
  }
  const extended = options.extended === true || nc > 255 || (ne !== undefined && ne > 256);
  const header = [apdu.cla, apdu.ins, apdu.p1, apdu.p2];
  const out: number[] = header;
  if (!extended) {
    if (nc > 0) out.push(nc);
    const body = Buffer.alloc(out.length + nc + (ne === undefined ? 0 : 1));
    body.set(out, 0);
    body.set(apdu.data, out.length);
    if (ne !== undefined) body[body.length - 1] = ne === 256 ? 0 : ne;
    return body;
  }
  // Extended: a 00 marker, then Lc on two bytes; Le on two bytes after data, or on three (00 + 2) when there is no data.
  const lcLen = nc > 0 ? 3 : 0;
  const leLen = ne === undefined ? 0 : nc > 0 ? 2 : 3;
  const body = Buffer.alloc(4 + lcLen + nc + leLen);
  body.set(header, 0);
  let o = 4;
  if (nc > 0) {
    body[o++] = 0;
    body.writeUInt16BE(nc, o);
    o += 2;
    body.set(apdu.data, o);
    o += nc;
  }
  if (ne !== undefined) {
    if (nc === 0) body[o++] = 0;
    body.writeUInt16BE(ne === 65536 ? 0 : ne, o);
  }
  return body;
}

/** Decode one complete command APDU (ISO 7816-4 §5.1, the decoding rules of Table 1). */
export function decodeCommandApdu(bytes: Uint8Array): DecodedCommandApdu {
  const n = bytes.length;
  if (n < 4) fail('TRUNCATED', 'a command APDU has at least 4 header bytes', { field: 'apdu', length: n });
  const b = bytes;
  // One object literal per case (not a spread of a header object): every SIM's ENVELOPE,
  // FETCH and TERMINAL RESPONSE passes here, and the spread cost more than the rest.
  if (n === 4) return decoded(b, EMPTY, undefined, 1, false);
  const b4 = b[4]!;
  if (n === 5) return decoded(b, EMPTY, b4 === 0 ? 256 : b4, 2, false);
  if (b4 !== 0) {
    const nc = b4;
    if (n === 5 + nc) return decoded(b, copy(b, 5, 5 + nc), undefined, 3, false);
    if (n === 6 + nc) {
      const le = b[n - 1]!;
      return decoded(b, copy(b, 5, 5 + nc), le === 0 ? 256 : le, 4, false);
    }
    fail('LENGTH_MISMATCH', `Lc says ${nc} data bytes but ${n - 5} bytes follow it`, { field: 'lc', lc: nc, following: n - 5 });
  }
  // b4 == 0 and more than 5 bytes: extended length fields.
  if (n === 7) {
    const le = (b[5]! << 8) | b[6]!;
    return decoded(b, EMPTY, le === 0 ? 65536 : le, 2, true);
  }
  if (n < 7) fail('TRUNCATED', 'extended length field cut short', { field: 'lc', length: n });
  const nc = (b[5]! << 8) | b[6]!;
  if (nc === 0) fail('MALFORMED', 'extended Lc of zero', { field: 'lc' });
  if (n === 7 + nc) return decoded(b, copy(b, 7, 7 + nc), undefined, 3, true);
  if (n === 9 + nc) {
    const le = (b[n - 2]! << 8) | b[n - 1]!;
    return decoded(b, copy(b, 7, 7 + nc), le === 0 ? 65536 : le, 4, true);
  }
  fail('LENGTH_MISMATCH', `extended Lc says ${nc} data bytes but ${n - 7} bytes follow it`, {
    field: 'lc',
    lc: nc,
    following: n - 7,
  });
}

function decoded(b: Uint8Array, data: Uint8Array, ne: number | undefined, apduCase: ApduCase, extended: boolean): DecodedCommandApdu {
  // `ne` is absent, not undefined, when the APDU has no Le (as callers and tests compare).
  return ne === undefined
    ? { cla: b[0]!, ins: b[1]!, p1: b[2]!, p2: b[3]!, data, case: apduCase, extended }
    : { cla: b[0]!, ins: b[1]!, p1: b[2]!, p2: b[3]!, data, ne, case: apduCase, extended };
}

export function encodeResponseApdu(response: ResponseApdu): Uint8Array {
  const { data, sw } = response;
  if (!Number.isInteger(sw) || sw < 0 || sw > 0xffff) fail('INVALID_ARGUMENT', 'sw must be 0..0xFFFF', { field: 'sw', value: sw });
  const out = Buffer.alloc(data.length + 2);
  out.set(data, 0);
  out.writeUInt16BE(sw, data.length);
  return out;
}

export function decodeResponseApdu(bytes: Uint8Array): ResponseApdu {
  if (bytes.length < 2) fail('TRUNCATED', 'a response APDU ends with a 2-byte status word', { field: 'rapdu', length: bytes.length });
  const n = bytes.length;
  return { data: copy(bytes, 0, n - 2), sw: (bytes[n - 2]! << 8) | bytes[n - 1]! };
}

function copy(bytes: Uint8Array, start: number, end: number): Uint8Array {
  return Uint8Array.prototype.slice.call(bytes, start, end);
}
