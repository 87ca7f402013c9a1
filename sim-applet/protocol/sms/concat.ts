/**
 * Segmentation of user data into concatenated SMS (TS 23.040 §9.2.3.24.1 and .8), and the
 * OTA rule of TS 31.115 built on it: the packet identifier IE (0x70 command,
 * 0x71 response) goes in the first part only, after the concatenation IE, so the first
 * part's UD is `07 | 00 03 ref N 01 | 70 00 |` + 132 packet bytes and each later one
 * `05 | 00 03 ref N k |` + up to 134. A packet of at most 137 bytes is one SMS `02 70 00 |` packet.
 */
import { fail } from '../../errors.js';
import { concatIe, encodeUdh, packetIdentifierIe, udhLength, type InformationElement, type PacketKind } from './udh.js';
import { MAX_UD_OCTETS } from './user-data.js';

export interface SegmentOptions {
  /** The concatenation reference: 0–255, or 0–65535 with `refBits` 16. The same in every part. */
  ref: number;
  refBits?: 8 | 16;
  /** IEs for the first part only, after the concatenation IE (TS 31.115: the packet identifier). */
  firstPartIes?: readonly InformationElement[];
  /** IEs repeated in every part (§9.2.3.24: e.g. application port addressing). */
  everyPartIes?: readonly InformationElement[];
}

/** Most parts one 8-bit total can count. */
export const MAX_PARTS = 255;

/**
 * 8-bit user data as SMS UD parts, each starting with its UDH (send each with TP-UDHI set;
 * with no IEs at all a single part has the empty header `00`). When the payload and the
 * other IEs fit one SMS no concatenation IE is added. Every part but the last is exactly
 * 140 octets.
 */
export function segmentUserData(payload: Uint8Array, options: SegmentOptions): Uint8Array[] {
  if (!(payload instanceof Uint8Array)) fail('INVALID_ARGUMENT', 'payload must be a Uint8Array', { field: 'payload' });
  const refBits = options.refBits ?? 8;
  const first = options.firstPartIes ?? [];
  const every = options.everyPartIes ?? [];
  // Validates ref and refBits before anything else, whatever the size.
  const probe = concatIe({ ref: options.ref, refBits, total: 1, seq: 1 });

  const single = [...first, ...every];
  if (udhLength(single) + payload.length <= MAX_UD_OCTETS) return [joinPart(encodeUdh(single), payload, 0, payload.length)];

  const concatSize = 2 + probe.value.length;
  const firstCapacity = MAX_UD_OCTETS - udhLength(single) - concatSize;
  const laterCapacity = MAX_UD_OCTETS - udhLength(every) - concatSize;
  if (firstCapacity <= 0 || laterCapacity <= 0) {
    fail('TOO_LONG', 'the headers leave no room for data', { field: 'udh', firstCapacity, laterCapacity });
  }
  const total = 1 + Math.ceil((payload.length - firstCapacity) / laterCapacity);
  if (total > MAX_PARTS) fail('TOO_LONG', `needs ${total} parts, at most ${MAX_PARTS}`, { field: 'payload', length: payload.length, parts: total });

  const parts: Uint8Array[] = [];
  let offset = 0;
  for (let seq = 1; seq <= total; seq++) {
    const concat = concatIe({ ref: options.ref, refBits, total, seq });
    const ies = seq === 1 ? [concat, ...first, ...every] : [concat, ...every];
    const take = Math.min(seq === 1 ? firstCapacity : laterCapacity, payload.length - offset);
    parts.push(joinPart(encodeUdh(ies), payload, offset, take));
    offset += take;
  }
  return parts;
}

function joinPart(header: Uint8Array, payload: Uint8Array, offset: number, length: number): Uint8Array {
  const part = new Uint8Array(header.length + length);
  part.set(header, 0);
  part.set(payload.subarray(offset, offset + length), header.length);
  return part;
}

/**
 * A TS 102 225 secured packet (from CPL or RPL on, without UDH) as SMS user data parts with
 * the 8-bit reference `ref` (the caller chooses it; nothing here is random). More than 255
 * parts is TOO_LONG.
 */
export function segmentOtaPacket(packet: Uint8Array, kind: PacketKind, ref: number): Uint8Array[] {
  return segmentUserData(packet, { ref, refBits: 8, firstPartIes: [packetIdentifierIe(kind)] });
}
