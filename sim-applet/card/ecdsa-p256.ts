/**
 * ECDSA P-256 / SHA-256 signing with a raw 32-byte scalar, for the simulated card's
 * attestation key (FIPS 186-5 §6.4.1, SEC 1 §4.1.3).
 *
 * Why not node:crypto's sign(): it signs with a KeyObject only, and importing a raw scalar
 * costs more than the signature. Its JWK import checks the public point (a scalar
 * multiplication of an arbitrary point) and the first sign() then exports the legacy EC key to
 * OpenSSL 3's provider: about 180 µs a card under the benchmark `provisioning`'s load, for a
 * key every card uses once. SEC 1, PKCS #8 and WebCrypto imports are slower still here
 * (README). @noble/curves signs with its own JavaScript point arithmetic (about 510 µs).
 *
 * So the one scalar multiplication ECDSA needs, R = k·G, is OpenSSL's (ECDH with k as its
 * private key: the fixed-base multiplication with precomputed tables, about 25 µs), and the
 * arithmetic modulo n is @noble/curves' (the curve's scalar field, p256.Point.Fn). Nonces are 48 bytes from
 * node:crypto's CSPRNG reduced to [1, n-1] as @noble/curves reduces secret keys (FIPS 186-5
 * A.3.1 through A.2.1: uniform to within 2^-128). The modular arithmetic is not constant time:
 * this is a simulator's card; a real one signs inside its secure element.
 *
 * The signature is DER (SEQUENCE of two INTEGERs), as OpenSSL writes and every verifier here
 * reads; s is not normalised to the lower half, as OpenSSL does not.
 */
import { createECDH, createHash, randomBytes } from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';

/** Arithmetic modulo the group order n. */
const Fn = p256.Point.Fn;
/**
 * The fixed-base multiplier, made once: a new ECDH object per signature cost about 12 µs more
 * than setting its key (the group and its tables set up each time). It keeps the last nonce
 * until the next signature: process memory of a simulator, as the key itself is.
 */
const ecdh = createECDH('prime256v1');

function toBig(bytes: Uint8Array): bigint {
  return BigInt(`0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')}`);
}

/** A positive INTEGER's DER (X.690 §8.3): minimal, with a zero byte where the top bit is set. */
function derInteger(x: bigint): Buffer {
  const hex = x.toString(16);
  const body = Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex');
  const pad = body[0]! & 0x80 ? 1 : 0;
  const out = Buffer.allocUnsafe(2 + pad + body.length);
  out[0] = 0x02;
  out[1] = pad + body.length;
  if (pad) out[2] = 0;
  body.copy(out, 2 + pad);
  return out;
}

/**
 * Sign SHA-256(message) with the P-256 scalar `privateKey` (32 bytes, in [1, n-1]); DER.
 * Throws RangeError for a scalar outside [1, n-1].
 */
export function signP256(privateKey: Uint8Array, message: Uint8Array): Uint8Array {
  if (privateKey.length !== 32) throw new RangeError('a P-256 private key is 32 bytes');
  const d = toBig(privateKey);
  if (d === 0n || d >= Fn.ORDER) throw new RangeError('not a P-256 private key');
  // FIPS 186-5 §6.4.1 step 3-4: the hash, 256 bits as P-256's n, taken modulo n.
  const e = Fn.create(toBig(createHash('sha256').update(message).digest()));
  for (;;) {
    const kBytes = p256.utils.randomSecretKey(randomBytes(48));
    const k = toBig(kBytes);
    ecdh.setPrivateKey(kBytes);
    // R = k·G, uncompressed: 04 ‖ x ‖ y; r = x mod n.
    const r = Fn.create(toBig(ecdh.getPublicKey().subarray(1, 33)));
    kBytes.fill(0);
    if (r === 0n) continue;
    const s = Fn.mul(Fn.inv(k), Fn.add(e, Fn.mul(r, d)));
    if (s === 0n) continue;
    const R = derInteger(r);
    const S = derInteger(s);
    return Buffer.concat([Buffer.of(0x30, R.length + S.length), R, S]);
  }
}
