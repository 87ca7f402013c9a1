/**
 * BER-TLV as smart cards use it (ISO/IEC 7816-4 §5.2, a subset of ITU-T X.690 §8.1) and
 * COMPREHENSION-TLV (ETSI TS 101 220 §7.1.1, used by TS 102 223 inside CAT envelopes and
 * proactive commands). Both share the length coding; they differ in the tag.
 *
 * Decoded values are views into the input (no copy): callers that keep them while reusing
 * the input buffer must copy.
 */
import { fail } from '../errors.js';

/** Lengths above this are refused: no card structure here needs more (ISO 7816-4 short of `83`/`84`). */
export const MAX_TLV_LENGTH = 0xffff;

/** Constructed values nest at most this deep in {@link decodeBerTlvTree}, so hostile input cannot exhaust the stack. */
export const MAX_TLV_DEPTH = 16;

export type TagClass = 'universal' | 'application' | 'context' | 'private';

const TAG_CLASSES: readonly TagClass[] = ['universal', 'application', 'context', 'private'];

export interface BerTlv {
  /** The tag bytes read as one big-endian number (`0xd1`, `0x9f70`, `0xdf8101`). */
  tag: number;
  tagClass: TagClass;
  constructed: boolean;
  value: Uint8Array;
}

export interface BerNode extends BerTlv {
  /** The decoded value of a constructed tag; absent for primitive tags. */
  children?: BerNode[];
}

export interface ComprehensionTlv {
  /** The tag value without the CR bit: 0x01–0x7E (single-byte form) or 15 bits (three-byte form). */
  tag: number;
  /** The CR flag (TS 101 220 §7.1.1): the receiver must understand this element or reject the whole. */
  comprehensionRequired: boolean;
  value: Uint8Array;
}

export interface Decoded<T> {
  tlv: T;
  /** Offset of the first byte after this TLV. */
  next: number;
}

function checkBytes(bytes: unknown, field: string): asserts bytes is Uint8Array {
  if (!(bytes instanceof Uint8Array)) fail('INVALID_ARGUMENT', `${field} must be a Uint8Array`, { field });
}

function checkOffset(bytes: Uint8Array, offset: number, field: string): void {
  if (!Number.isInteger(offset) || offset < 0 || offset > bytes.length) {
    fail('INVALID_ARGUMENT', `${field} offset out of range`, { field, offset, length: bytes.length });
  }
}

// ---------------------------------------------------------------- lengths (shared)

/** Minimal definite length: `0x00–0x7F`, `81 xx`, `82 xxxx` (X.690 §8.1.3, DER form). */
export function encodeTlvLength(length: number, field = 'length'): Uint8Array {
  if (!Number.isInteger(length) || length < 0) fail('INVALID_ARGUMENT', `${field} must be a non-negative integer`, { field, length });
  if (length > MAX_TLV_LENGTH) fail('TOO_LONG', `${field} over ${MAX_TLV_LENGTH}`, { field, length, max: MAX_TLV_LENGTH });
  if (length < 0x80) return Uint8Array.of(length);
  if (length <= 0xff) return Uint8Array.of(0x81, length);
  return Uint8Array.of(0x82, length >> 8, length & 0xff);
}

function lengthSize(length: number): number {
  return length < 0x80 ? 1 : length <= 0xff ? 2 : 3;
}

/**
 * Read a definite length at `offset`. Non-minimal forms (`81 05`) are accepted, as
 * ISO 7816-4 §5.2.2.2 allows; `80` (indefinite, not used on cards) is MALFORMED; `83`/`84`
 * are valid ISO lengths beyond {@link MAX_TLV_LENGTH} (TOO_LONG); `85`–`FF` do not exist.
 */
export function decodeTlvLength(bytes: Uint8Array, offset: number, field = 'length'): { length: number; next: number } {
  if (offset >= bytes.length) fail('TRUNCATED', `${field} missing`, { field, offset });
  const first = bytes[offset]!;
  if (first < 0x80) return { length: first, next: offset + 1 };
  if (first === 0x80) fail('MALFORMED', `${field}: indefinite length is not allowed`, { field, offset });
  if (first === 0x83 || first === 0x84) fail('TOO_LONG', `${field}: lengths over ${MAX_TLV_LENGTH} are not supported`, { field, offset });
  if (first > 0x84) fail('MALFORMED', `${field}: invalid length byte`, { field, offset, value: first });
  const size = first & 0x7f;
  if (offset + 1 + size > bytes.length) fail('TRUNCATED', `${field} ends early`, { field, offset });
  const length = size === 1 ? bytes[offset + 1]! : (bytes[offset + 1]! << 8) | bytes[offset + 2]!;
  return { length, next: offset + 1 + size };
}

