/**
 * KIc ciphering: CBC with a zero IV and no padding of its own (TS 102 225 §5.1.2; the
 * packet pads with zeros and counts them in PCNTR). 2-key and 3-key 3DES and AES run on
 * node:crypto (encryption on the key's open encryptor, see zero-iv-cbc.ts); single DES runs
 * on node-forge because OpenSSL 3 only has it in its legacy provider, which Node does not
 * load (`des-cbc` is refused here).
 */
import { createDecipheriv } from 'node:crypto';
import forge from 'node-forge';
import { fail } from '../../errors.js';
import { keyMaterial, type KeyMaterial, type OtaKey } from './keys.js';

function checkBlocks(m: KeyMaterial, input: Uint8Array, field: string): void {
  if (!(input instanceof Uint8Array)) fail('INVALID_ARGUMENT', `${field} must be bytes`, { field });
  if (input.length % m.blockSize !== 0) {
    fail('INVALID_PADDING', `${field} is not a multiple of the ${m.blockSize}-byte block`, {
      field,
      length: input.length,
      blockSize: m.blockSize,
    });
  }
}

function nodeDecrypt(m: KeyMaterial, input: Uint8Array): Buffer {
  const c = createDecipheriv(m.nodeCipher!, m.keyObject!, m.zeroIv);
  c.setAutoPadding(false);
  const out = c.update(input);
  // With padding off and whole blocks in, final() has nothing left to give; it still runs
  // so that OpenSSL would report a partial block rather than drop it silently.
  const rest = c.final();
  return rest.length === 0 ? out : Buffer.concat([out, rest]);
}

function forgeDesCbc(m: KeyMaterial, input: Uint8Array, decrypt: boolean): Buffer {
  const key = forge.util.createBuffer(m.forgeKey!);
  const c = decrypt ? forge.cipher.createDecipher('DES-CBC', key) : forge.cipher.createCipher('DES-CBC', key);
  c.start({ iv: forge.util.createBuffer(m.zeroIv.toString('binary')) });
  c.update(forge.util.createBuffer(Buffer.from(input.buffer, input.byteOffset, input.length).toString('binary')));
  // No finish(): finish() would add (or strip) PKCS#7 padding; whole blocks are all out already.
  return Buffer.from(c.output.getBytes(), 'binary');
}

/** CBC-encrypt whole blocks with a zero IV. Not a block multiple: INVALID_PADDING. */
export function encryptCbc(key: OtaKey, plaintext: Uint8Array): Buffer {
  const m = keyMaterial(key, 'kicKey');
  checkBlocks(m, plaintext, 'plaintext');
  if (m.nodeCipher === undefined) return forgeDesCbc(m, plaintext, false);
  const out = Buffer.from(plaintext);
  m.encryptor().encryptInPlace(out);
  return out;
}

/** encryptCbc over `buf` itself, for encoders that own their output buffer. */
export function encryptCbcInPlace(key: OtaKey, buf: Uint8Array): void {
  const m = keyMaterial(key, 'kicKey');
  checkBlocks(m, buf, 'plaintext');
  if (m.nodeCipher === undefined) buf.set(forgeDesCbc(m, buf, false));
  else m.encryptor().encryptInPlace(buf);
}

/** CBC-decrypt whole blocks with a zero IV. Not a block multiple: INVALID_PADDING. */
export function decryptCbc(key: OtaKey, ciphertext: Uint8Array): Buffer {
  const m = keyMaterial(key, 'kicKey');
  checkBlocks(m, ciphertext, 'ciphertext');
  return m.nodeCipher === undefined ? forgeDesCbc(m, ciphertext, true) : nodeDecrypt(m, ciphertext);
}
