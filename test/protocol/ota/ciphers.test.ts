import { createCipheriv } from 'node:crypto';
import fc from 'fast-check';
import t from 'tap';
import { concatBytes, fromHex, toHex } from '../../../sim-applet/bytes.js';
import { computeCc, createOtaKey, decryptCbc, encryptCbc, type OtaAlgorithm } from '../../../sim-applet/protocol/ota/index.js';

/**
 * The standards' examples use an IV v; this API only has the zero IV. CBC_v(P1..Pn) equals
 * CBC_0((P1 ^ v) P2..Pn), and decrypting with the zero IV gives back P1 ^ v: XOR v into the
 * first block on the way in, and out again.
 */
function xorIv(iv: Uint8Array, text: Uint8Array): Uint8Array {
  const out = Uint8Array.from(text);
  for (let i = 0; i < iv.length; i++) out[i] = out[i]! ^ iv[i]!;
  return out;
}

t.test('DES-CBC, FIPS 81 Appendix C (key 0123456789abcdef, "Now is the time for all ")', async (t) => {
  const key = createOtaKey('des', fromHex('0123456789abcdef'));
  const iv = fromHex('1234567890abcdef');
  const plain = Buffer.from('Now is the time for all ', 'latin1');
  const cipher = 'e5c7cdde872bf27c43e934008c389c0f683788499a7c05f6';
  t.equal(toHex(encryptCbc(key, xorIv(iv, plain))), cipher);
  t.equal(Buffer.from(xorIv(iv, decryptCbc(key, fromHex(cipher)))).toString('latin1'), 'Now is the time for all ');
  // FIPS 81 ECB example: one block under a zero IV is ECB.
  t.equal(toHex(encryptCbc(key, Buffer.from('Now is t', 'latin1'))), '3fa40e8a984d4815');
});

t.test('3-key 3DES, SP 800-67 Rev. 2 Appendix B example (block by block, ECB)', async (t) => {
  const key = createOtaKey('3des3', fromHex('0123456789abcdef23456789abcdef01456789abcdef0123'));
  const plain = Buffer.from('The qufck brown fox jump', 'latin1');
  const blocks = ['a826fd8ce53b855f', 'cce21c8112256fe6', '68d5c05dd9b6b900'];
  blocks.forEach((c, i) => {
    t.equal(toHex(encryptCbc(key, plain.subarray(i * 8, i * 8 + 8))), c);
    t.equal(toHex(decryptCbc(key, fromHex(c))), toHex(plain.subarray(i * 8, i * 8 + 8)));
  });
});

const F2_PLAIN = fromHex(
  '6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710',
);
const F2_IV = fromHex('000102030405060708090a0b0c0d0e0f');
const SP800_38A = [
  {
    name: 'F.2.1/F.2.2 CBC-AES128',
    key: '2b7e151628aed2a6abf7158809cf4f3c',
    cipher: '7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b273bed6b8e3c1743b7116e69e222295163ff1caa1681fac09120eca307586e1a7',
  },
  {
    name: 'F.2.3/F.2.4 CBC-AES192',
    key: '8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b',
    cipher: '4f021db243bc633d7178183a9fa071e8b4d9ada9ad7dedf4e5e738763f69145a571b242012fb7ae07fa9baac3df102e008b0e27988598881d920a9e64f5615cd',
  },
  {
    name: 'F.2.5/F.2.6 CBC-AES256',
    key: '603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4',
    cipher: 'f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d39f23369a9d9bacfa530e26304231461b2eb05e2c39be9fcda6c19078c6a9d1b',
  },
];

t.test('AES-CBC, SP 800-38A Appendix F.2', async (t) => {
  for (const v of SP800_38A) {
    const key = createOtaKey('aes', fromHex(v.key));
    t.equal(toHex(encryptCbc(key, xorIv(F2_IV, F2_PLAIN))), v.cipher, `${v.name} encrypt`);
    t.equal(toHex(xorIv(F2_IV, decryptCbc(key, fromHex(v.cipher)))), toHex(F2_PLAIN), `${v.name} decrypt`);
  }
});

t.test('single DES on node-forge equals 3DES with K1=K2(=K3) on node:crypto (random keys and data)', async (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 8, maxLength: 8 }), fc.integer({ min: 0, max: 12 }), fc.uint8Array({ minLength: 96, maxLength: 96 }), (k, blocks, bytes) => {
      const data = bytes.subarray(0, blocks * 8);
      const des = createOtaKey('des', k);
      const twoKey = createOtaKey('3des2', concatBytes(k, k));
      const threeKey = createOtaKey('3des3', concatBytes(k, k, k));
      const c = toHex(encryptCbc(des, data));
      return (
        c === toHex(encryptCbc(twoKey, data)) &&
        c === toHex(encryptCbc(threeKey, data)) &&
        toHex(decryptCbc(des, fromHex(c))) === toHex(data) &&
        toHex(computeCc(des, data.length > 0 ? data : fromHex('00'))) === toHex(computeCc(twoKey, data.length > 0 ? data : fromHex('00')))
      );
    }),
  );
  t.pass('property holds');
});