function readValue(bytes: Uint8Array, start: number, length: number, field: string): Uint8Array {
  if (start + length > bytes.length) {
    fail('LENGTH_MISMATCH', `${field} length ${length} overruns the input`, { field, length, available: bytes.length - start });
  }
  return bytes.subarray(start, start + length);
}

// ---------------------------------------------------------------- BER-TLV tags

function tagBytes(tag: number): number {
  return tag <= 0xff ? 1 : tag <= 0xffff ? 2 : 3;
}

/**
 * ISO 7816-4 §5.2.2.1: first byte low 5 bits all ones announces more bytes, each further
 * byte has b8 = 1 when another follows; '00'–'1E' and '80' are invalid second bytes (the
 * number would fit a shorter form), and '00'/'FF' are not tags (they pad erased data).
 */
function tagProblem(tag: number): string | undefined {
  if (!Number.isInteger(tag) || tag <= 0 || tag > 0xffffff) return 'not a 1 to 3 byte tag';
  const n = tagBytes(tag);
  const first = tag >>> (8 * (n - 1));
  if (first === 0xff) return "first byte 'FF' is not a tag";
  if (n === 1) return (first & 0x1f) === 0x1f ? 'first byte announces a longer tag' : undefined;
  if ((first & 0x1f) !== 0x1f) return 'first byte does not announce a longer tag';
  const second = (tag >>> (8 * (n - 2))) & 0xff;
  if (n === 2) return second & 0x80 ? 'second byte announces a third' : second < 0x1f ? 'tag number fits one byte' : undefined;
  const third = tag & 0xff;
  if (!(second & 0x80)) return 'second byte does not announce a third';
  if (second === 0x80) return "second byte '80' is a leading zero";
  return third & 0x80 ? 'tags longer than 3 bytes are not supported' : undefined;
}

export function berTagClass(tag: number): TagClass {
  return TAG_CLASSES[(tag >>> (8 * (tagBytes(tag) - 1))) >> 6]!;
}

export function isConstructedTag(tag: number): boolean {
  return ((tag >>> (8 * (tagBytes(tag) - 1))) & 0x20) !== 0;
}

export function encodeBerTag(tag: number): Uint8Array {
  const problem = tagProblem(tag);
  if (problem !== undefined) fail('INVALID_ARGUMENT', `tag: ${problem}`, { field: 'tag', tag });
  const n = tagBytes(tag);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (tag >>> (8 * (n - 1 - i))) & 0xff;
  return out;
}

export function decodeBerTag(bytes: Uint8Array, offset: number): { tag: number; next: number } {
  if (offset >= bytes.length) fail('TRUNCATED', 'tag missing', { field: 'tag', offset });
  const first = bytes[offset]!;
  if (first === 0x00 || first === 0xff) fail('MALFORMED', `'${first.toString(16).padStart(2, '0')}' is not a tag`, { field: 'tag', offset });
  let tag = first;
  let i = offset + 1;
  if ((first & 0x1f) === 0x1f) {
    do {
      if (i - offset === 3) fail('MALFORMED', 'tags longer than 3 bytes are not supported', { field: 'tag', offset });
      if (i >= bytes.length) fail('TRUNCATED', 'tag ends early', { field: 'tag', offset });
      tag = tag * 256 + bytes[i]!;
      i++;
    } while (bytes[i - 1]! & 0x80);
    const problem = tagProblem(tag);
    if (problem !== undefined) fail('MALFORMED', `tag: ${problem}`, { field: 'tag', offset, tag });
  }
  return { tag, next: i };
}

// ---------------------------------------------------------------- BER-TLV

export function encodeBerTlv(tag: number, value: Uint8Array): Uint8Array {
  checkBytes(value, 'value');
  const t = encodeBerTag(tag);
  const out = new Uint8Array(t.length + lengthSize(value.length) + value.length);
  out.set(t, 0);
  const l = encodeTlvLength(value.length, 'value.length');
  out.set(l, t.length);
  out.set(value, t.length + l.length);
  return out;
}

/** One BER-TLV at `offset`; the input may continue after it. */
export function decodeBerTlvAt(bytes: Uint8Array, offset = 0): Decoded<BerTlv> {
  checkBytes(bytes, 'bytes');
  checkOffset(bytes, offset, 'bytes');
  const { tag, next: afterTag } = decodeBerTag(bytes, offset);
  const { length, next: start } = decodeTlvLength(bytes, afterTag, 'tlv.length');
  const value = readValue(bytes, start, length, 'tlv.value');
  return {
    tlv: { tag, tagClass: berTagClass(tag), constructed: isConstructedTag(tag), value },
    next: start + length,
  };
}

/** Exactly one BER-TLV filling the whole input. */
export function decodeBerTlv(bytes: Uint8Array): BerTlv {
  const { tlv, next } = decodeBerTlvAt(bytes, 0);
  if (next !== bytes.length) fail('TRAILING_BYTES', 'bytes after the TLV', { field: 'tlv', extra: bytes.length - next });
  return tlv;
}

