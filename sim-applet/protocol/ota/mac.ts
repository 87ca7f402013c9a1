/**
 * The cryptographic checksum (CC) under KID, TS 102 225 §5.1.3.1:
 * - DES family: CBC-MAC with a zero IV over the input zero-padded to 8 bytes (no padding
 *   when it is a multiple already); the CC is the last cipher block.
 * - AES: CMAC (NIST SP 800-38B); the CC is its leftmost 8 bytes. CMAC pads for itself, so
 *   the input goes in as it is.
 */
import { equalBytes } from '../../bytes.js';
import { fail } from '../../errors.js';
import { encryptCbc } from './ciphers.js';
import { keyMaterial, type KeyMaterial, type OtaKey } from './keys.js';

/** Length of the CC this layer writes and expects (CHL = 13 + 8, RHL = 10 + 8). */
export const CC_LENGTH = 8;

function checkInput(input: Uint8Array): void {
  if (!(input instanceof Uint8Array)) fail('INVALID_ARGUMENT', 'checksum input must be bytes', { field: 'input' });
}

/** DES-family CBC-MAC: the last 8-byte block of CBC over the zero-padded input. */
export function cbcMac(key: OtaKey, input: Uint8Array): Buffer {
  const m = keyMaterial(key, 'kidKey');
  checkInput(input);
  if (m.algorithm === 'aes') fail('INVALID_ARGUMENT', 'CBC-MAC is for DES-family keys; AES uses CMAC', { field: 'kidKey' });
  if (input.length === 0) fail('INVALID_ARGUMENT', 'CBC-MAC needs at least one byte of input', { field: 'input' });
  const padded = Buffer.alloc(input.length + ((8 - (input.length % 8)) % 8));
  padded.set(input);
  if (m.nodeCipher === undefined) padded.set(encryptCbc(key, padded));
  else m.encryptor().encryptInPlace(padded);
  return padded.subarray(padded.length - 8);
}

/** AES-CMAC (SP 800-38B §6.2), the full 16-byte tag. */
export function aesCmac(key: OtaKey, message: Uint8Array): Buffer {
  const m = keyMaterial(key, 'kidKey');
  checkInput(message);
  if (m.algorithm !== 'aes') fail('INVALID_ARGUMENT', 'CMAC here is AES-CMAC; DES-family keys use CBC-MAC', { field: 'kidKey' });
  return cmac(m, message);
}

function cmac(m: KeyMaterial, message: Uint8Array): Buffer {
  // SP 800-38B §6.2: n = ceil(len/16) blocks (at least 1); the last block is XORed with K1
  // when complete, else padded with 10* and XORed with K2; then CBC with a zero IV, and the
  // tag is the last cipher block.
  const complete = message.length > 0 && message.length % 16 === 0;
  const blocks = complete ? message.length : message.length + 16 - (message.length % 16);
  const x = Buffer.alloc(blocks);
  x.set(message);
  if (!complete) x[message.length] = 0x80;
  const subkey = complete ? m.cmacK1! : m.cmacK2!;
  const last = blocks - 16;
  for (let i = 0; i < 16; i++) x[last + i] = x[last + i]! ^ subkey[i]!;
  m.encryptor().encryptInPlace(x);
  return x.subarray(last);
}

/** The 8-byte CC of `input` under the KID key, by the key's algorithm. */
export function computeCc(key: OtaKey, input: Uint8Array): Buffer {
  const m = keyMaterial(key, 'kidKey');
  checkInput(input);
  return m.algorithm === 'aes' ? cmac(m, input).subarray(0, CC_LENGTH) : cbcMac(key, input);
}

/** Whether `cc` is the CC of `input`; compared in constant time. */
export function verifyCc(key: OtaKey, input: Uint8Array, cc: Uint8Array): boolean {
  const expected = computeCc(key, input);
  return cc instanceof Uint8Array && equalBytes(expected, cc);
}
