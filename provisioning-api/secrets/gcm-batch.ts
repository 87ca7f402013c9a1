/**
 * AES-256-GCM (NIST SP 800-38D) for many short messages under one key, each with its own
 * 96-bit nonce and additional data: the output of every message is exactly what
 * node:crypto's `aes-256-gcm` gives for it (and node:crypto opens it), but the key is set
 * up once and the block cipher runs once per batch.
 *
 * Why our own: an import seals a million SIMs' keysets, one GCM message each. node:crypto
 * makes a cipher context per message (key schedule, GHASH tables, four JS-to-C++ calls, an
 * object to collect): about 4.3 µs of a million-row import's client CPU per row, the
 * largest single part of it (profiled, README benchmark `sim-import`). No npm library fits:
 * @noble/ciphers computes AES in JavaScript and builds its GHASH tables per message too,
 * and node offers no GCM context that takes a new nonce. So the AES itself stays OpenSSL's
 * (one `aes-256-ecb` context per key: the keystream and tag-mask blocks of a whole batch of
 * messages in one call), and only the XOR with the keystream and GHASH, the
 * multiplication by H in GF(2^128) that GCM defines over the ciphertext, are computed here,
 * with Shoup's 8-bit tables for this key, in WebAssembly (./gcm-seal-wat.ts: 64-bit
 * arithmetic; the same loop in JavaScript cost 1.1 µs a row, this one about 0.3). The tests
 * check it against node:crypto on random keys, nonces, lengths, and against the
 * specification's test vectors.
 */
import { createCipheriv, type Cipher } from 'node:crypto';
import { BATCH_AT, REDUCE_AT } from './gcm-seal-wat.js';
import { GCM_SEAL_WASM } from './gcm-seal-wasm.js';

/** The compiled sealing loop (./gcm-seal-wat.ts), instantiated per key: its memory holds the key's tables. */
const SEAL_MODULE = new WebAssembly.Module(Buffer.from(GCM_SEAL_WASM, 'base64'));
const PAGE = 65536;

export const GCM_NONCE_BYTES = 12;
export const GCM_TAG_BYTES = 16;

/** One message of a batch: its nonce (12 bytes), additional data and plaintext. */
export interface GcmMessage {
  nonce: Uint8Array;
  aad: Uint8Array;
  plain: Uint8Array;
}

/**
 * The 16-bit value XORed into the top of Z when Z is multiplied by x^8 and the byte `r`
 * falls off its low end (x^128 = x^7 + x^2 + x + 1 in GCM's reflected bit order).
 */
const REDUCE = (() => {
  const table = new Int32Array(256);
  for (let r = 0; r < 256; r++) {
    let w0 = 0, w3 = r;
    for (let i = 0; i < 8; i++) {
      const carry = w3 & 1;
      // Only the low byte of w3 and the top of w0 take part: the middle words stay zero.
      w3 = w3 >>> 1;
      w0 = (w0 >>> 1) ^ (carry ? 0xe1000000 : 0);
    }
    table[r] = w0;
  }
  return table;
})();

function align(n: number): number {
  return (n + 15) & ~15;
}

/** AES-256-GCM sealing of many messages under one key. */
export class GcmBatchCipher {
  readonly #ecb: Cipher;
  /** The sealing loop, its memory holding this key's tables. */
  readonly #wasm: WebAssembly.Instance;

  constructor(key: Uint8Array) {
    if (key.length !== 32) throw new RangeError('AES-256-GCM takes a 32-byte key');
    this.#ecb = createCipheriv('aes-256-ecb', key, null);
    this.#ecb.setAutoPadding(false);
    const h = this.#ecb.update(Buffer.alloc(16));
    // T[b] = b·H for each byte value b (b in GCM's reflected bit order), as 4 big-endian words.
    const t = new Int32Array(256 * 4);
    // T[0x80] = H (the byte's first bit is x^0); each lower bit is one more factor of x.
    let w0 = h.readInt32BE(0), w1 = h.readInt32BE(4), w2 = h.readInt32BE(8), w3 = h.readInt32BE(12);
    for (let bit = 0x80; bit > 0; bit >>= 1) {
      t[bit * 4] = w0; t[bit * 4 + 1] = w1; t[bit * 4 + 2] = w2; t[bit * 4 + 3] = w3;
      const carry = w3 & 1;
      w3 = (w3 >>> 1) | (w2 << 31);
      w2 = (w2 >>> 1) | (w1 << 31);
      w1 = (w1 >>> 1) | (w0 << 31);
      w0 = (w0 >>> 1) ^ (carry ? 0xe1000000 : 0);
    }
    // Every other byte value: the XOR of its bits' entries (multiplication is linear).
    for (let b = 2; b < 256; b++) {
      if ((b & (b - 1)) === 0) continue;
      const low = b & -b;
      const rest = b ^ low;
      for (let k = 0; k < 4; k++) t[b * 4 + k] = t[low * 4 + k]! ^ t[rest * 4 + k]!;
    }
    // The same tables for the WebAssembly loop, as block bytes (big-endian words written out).
    this.#wasm = new WebAssembly.Instance(SEAL_MODULE);
    const view = new DataView(this.#memory().buffer);
    for (let b = 0; b < 256; b++) {
      for (let k = 0; k < 4; k++) view.setInt32(b * 16 + k * 4, t[b * 4 + k]!, false);
      view.setInt32(REDUCE_AT + b * 8, REDUCE[b]!, false);
      view.setInt32(REDUCE_AT + b * 8 + 4, 0, false);
    }
  }

  #memory(): WebAssembly.Memory {
    return this.#wasm.exports.memory as WebAssembly.Memory;
  }