/** A sequence of BER-TLVs that must consume the whole input (an empty input is an empty list). */
export function decodeBerTlvs(bytes: Uint8Array): BerTlv[] {
  checkBytes(bytes, 'bytes');
  const out: BerTlv[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const { tlv, next } = decodeBerTlvAt(bytes, offset);
    out.push(tlv);
    offset = next;
  }
  return out;
}

/** A sequence of BER-TLVs with every constructed value decoded in turn (X.690 §8.1.2.5). */
export function decodeBerTlvTree(bytes: Uint8Array, maxDepth = MAX_TLV_DEPTH): BerNode[] {
  return decodeTree(bytes, maxDepth, 0);
}

function decodeTree(bytes: Uint8Array, maxDepth: number, depth: number): BerNode[] {
  if (depth >= maxDepth) fail('TOO_LONG', `TLVs nested deeper than ${maxDepth}`, { field: 'depth', maxDepth });
  return decodeBerTlvs(bytes).map((tlv): BerNode => (tlv.constructed ? { ...tlv, children: decodeTree(tlv.value, maxDepth, depth + 1) } : tlv));
}

/** The first TLV with `tag` in a decoded list (searching nested children when given a tree). */
export function findBerTlv<T extends BerTlv>(list: readonly T[], tag: number): T | undefined {
  for (const tlv of list) {
    if (tlv.tag === tag) return tlv;
    const children = (tlv as BerNode).children;
    if (children !== undefined) {
      const found = findBerTlv(children, tag);
      if (found !== undefined) return found as T;
    }
  }
  return undefined;
}

// ---------------------------------------------------------------- COMPREHENSION-TLV

const CR = 0x80;

/**
 * TS 101 220 §7.1.1: tag values 01–7E take one byte (b8 = CR); larger values take three
 * bytes `7F | CR·15-bit value`. The smallest form is used.
 */
export function encodeComprehensionTlv(tag: number, value: Uint8Array, comprehensionRequired = false): Uint8Array {
  checkBytes(value, 'value');
  if (!Number.isInteger(tag) || tag < 1 || tag > 0x7fff) {
    fail('INVALID_ARGUMENT', 'comprehension tag must be 0x0001..0x7FFF', { field: 'tag', tag });
  }
  const header =
    tag <= 0x7e
      ? Uint8Array.of(tag | (comprehensionRequired ? CR : 0))
      : Uint8Array.of(0x7f, (tag >> 8) | (comprehensionRequired ? CR : 0), tag & 0xff);
  const l = encodeTlvLength(value.length, 'value.length');
  const out = new Uint8Array(header.length + l.length + value.length);
  out.set(header, 0);
  out.set(l, header.length);
  out.set(value, header.length + l.length);
  return out;
}

export function decodeComprehensionTlvAt(bytes: Uint8Array, offset = 0): Decoded<ComprehensionTlv> {
  checkBytes(bytes, 'bytes');
  checkOffset(bytes, offset, 'bytes');
  if (offset >= bytes.length) fail('TRUNCATED', 'tag missing', { field: 'tag', offset });
  const first = bytes[offset]!;
  // TS 101 220 §7.1.1.1: '00', '80' and 'FF' are not tags.
  if (first === 0x00 || first === 0x80 || first === 0xff) {
    fail('MALFORMED', `'${first.toString(16).padStart(2, '0')}' is not a comprehension tag`, { field: 'tag', offset });
  }
  let tag: number;
  let comprehensionRequired: boolean;
  let afterTag: number;
  if (first === 0x7f) {
    if (offset + 3 > bytes.length) fail('TRUNCATED', 'three-byte tag ends early', { field: 'tag', offset });
    const hi = bytes[offset + 1]!;
    comprehensionRequired = (hi & CR) !== 0;
    tag = ((hi & 0x7f) << 8) | bytes[offset + 2]!;
    if (tag === 0) fail('MALFORMED', 'three-byte tag value 0', { field: 'tag', offset });
    afterTag = offset + 3;
  } else {
    comprehensionRequired = (first & CR) !== 0;
    tag = first & 0x7f;
    afterTag = offset + 1;
  }
  const { length, next: start } = decodeTlvLength(bytes, afterTag, 'tlv.length');
  const value = readValue(bytes, start, length, 'tlv.value');
  return { tlv: { tag, comprehensionRequired, value }, next: start + length };
}

/** A sequence of COMPREHENSION-TLVs that must consume the whole input. */
export function decodeComprehensionTlvs(bytes: Uint8Array): ComprehensionTlv[] {
  checkBytes(bytes, 'bytes');
  const out: ComprehensionTlv[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const { tlv, next } = decodeComprehensionTlvAt(bytes, offset);
    out.push(tlv);
    offset = next;
  }
  return out;
}
