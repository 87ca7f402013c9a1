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
 * messages in one call), and only GHASH, the multiplication by H in GF(2^128) that GCM
 * defines over the ciphertext, is computed here, with Shoup's 8-bit tables for this key.
 * The tests check it against node:crypto on random keys, nonces, lengths, and against the
 * specification's test vectors.
 */
import { createCipheriv, type Cipher } from 'node:crypto';

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

/** AES-256-GCM sealing of many messages under one key. */
export class GcmBatchCipher {
  readonly #ecb: Cipher;
  /** T[b] = b·H for each byte value b (b in GCM's reflected bit order), as 4 big-endian words. */
  readonly #table = new Int32Array(256 * 4);

  constructor(key: Uint8Array) {
    if (key.length !== 32) throw new RangeError('AES-256-GCM takes a 32-byte key');
    this.#ecb = createCipheriv('aes-256-ecb', key, null);
    this.#ecb.setAutoPadding(false);
    const h = this.#ecb.update(Buffer.alloc(16));
    const t = this.#table;
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
    for (const m of messages) {
      if (m.nonce.length !== GCM_NONCE_BYTES) throw new RangeError('a GCM nonce here is 12 bytes');
    }
    const stream = this.#keystream(messages.length, (i) => messages[i]!.plain.length, (i) => messages[i]!.nonce, () => 0);
    let ks = 0;
    for (let i = 0; i < messages.length; i++) {
      const msg = messages[i]!;
      ks = this.#sealOne(msg.nonce, 0, msg.aad, 0, msg.aad.length, msg.plain, 0, msg.plain.length, stream, ks, out, offsets[i]!);
    }
    stream.fill(0);
  }

  /**
   * Seal `count` messages that lie in one buffer: message r's additional data is
   * `src[spans[4r], +spans[4r+1])` and its plaintext `src[spans[4r+2], +spans[4r+3])`, its
   * nonce `nonces[12r, +12)`; its sealed form goes to `out[at[r], +sealedLength)`.
   * The same output as sealInto, without an object per message.
   */
  sealSpans(count: number, src: Uint8Array, spans: Int32Array, nonces: Uint8Array, out: Uint8Array, at: ArrayLike<number>): void {
    if (nonces.length < count * GCM_NONCE_BYTES) throw new RangeError('a GCM nonce here is 12 bytes');
    const stream = this.#keystream(count, (r) => spans[r * 4 + 3]!, () => nonces, (r) => r * GCM_NONCE_BYTES);
    let ks = 0;
    for (let r = 0; r < count; r++) {
      ks = this.#sealOne(nonces, r * GCM_NONCE_BYTES, src, spans[r * 4]!, spans[r * 4 + 1]!, src, spans[r * 4 + 2]!, spans[r * 4 + 3]!, stream, ks, out, at[r]!);
    }
    stream.fill(0);
  }

