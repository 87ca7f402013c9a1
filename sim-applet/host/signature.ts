/**
 * What a device's firmware or the backend does with the card's signatures: the card
 * returns r and s only (as secure elements do), so v is found by recovering the public
 * key for each candidate recovery id and keeping the one that matches the card's key.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { pointCompress } from 'tiny-secp256k1';
import { fail } from '../errors.js';
import { equalBytes, toHex } from '../bytes.js';

/** 65-byte r ‖ s ‖ v with v = 27 + recovery id (the form ethers and Solidity's ecrecover take). */
export function toRecoverableSignature(digest: Uint8Array, r: Uint8Array, s: Uint8Array, publicKey: Uint8Array): Uint8Array {
  if (r.length !== 32 || s.length !== 32) fail('INVALID_ARGUMENT', 'r and s are 32 bytes each', { field: 'signature' });
  const compact = new Uint8Array(64);
  compact.set(r, 0);
  compact.set(s, 32);
  const expected = secp256k1.Point.fromBytes(publicKey).toBytes(false);
  for (const recovery of [0, 1]) {
    try {
      const recovered = secp256k1.Signature.fromBytes(compact, 'compact').addRecoveryBit(recovery).recoverPublicKey(digest).toBytes(false);
      if (equalBytes(recovered, expected)) {
        const out = new Uint8Array(65);
        out.set(compact, 0);
        out[64] = 27 + recovery;
        return out;
      }
    } catch {
      // this recovery id gives no point: try the other
    }
  }
  fail('INVALID_ARGUMENT', 'signature does not belong to this public key and digest', { field: 'signature' });
}

/** Ethereum address of a secp256k1 public key (compressed or uncompressed), EIP-55 checksummed. */
export function addressOf(publicKey: Uint8Array): string {
  return checksumAddress(toHex(addressBytesOf(publicKey)));
}

/**
 * Raw 20 address bytes of a secp256k1 public key (compressed or uncompressed). The point is
 * checked and decompressed by libsecp256k1 (tiny-secp256k1, about 1.7 µs against 7 µs in
 * @noble/curves): the backend derives one address per provisioned SIM.
 */
export function addressBytesOf(publicKey: Uint8Array): Uint8Array {
  let uncompressed: Uint8Array | null = null;
  try {
    uncompressed = pointCompress(publicKey, false);
  } catch {
    // not a point on the curve (or not a point encoding at all): refused below
  }
  if (!uncompressed) fail('INVALID_ARGUMENT', 'not a secp256k1 public key', { field: 'publicKey' });
  return keccak_256(uncompressed.subarray(1)).subarray(12);
}

/** EIP-55 mixed-case checksum of a 40-hex-digit address. */
export function checksumAddress(hex40: string): string {
  const lower = hex40.toLowerCase().replace(/^0x/, '');
  const hash = toHex(keccak_256(new TextEncoder().encode(lower)));
  let out = '0x';
  for (let i = 0; i < 40; i++) out += parseInt(hash[i]!, 16) >= 8 ? lower[i]!.toUpperCase() : lower[i]!;
  return out;
}