  /** Sealed size of a message of `plainLength` bytes: nonce || ciphertext || tag. */
  static sealedLength(plainLength: number): number {
    return GCM_NONCE_BYTES + plainLength + GCM_TAG_BYTES;
  }

  /**
   * Seal each message into `out` at its offset (`offsets[i]`, room for sealedLength):
   * nonce(12) || ciphertext || tag(16), as node:crypto's aes-256-gcm gives them.
   */
  sealInto(messages: readonly GcmMessage[], out: Uint8Array, offsets: ArrayLike<number>): void {
    const count = messages.length;
    let size = 0;
    for (const m of messages) {
      if (m.nonce.length !== GCM_NONCE_BYTES) throw new RangeError('a GCM nonce here is 12 bytes');
      size += m.aad.length + m.plain.length;
    }
    // The messages side by side, as sealSpans takes them.
    const src = new Uint8Array(size);
    const spans = new Int32Array(count * 4);
    const nonces = new Uint8Array(count * GCM_NONCE_BYTES);
    let at = 0;
    for (let i = 0; i < count; i++) {
      const m = messages[i]!;
      spans[i * 4] = at;
      spans[i * 4 + 1] = m.aad.length;
      src.set(m.aad, at);
      at += m.aad.length;
      spans[i * 4 + 2] = at;
      spans[i * 4 + 3] = m.plain.length;
      src.set(m.plain, at);
      at += m.plain.length;
      nonces.set(m.nonce, i * GCM_NONCE_BYTES);
    }
    this.sealSpans(count, src, spans, nonces, out, offsets);
    src.fill(0);
  }

  /**
   * Seal `count` messages that lie in one buffer: message r's additional data is
   * `src[spans[4r], +spans[4r+1])` and its plaintext `src[spans[4r+2], +spans[4r+3])`, its
   * nonce `nonces[12r, +12)`; its sealed form goes to `out[at[r], +sealedLength)`.
   * The same output as sealInto, without an object per message.
   */
  sealSpans(count: number, src: Uint8Array, spans: Int32Array, nonces: Uint8Array, out: Uint8Array, at: ArrayLike<number>): void {
    if (nonces.length < count * GCM_NONCE_BYTES) throw new RangeError('a GCM nonce here is 12 bytes');
    if (count === 0) return;
    const stream = this.#keystream(count, spans, nonces);
    // The batch in the module's memory: the source bytes, the spans (made absolute), the
    // nonces, the keystream, the output addresses, then the part of `out` the sealed
    // messages go to: copied in, sealed in place, copied back (two copies of a batch
    // instead of one per message).
    let srcEnd = 0, outLo = Infinity, outHi = 0;
    for (let r = 0; r < count; r++) {
      srcEnd = Math.max(srcEnd, spans[r * 4]! + spans[r * 4 + 1]!, spans[r * 4 + 2]! + spans[r * 4 + 3]!);
      outLo = Math.min(outLo, at[r]!);
      outHi = Math.max(outHi, at[r]! + GcmBatchCipher.sealedLength(spans[r * 4 + 3]!));
    }
    const srcAt = BATCH_AT;
    const spansAt = align(srcAt + srcEnd + 16);
    const noncesAt = spansAt + count * 16;
    const streamAt = align(noncesAt + count * GCM_NONCE_BYTES);
    const outsAt = align(streamAt + stream.length + 16);
    const regionAt = align(outsAt + count * 4);
    const memory = this.#memory();
    const need = regionAt + (outHi - outLo) + 64;
    if (need > memory.buffer.byteLength) memory.grow(Math.ceil((need - memory.buffer.byteLength) / PAGE));
    const mem = new Uint8Array(memory.buffer);
    mem.set(src.subarray(0, srcEnd), srcAt);
    const absolute = new Int32Array(memory.buffer, spansAt, count * 4);
    for (let k = 0; k < count * 4; k += 2) {
      absolute[k] = spans[k]! + srcAt;
      absolute[k + 1] = spans[k + 1]!;
    }
    mem.set(nonces.subarray(0, count * GCM_NONCE_BYTES), noncesAt);
    mem.set(stream, streamAt);
    stream.fill(0);
    const outs = new Int32Array(memory.buffer, outsAt, count);
    for (let r = 0; r < count; r++) outs[r] = regionAt + at[r]! - outLo;
    mem.set(out.subarray(outLo, outHi), regionAt);
    (this.#wasm.exports.seal as (n: number, spans: number, nonces: number, stream: number, outs: number) => void)(count, spansAt, noncesAt, streamAt, outsAt);
    out.set(mem.subarray(regionAt, regionAt + outHi - outLo), outLo);
    // The plaintexts and keystream do not stay in the module's memory.
    mem.fill(0, srcAt, regionAt + outHi - outLo);
  }

  /** E(J0), E(inc32(J0)), ... of every message in turn: the tag mask, then the keystream blocks. */
  #keystream(count: number, spans: Int32Array, nonces: Uint8Array): Buffer {
    let blocks = 0;
    for (let i = 0; i < count; i++) blocks += 1 + ((spans[i * 4 + 3]! + 15) >> 4);
    const counters = Buffer.allocUnsafe(blocks * 16);
    let at = 0;
    for (let i = 0; i < count; i++) {
      const n = 1 + ((spans[i * 4 + 3]! + 15) >> 4);
      const from = i * GCM_NONCE_BYTES;
      for (let c = 1; c <= n; c++) {
        // Byte by byte: a set() and a writeUInt32BE() per block cost more than the copying.
        for (let k = 0; k < 12; k++) counters[at + k] = nonces[from + k]!;
        counters[at + 12] = 0;
        counters[at + 13] = 0;
        counters[at + 14] = c >>> 8;
        counters[at + 15] = c;
        at += 16;
      }
    }
    const stream = this.#ecb.update(counters);
    counters.fill(0);
    return stream;
  }
}
