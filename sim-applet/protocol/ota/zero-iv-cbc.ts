/**
 * A node:crypto CBC encryptor kept open for the life of a key, so that a packet costs
 * `update()` calls instead of a new OpenSSL context each (making one is most of the price
 * of a short message, and the garbage collector pays again for each one dropped).
 *
 * OpenSSL keeps chaining across `update()` calls: the next block is XORed with the last
 * ciphertext block C. Each call here must be a fresh CBC with a zero IV (TS 102 225 §5.1.2),
 * and E(P1 ^ C ^ C) = E(P1 ^ 0): XORing C into the first plaintext block cancels the carried
 * chaining. Inputs are whole blocks, so OpenSSL never holds a partial block between calls.
 */
import { createCipheriv, type Cipher, type KeyObject } from 'node:crypto';

export class ZeroIvCbcEncryptor {
  readonly #cipher: Cipher;
  /** The last ciphertext block OpenSSL will chain from: the IV of its next block. */
  readonly #chain: Buffer;
  readonly #blockSize: number;

  constructor(cipherName: string, key: KeyObject, blockSize: number) {
    this.#blockSize = blockSize;
    this.#chain = Buffer.alloc(blockSize);
    this.#cipher = createCipheriv(cipherName, key, this.#chain);
    this.#cipher.setAutoPadding(false);
  }

  /** Replace `buf` (whole blocks, checked by the caller) by its CBC encryption under a zero IV. */
  encryptInPlace(buf: Uint8Array): void {
    const bs = this.#blockSize;
    if (buf.length === 0) return;
    const chain = this.#chain;
    for (let i = 0; i < bs; i++) buf[i] = buf[i]! ^ chain[i]!;
    const out = this.#cipher.update(buf);
    buf.set(out);
    out.copy(chain, 0, out.length - bs);
  }
}
