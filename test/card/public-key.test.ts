/**
 * Public keys of generated private keys (sim-applet/card/public-key.ts) against
 * @noble/curves, through libsecp256k1's native addon on this platform.
 */
import t from 'tap';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { p256 } from '@noble/curves/nist.js';
import { publicKeyOf, SECP256K1_BACKEND } from '../../sim-applet/card/public-key.js';

t.equal(SECP256K1_BACKEND, 'native', 'the prebuilt libsecp256k1 addon loads on linux-x64 (the WebAssembly build is the fallback)');

t.test('secp256k1 and P-256 public keys equal @noble/curves', async (t) => {
  for (let i = 0; i < 100; i++) {
    const k = secp256k1.utils.randomSecretKey();
    t.same(Buffer.from(publicKeyOf('secp256k1', k)).toString('hex'), Buffer.from(secp256k1.getPublicKey(k, false)).toString('hex'), `secp256k1 key ${i}`);
  }
  const edges = [Uint8Array.of(...new Uint8Array(31), 1), Buffer.from('fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140', 'hex')];
  for (const k of edges) t.same(Buffer.from(publicKeyOf('secp256k1', k)), Buffer.from(secp256k1.getPublicKey(k, false)), `edge scalar ${Buffer.from(k).toString('hex').slice(-4)}`);
  const k = p256.utils.randomSecretKey();
  t.same(Buffer.from(publicKeyOf('p256', k)), Buffer.from(p256.getPublicKey(k, false)), 'P-256');
});

t.test('a scalar outside [1, n-1] has no public key', async (t) => {
  const n = Buffer.from('fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141', 'hex');
  for (const [name, k] of [['zero', new Uint8Array(32)], ['n', n], ['all ones', new Uint8Array(32).fill(0xff)], ['short', new Uint8Array(31).fill(1)]] as const) {
    t.throws(() => publicKeyOf('secp256k1', k), RangeError, name);
  }
});
