/**
 * Device addresses (sim-applet/host/signature.ts) against ethers' computeAddress, for
 * compressed and uncompressed keys; what is not a point is refused with a typed error.
 */
import t from 'tap';
import { computeAddress, SigningKey } from 'ethers';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { addressBytesOf, addressOf } from '../../sim-applet/index.js';

t.test('addresses equal ethers computeAddress for compressed and uncompressed keys', async (t) => {
  for (let i = 0; i < 50; i++) {
    const priv = secp256k1.utils.randomSecretKey();
    const uncompressed = secp256k1.getPublicKey(priv, false);
    const compressed = secp256k1.getPublicKey(priv, true);
    const expected = computeAddress(new SigningKey(priv).publicKey);
    t.equal(addressOf(uncompressed), expected, `uncompressed key ${i}: EIP-55 address`);
    t.equal(addressOf(compressed), expected, `compressed key ${i}: EIP-55 address`);
    t.equal(`0x${Buffer.from(addressBytesOf(uncompressed)).toString('hex')}`, expected.toLowerCase(), `key ${i}: raw bytes`);
  }
});

t.test('what is not a secp256k1 point is refused', async (t) => {
  const good = secp256k1.getPublicKey(secp256k1.utils.randomSecretKey(), false);
  const offCurve = Uint8Array.from(good);
  offCurve[64] = offCurve[64]! ^ 1;
  const badPrefix = Uint8Array.from(good);
  badPrefix[0] = 0x05;
  const cases: Array<[string, Uint8Array]> = [
    ['off the curve', offCurve],
    ['unknown prefix', badPrefix],
    ['truncated', good.subarray(0, 64)],
    ['empty', new Uint8Array(0)],
    ['x not on the curve (compressed)', Uint8Array.of(0x02, ...new Uint8Array(32).fill(0xff))],
  ];
  for (const [name, key] of cases) {
    t.throws(() => addressBytesOf(key), { code: 'INVALID_ARGUMENT' }, name);
  }
});
