/**
 * The public key of a freshly generated private key, uncompressed (04 || X || Y).
 *
 * secp256k1 goes through libsecp256k1 (bitcoin-core's C library, compiled to WebAssembly by
 * the npm package tiny-secp256k1): about 105 µs a key here against about 400 µs in
 * @noble/curves. Provisioning generates one key per card, and the handset fleet runs
 * thousands of cards on the operator's own machine, so this is most of a simulated card's
 * work (README, benchmark `provisioning`). P-256 keys are rare and stay with @noble/curves.
 */
import { p256 } from '@noble/curves/nist.js';
import { pointFromScalar } from 'tiny-secp256k1';
import type { Curve } from './attestation.js';

export function publicKeyOf(curve: Curve, privateKey: Uint8Array): Uint8Array {
  if (curve === 'p256') return p256.getPublicKey(privateKey, false);
  const point = pointFromScalar(privateKey, false);
  // A scalar in [1, n-1] (what randomSecretKey gives) always has a point.
  if (!point) throw new RangeError('not a secp256k1 private key');
  return point;
}
