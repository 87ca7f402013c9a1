/**
 * ETSI TS 102 226 §5.1 compact remote command and response structures.
 *
 * The secured data of a command packet is a concatenation of C-APDUs. Like T=0 TPDUs,
 * each is CLA INS P1 P2 followed by one length byte whose meaning the receiving
 * application knows from the instruction: Lc and data for a command that carries data
 * (cases 3 and 4: a case 4 command has no Le here, its response data comes back in the
 * PoR when it is the last one), Le for a command that only reads (case 2), nothing for
 * case 1. So splitting the list needs the application's table of cases: `caseOf`.
 *
 * The response (§5.1.2) is the number of commands executed, the status word of the last
 * one, and its response data.
 */
import { fail } from '../errors.js';
import type { ApduCase, CommandApdu } from './apdu.js';

export type CaseOf = (cla: number, ins: number, p1: number, p2: number) => ApduCase;

export interface CompactResponse {
  /** Number of commands executed (the last one included, even if it failed). */
  executed: number;
  /** Status word of the last executed command. */
  sw: number;
  /** Response data of the last executed command (may be empty). */
  data: Uint8Array;
}

/** Encode a list of C-APDUs in compact form. Ne of a case 4 command is dropped, as the format has no room for it. */
export function encodeCompactCommands(apdus: readonly CommandApdu[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const [i, a] of apdus.entries()) {
    const field = `apdus[${i}]`;
    for (const [name, v] of [['cla', a.cla], ['ins', a.ins], ['p1', a.p1], ['p2', a.p2]] as const) {
      if (!Number.isInteger(v) || v < 0 || v > 255) fail('INVALID_ARGUMENT', `${field}.${name} must be a byte`, { field });
    }
    if (a.data.length > 255) fail('TOO_LONG', `${field} carries more than 255 data bytes`, { field, length: a.data.length });
    if (a.data.length > 0) {
      parts.push(Uint8Array.of(a.cla, a.ins, a.p1, a.p2, a.data.length), a.data);
    } else if (a.ne !== undefined) {
      if (!Number.isInteger(a.ne) || a.ne < 1 || a.ne > 256) fail('INVALID_ARGUMENT', `${field}.ne must be 1..256`, { field });
      parts.push(Uint8Array.of(a.cla, a.ins, a.p1, a.p2, a.ne === 256 ? 0 : a.ne));
    } else {
      parts.push(Uint8Array.of(a.cla, a.ins, a.p1, a.p2));
    }
  }
  return Buffer.concat(parts);
}

/**
 * Read the C-APDU at `offset`; returns it with the offset of the next one. Throws
 * TRUNCATED when the bytes end inside it (a receiving card answers 6700 for it).
 */
export function readCompactCommand(bytes: Uint8Array, offset: number, caseOf: CaseOf): { apdu: CommandApdu; next: number } {
  if (offset + 4 > bytes.length) fail('TRUNCATED', 'C-APDU header cut short', { field: 'apdu', offset });
  const cla = bytes[offset]!;
  const ins = bytes[offset + 1]!;
  const p1 = bytes[offset + 2]!;
  const p2 = bytes[offset + 3]!;
  const kind = caseOf(cla, ins, p1, p2);
  if (kind === 1) return { apdu: { cla, ins, p1, p2, data: new Uint8Array(0) }, next: offset + 4 };
  if (offset + 5 > bytes.length) fail('TRUNCATED', 'C-APDU length byte missing', { field: 'apdu', offset });
  const p3 = bytes[offset + 4]!;
  if (kind === 2) return { apdu: { cla, ins, p1, p2, data: new Uint8Array(0), ne: p3 === 0 ? 256 : p3 }, next: offset + 5 };
  const end = offset + 5 + p3;
  if (end > bytes.length) fail('TRUNCATED', `C-APDU announces ${p3} data bytes, ${bytes.length - offset - 5} present`, { field: 'apdu', offset });
  const data = Uint8Array.prototype.slice.call(bytes, offset + 5, end);
  return { apdu: kind === 4 ? { cla, ins, p1, p2, data, ne: 256 } : { cla, ins, p1, p2, data }, next: end };
}

/** Split a whole compact command list. */
export function splitCompactCommands(bytes: Uint8Array, caseOf: CaseOf): CommandApdu[] {
  const out: CommandApdu[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const { apdu, next } = readCompactCommand(bytes, offset, caseOf);
    out.push(apdu);
    offset = next;
  }
  return out;
}

export function encodeCompactResponse(response: CompactResponse): Uint8Array {
  const { executed, sw, data } = response;
  if (!Number.isInteger(executed) || executed < 0 || executed > 255) {
    fail('INVALID_ARGUMENT', 'executed must be 0..255', { field: 'executed', value: executed });
  }
  if (!Number.isInteger(sw) || sw < 0 || sw > 0xffff) fail('INVALID_ARGUMENT', 'sw must be 0..0xFFFF', { field: 'sw', value: sw });
  const out = Buffer.alloc(3 + data.length);
  out[0] = executed;
  out.writeUInt16BE(sw, 1);
  out.set(data, 3);
  return out;
}

export function decodeCompactResponse(bytes: Uint8Array): CompactResponse {
  if (bytes.length < 3) {
    fail('TRUNCATED', 'a compact response holds a count and a status word (3 bytes at least)', { field: 'response', length: bytes.length });
  }
  return {
    executed: bytes[0]!,
    sw: (bytes[1]! << 8) | bytes[2]!,
    data: Uint8Array.prototype.slice.call(bytes, 3),
  };
}