t.test('2-key 3DES is 3-key 3DES with K3 = K1', async (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.uint8Array({ minLength: 0, maxLength: 10 }), (k, seed) => {
      const data = new Uint8Array(seed.length * 8).map((_, i) => seed[i >> 3]! ^ i);
      const twoKey = createOtaKey('3des2', k);
      const threeKey = createOtaKey('3des3', concatBytes(k, k.subarray(0, 8)));
      return toHex(encryptCbc(twoKey, data)) === toHex(encryptCbc(threeKey, data));
    }),
  );
  t.pass('property holds');
});

const NODE_NAME: Record<string, string> = { '3des2:16': 'des-ede-cbc', '3des3:24': 'des-ede3-cbc', 'aes:16': 'aes-128-cbc', 'aes:24': 'aes-192-cbc', 'aes:32': 'aes-256-cbc' };

t.test('the long-lived encryptor gives a fresh zero-IV CBC on every call, whatever came before', async (t) => {
  // Each key keeps one OpenSSL context open across calls (zero-iv-cbc.ts); interleaving
  // ciphering and checksums on the same key must never let one call's chaining leak into
  // the next. Compared with a new node:crypto context per call.
  const keySpec = fc.constantFrom<[OtaAlgorithm, number]>(['3des2', 16], ['3des3', 24], ['aes', 16], ['aes', 24], ['aes', 32]);
  fc.assert(
    fc.property(keySpec, fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 6 }), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 8 }), ([algorithm, length], keyBytes, ops) => {
      const k = keyBytes.subarray(0, length);
      const key = createOtaKey(algorithm, k);
      const bs = key.blockSize;
      for (const [asMac, blocks, fill] of ops) {
        const data = new Uint8Array(blocks * bs).fill(fill);
        if (asMac) {
          computeCc(key, concatBytes(data, Uint8Array.of(fill)));
          continue;
        }
        const c = createCipheriv(NODE_NAME[`${algorithm}:${length}`]!, k, Buffer.alloc(bs));
        c.setAutoPadding(false);
        const expected = toHex(concatBytes(c.update(data), c.final()));
        if (toHex(encryptCbc(key, data)) !== expected) return false;
      }
      return true;
    }),
  );
  t.pass('property holds');
});

t.test('encrypt then decrypt is the identity for every algorithm and key length', async (t) => {
  const keySpec = fc.constantFrom<[OtaAlgorithm, number]>(['des', 8], ['3des2', 16], ['3des3', 24], ['aes', 16], ['aes', 24], ['aes', 32]);
  fc.assert(
    fc.property(keySpec, fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 100 }), ([algorithm, length], k, bytes) => {
      const key = createOtaKey(algorithm, k.subarray(0, length));
      const data = bytes.subarray(0, bytes.length - (bytes.length % key.blockSize));
      const c = encryptCbc(key, data);
      return c.length === data.length && toHex(decryptCbc(key, c)) === toHex(data);
    }),
  );
  t.pass('property holds');
});

t.test('input that is not a block multiple is INVALID_PADDING, in both directions', async (t) => {
  const keys = [createOtaKey('des', new Uint8Array(8)), createOtaKey('3des2', new Uint8Array(16)), createOtaKey('aes', new Uint8Array(16))];
  for (const key of keys) {
    for (const length of [1, 7, key.blockSize + 1, key.blockSize * 2 - 1]) {
      t.throws(() => encryptCbc(key, new Uint8Array(length)), { name: 'ProtocolError', code: 'INVALID_PADDING', details: { field: 'plaintext', length } });
      t.throws(() => decryptCbc(key, new Uint8Array(length)), { name: 'ProtocolError', code: 'INVALID_PADDING', details: { field: 'ciphertext', length } });
    }
  }
  t.throws(() => encryptCbc(keys[2]!, new Uint8Array(8)), { code: 'INVALID_PADDING', details: { blockSize: 16 } });
  t.throws(() => decryptCbc(keys[2]!, 'abcd' as unknown as Uint8Array), { code: 'INVALID_ARGUMENT', details: { field: 'ciphertext' } });
  t.throws(() => encryptCbc(fromHex('00') as never, new Uint8Array(8)), { code: 'INVALID_ARGUMENT', details: { field: 'kicKey' } });
});
