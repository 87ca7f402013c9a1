/**
 * The public key of a freshly generated private key, uncompressed (04 || X || Y).
 *
 * secp256k1 goes through libsecp256k1, bitcoin-core's C library: provisioning generates one
 * key per card, and the handset fleet runs thousands of cards on the operator's own machine,
 * so this is a large part of a simulated card's work (README, benchmark `provisioning`).
 * The npm package secp256k1 ships it prebuilt as a Node-API addon (about 34 µs a key here);
 * where that binary cannot load (another platform, no prebuild), the same library compiled
 * to WebAssembly by tiny-secp256k1 takes over (about 105-150 µs); @noble/curves takes about
 * 400-550 µs. Only the addon's bindings are loaded: the package's pure-JS fallback (elliptic)
 * never is. P-256 keys are rare and stay with @noble/curves.
 */
import { createRequire } from 'node:module';
import { createECDH } from 'node:crypto';
import { pointFromScalar } from 'tiny-secp256k1';
import type { Curve } from './attestation.js';

interface Secp256k1Addon {
  /** Throws when the scalar is not in [1, n-1]. */
  publicKeyCreate(secretKey: Uint8Array, compressed?: boolean): Uint8Array;
}

function loadAddon(): Secp256k1Addon | null {
  try {
    return createRequire(import.meta.url)('secp256k1/bindings.js') as Secp256k1Addon;
  } catch {
    return null;
  }
}

const addon = loadAddon();

/** Which implementation derives secp256k1 public keys here: the native addon or the WebAssembly build. */
export const SECP256K1_BACKEND: 'native' | 'wasm' = addon ? 'native' : 'wasm';

/**
 * A P-256 public key (SEC 1 uncompressed) by OpenSSL's ECDH: about 25 µs here, against
 * about 480 µs for @noble/curves. Throws RangeError for a scalar outside [1, n-1].
 */
export function p256PublicKey(privateKey: Uint8Array): Uint8Array {
  const ecdh = createECDH('prime256v1');
  try {
    ecdh.setPrivateKey(privateKey);
  } catch {
    throw new RangeError('not a P-256 private key');
  }
  return Uint8Array.from(ecdh.getPublicKey());
}

export function publicKeyOf(curve: Curve, privateKey: Uint8Array): Uint8Array {
  if (curve === 'p256') return p256PublicKey(privateKey);
  let point: Uint8Array | null = null;
  try {
    point = addon ? addon.publicKeyCreate(privateKey, false) : pointFromScalar(privateKey, false);
  } catch {
    // not a scalar in [1, n-1]: refused below, as tiny-secp256k1's null is
  }
  // A scalar in [1, n-1] (what randomSecretKey gives) always has a point.
  if (!point) throw new RangeError('not a secp256k1 private key');
  return point;
}
