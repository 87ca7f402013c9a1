/**
 * The securing step command packets and PoRs share (TS 102 225 §5.1 and §5.2):
 *
 *   [0, cipherStart)         in clear (CPL..TAR, or UDH RPL RHL TAR)
 *   [cipherStart, ccStart)   CNTR, PCNTR (and the PoR status)
 *   [ccStart, +ccLength)     the CC
 *   [.., end)                data, then zero padding counted in PCNTR
 *
 * The CC covers every byte but itself and is computed before ciphering; the ciphering then
 * covers cipherStart..end. For a command ccStart is 16 (after PCNTR), for a PoR with its UDH
 * also 16 (after the status byte).
 */
import { fail } from '../../errors.js';
import { decryptCbc, encryptCbcInPlace } from './ciphers.js';
import type { OtaKey } from './keys.js';
import { CC_LENGTH, computeCc, verifyCc } from './mac.js';

export interface SealLayout {
  cipherStart: number;
  ccStart: number;
}

/** Zero padding that brings `length` to a multiple of the block size. */
export function paddingFor(blockSize: number, length: number): number {
  return (blockSize - (length % blockSize)) % blockSize;
}

/**
 * Fill in CC, data and padding of `out`, whose header [0, ccStart) is written and whose
 * length is ccStart + (kidKey ? 8 : 0) + data.length + padding, then cipher with kicKey.
 * `out` must be zero-filled past ccStart.
 */
export function sealInto(out: Buffer, layout: SealLayout, data: Uint8Array, kidKey: OtaKey | undefined, kicKey: OtaKey | undefined): void {
  const { cipherStart, ccStart } = layout;
  if (kidKey !== undefined) {
    // Lay data and padding right after the header, where the CC will go, so the checksum
    // input is one contiguous slice; then move them up by the CC length and write the CC.
    out.set(data, ccStart);
    const macEnd = out.length - CC_LENGTH;
    const cc = computeCc(kidKey, out.subarray(0, macEnd));
    out.copyWithin(ccStart + CC_LENGTH, ccStart, macEnd);
    out.set(cc, ccStart);
  } else {
    out.set(data, ccStart);
  }
  if (kicKey !== undefined) encryptCbcInPlace(kicKey, out.subarray(cipherStart));
}

export interface Unsealed {
  /** The whole structure in clear (a copy, never the input). */
  plain: Buffer;
  /** The CC as received (empty when none). */
  cc: Buffer;
  /** Data and padding, after the CC. */
  body: Buffer;
}

/**
 * Decipher (when kicKey is given) and split a sealed structure. A ciphered part that is not
 * a block multiple raises INVALID_PADDING; `bytes` must reach ccStart + ccLength.
 */
export function unseal(bytes: Uint8Array, layout: SealLayout, ccLength: number, kicKey: OtaKey | undefined): Unsealed {
  const { cipherStart, ccStart } = layout;
  if (bytes.length < ccStart + ccLength) {
    fail('TRUNCATED', 'the secured header ends before its checksum', { field: 'cc', length: bytes.length, needed: ccStart + ccLength });
  }
  let plain: Buffer;
  if (kicKey === undefined) {
    plain = Buffer.from(bytes);
  } else {
    const deciphered = decryptCbc(kicKey, bytes.subarray(cipherStart));
    plain = Buffer.allocUnsafe(bytes.length);
    plain.set(bytes.subarray(0, cipherStart), 0);
    plain.set(deciphered, cipherStart);
  }
  return {
    plain,
    cc: plain.subarray(ccStart, ccStart + ccLength),
    body: plain.subarray(ccStart + ccLength),
  };
}

/** Whether the received CC is the CC of everything but itself. */
export function checksumMatches(unsealed: Unsealed, layout: SealLayout, kidKey: OtaKey): boolean {
  const { plain, cc, body } = unsealed;
  const input = Buffer.allocUnsafe(layout.ccStart + body.length);
  plain.copy(input, 0, 0, layout.ccStart);
  body.copy(input, layout.ccStart);
  return verifyCc(kidKey, input, cc);
}

/**
 * Where the padding counter goes wrong, or undefined when it is right. Ciphered: padding
 * must be shorter than a block, fit in the body and be zeros (TS 102 225 §5.1: zero padding
 * to the block); not ciphered: there is no padding (PCNTR 0).
 */
export function paddingProblem(
  pcntr: number,
  body: Uint8Array,
  blockSize: number | undefined,
): { field: 'pcntr' | 'padding'; reason: string } | undefined {
  if (blockSize === undefined) {
    return pcntr === 0 ? undefined : { field: 'pcntr', reason: 'PCNTR must be 0 when nothing is ciphered' };
  }
  if (pcntr >= blockSize) return { field: 'pcntr', reason: `PCNTR ${pcntr} is not below the ${blockSize}-byte block` };
  if (pcntr > body.length) return { field: 'pcntr', reason: `PCNTR ${pcntr} exceeds the ${body.length} bytes of data` };
  for (let i = body.length - pcntr; i < body.length; i++) {
    if (body[i] !== 0) return { field: 'padding', reason: 'padding bytes are not zero' };
  }
  return undefined;
}