  /** E(J0), E(inc32(J0)), ... of every message in turn: the tag mask, then the keystream blocks. */
  #keystream(count: number, plainLength: (i: number) => number, nonceOf: (i: number) => Uint8Array, nonceAt: (i: number) => number): Buffer {
    let blocks = 0;
    for (let i = 0; i < count; i++) blocks += 1 + ((plainLength(i) + 15) >> 4);
    const counters = Buffer.allocUnsafe(blocks * 16);
    let at = 0;
    for (let i = 0; i < count; i++) {
      const n = 1 + ((plainLength(i) + 15) >> 4);
      const nonce = nonceOf(i);
      const from = nonceAt(i);
      for (let c = 1; c <= n; c++) {
        // Byte by byte: a set() and a writeUInt32BE() per block cost more than the copying.
        for (let k = 0; k < 12; k++) counters[at + k] = nonce[from + k]!;
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

  /** One message sealed at `out[base..]` with the keystream from `ks`; returns where the next message's keystream starts. */
  #sealOne(
    nonce: Uint8Array, nonceAt: number, aad: Uint8Array, aadAt: number, aadLen: number,
    plain: Uint8Array, plainAt: number, len: number, stream: Uint8Array, ks: number, out: Uint8Array, base: number,
  ): number {
    for (let k = 0; k < GCM_NONCE_BYTES; k++) out[base + k] = nonce[nonceAt + k]!;
    const mask = ks;
    ks += 16;
    const body = base + GCM_NONCE_BYTES;
    for (let j = 0; j < len; j++) out[body + j] = plain[plainAt + j]! ^ stream[ks + j]!;
    this.#tag(aad, aadAt, aadLen, out, body, len, stream, mask, out, body + len);
    return ks + (((len + 15) >> 4) << 4);
  }

  /** GHASH(A, C) XOR E(J0), written at `tagOut[tagAt..+16)`. */
  #tag(aad: Uint8Array, aadAt: number, aadLen: number, c: Uint8Array, cAt: number, cLen: number, mask: Uint8Array, maskAt: number, tagOut: Uint8Array, tagAt: number): void {
    const y = this.#y;
    y[0] = 0; y[1] = 0; y[2] = 0; y[3] = 0;
    this.#absorb(aad, aadAt, aadLen);
    this.#absorb(c, cAt, cLen);
    // The lengths block: bit lengths of A and C, 64 bits each (both far below 2^32 here).
    y[1] ^= aadLen * 8; y[3] ^= cLen * 8;
    this.#multiply();
    for (let k = 0; k < 4; k++) {
      const v = y[k]!;
      const o = tagAt + k * 4;
      const m = maskAt + k * 4;
      tagOut[o] = (v >>> 24) ^ mask[m]!;
      tagOut[o + 1] = ((v >>> 16) & 0xff) ^ mask[m + 1]!;
      tagOut[o + 2] = ((v >>> 8) & 0xff) ^ mask[m + 2]!;
      tagOut[o + 3] = (v & 0xff) ^ mask[m + 3]!;
    }
  }

  /** The GHASH state Y as 4 big-endian words. */
  readonly #y = new Int32Array(4);

  /** Y = (Y ^ block) · H for each 16-byte block of data[at, at+len), the last one zero-padded. */
  #absorb(data: Uint8Array, at: number, len: number): void {
    const y = this.#y;
    const end = at + len;
    for (let p = at; p < end; p += 16) {
      if (p + 16 <= end) {
        for (let w = 0; w < 4; w++) {
          const q = p + w * 4;
          y[w] = y[w]! ^ ((data[q]! << 24) | (data[q + 1]! << 16) | (data[q + 2]! << 8) | data[q + 3]!);
        }
        this.#multiply();
        continue;
      }
      // The last, partial block: its bytes, then zeros (which change nothing).
      for (let k = 0; k < end - p; k++) y[k >> 2] = y[k >> 2]! ^ (data[p + k]! << (24 - 8 * (k & 3)));
      this.#multiply();
    }
  }

  /** Y = Y · H: Horner over Y's bytes from the last, Z = Z·x^8 ^ T[byte]. */
  #multiply(): void {
    const y = this.#y;
    const t = this.#table;
    const x0 = y[0]!, x1 = y[1]!, x2 = y[2]!, x3 = y[3]!;
    let b = (x3 & 0xff) * 4;
    let z0 = t[b]!, z1 = t[b + 1]!, z2 = t[b + 2]!, z3 = t[b + 3]!;
    for (let j = 14; j >= 0; j--) {
      const word = j < 4 ? x0 : j < 8 ? x1 : j < 12 ? x2 : x3;
      b = ((word >>> (24 - 8 * (j & 3))) & 0xff) * 4;
      const r = z3 & 0xff;
      z3 = (z3 >>> 8) | (z2 << 24);
      z2 = (z2 >>> 8) | (z1 << 24);
      z1 = (z1 >>> 8) | (z0 << 24);
      z0 = (z0 >>> 8) ^ REDUCE[r]!;
      z0 ^= t[b]!; z1 ^= t[b + 1]!; z2 ^= t[b + 2]!; z3 ^= t[b + 3]!;
    }
    y[0] = z0; y[1] = z1; y[2] = z2; y[3] = z3;
  }
}
