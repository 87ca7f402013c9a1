import { createCipheriv } from 'node:crypto';
import fc from 'fast-check';
import t from 'tap';
import { concatBytes, fromHex, toHex } from '../../../sim-applet/bytes.js';
import {
  aesCmac,
  cbcMac,
  computeCc,
  createOtaKey,
  encryptCbc,
  verifyCc,
  type OtaAlgorithm,
} from '../../../sim-applet/protocol/ota/index.js';
import { vectorsOfKind } from '../../helpers/vectors.js';

const M = fromHex(
  '6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710',
);

// RFC 4493 §4 (AES-128) and SP 800-38B Appendix D.2/D.3 (AES-192/256): messages are the
// first 0, 16, 40 and 64 bytes of M; tags in full.
const CMAC_EXAMPLES = [
  {
    name: 'RFC 4493 AES-128',
    key: '2b7e151628aed2a6abf7158809cf4f3c',
    tags: ['bb1d6929e95937287fa37d129b756746', '070a16b46b4d4144f79bdd9dd04a287c', 'dfa66747de9ae63030ca32611497c827', '51f0bebf7e3b9d92fc49741779363cfe'],
  },
  {
    name: 'SP 800-38B AES-192',
    key: '8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b',
    tags: ['d17ddf46adaacde531cac483de7a9367', '9e99a7bf31e710900662f65e617c5184', '8a1de5be2eb31aad089a82e6ee908b0e', 'a1d5df0eed790f794d77589659f39a11'],
  },
  {
    name: 'SP 800-38B AES-256',
    key: '603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4',
    tags: ['028962f61b7bf89efc6b551f4667d983', '28a7023f452e8f82bd4bf28d8c37c35c', 'aaf3d8f1de5640c232f5b169b9c911e6', 'e1992190549f6ed5696a2c056c315410'],
  },
];

t.test('AES-CMAC examples, full 16-byte tags; the CC is the leftmost 8 bytes', async (t) => {
  for (const ex of CMAC_EXAMPLES) {
    const key = createOtaKey('aes', fromHex(ex.key));
    [0, 16, 40, 64].forEach((length, i) => {
      t.equal(toHex(aesCmac(key, M.subarray(0, length))), ex.tags[i], `${ex.name}, ${length} bytes`);
      t.equal(toHex(computeCc(key, M.subarray(0, length))), ex.tags[i]!.slice(0, 16), `${ex.name}, ${length} bytes, CC`);
    });
  }
});

t.test('DES CBC-MAC, FIPS 113 / ANSI X9.9 example (MAC f1d30f68 = leftmost 32 bits)', async (t) => {
  const key = createOtaKey('des', fromHex('0123456789abcdef'));
  // 28 bytes: zero-padded to 32 by the CC rule.
  t.equal(toHex(cbcMac(key, Buffer.from('7654321 Now is the time for ', 'latin1'))), 'f1d30f6849312ca4');
});

const ALGORITHM: Record<string, OtaAlgorithm> = { '3DES': '3des2', AES: 'aes' };

t.test('cc-primitive vectors (onomondo-uicc)', async (t) => {
  const vectors = vectorsOfKind('cc-primitive');
  t.equal(vectors.length, 6);
  for (const v of vectors) {
    const key = createOtaKey(ALGORITHM[v.algorithm as string]!, fromHex(v.kid as string));
    const data = fromHex(v.data_hex as string);
    t.equal(toHex(computeCc(key, data)), v.expected_cc, v.id);
    t.ok(verifyCc(key, data, fromHex(v.expected_cc as string)), `${v.id} verifies`);
  }
});

t.test('CBC-MAC pads with zeros only when the input is not a block multiple', async (t) => {
  fc.assert(
    fc.property(
      fc.constantFrom<[OtaAlgorithm, number]>(['des', 8], ['3des2', 16], ['3des3', 24]),
      fc.uint8Array({ minLength: 24, maxLength: 24 }),
      fc.uint8Array({ minLength: 1, maxLength: 70 }),
      ([algorithm, length], k, data) => {
        const key = createOtaKey(algorithm, k.subarray(0, length));
        const padded = concatBytes(data, new Uint8Array((8 - (data.length % 8)) % 8));
        const cipher = encryptCbc(key, padded);
        const mac = toHex(cbcMac(key, data));
        return mac === toHex(cipher.subarray(cipher.length - 8)) && mac === toHex(cbcMac(key, padded)) && mac === toHex(computeCc(key, data));
      },
    ),
  );
  t.pass('property holds');
});

/** SP 800-38B §6.2 written out block by block on AES-ECB, as an independent reference. */
function referenceCmac(key: Uint8Array, message: Uint8Array): string {
  const ecb = (block: Uint8Array): Buffer => {
    const c = createCipheriv(`aes-${key.length * 8}-ecb`, key, null);
    c.setAutoPadding(false);
    return c.update(block);
  };
  const dbl = (b: Uint8Array): Uint8Array => {
    const out = new Uint8Array(16);
    let carry = 0;
    for (let i = 15; i >= 0; i--) {
      out[i] = ((b[i]! << 1) | carry) & 0xff;
      carry = b[i]! >> 7;
    }
    if (b[0]! >> 7) out[15] = out[15]! ^ 0x87;
    return out;
  };
  const k1 = dbl(ecb(new Uint8Array(16)));
  const k2 = dbl(k1);
  const n = Math.max(1, Math.ceil(message.length / 16));
  const complete = message.length > 0 && message.length % 16 === 0;
  let x: Uint8Array = new Uint8Array(16);
  for (let i = 0; i < n; i++) {
    const block = new Uint8Array(16);
    block.set(message.subarray(i * 16, i * 16 + 16));
    if (i === n - 1) {
      if (!complete) block[message.length - i * 16] = 0x80;
      const sub = complete ? k1 : k2;
      for (let j = 0; j < 16; j++) block[j] = block[j]! ^ sub[j]!;
    }
    for (let j = 0; j < 16; j++) block[j] = block[j]! ^ x[j]!;
    x = ecb(block);
  }
  return toHex(x);
}

t.test('AES-CMAC equals a block-by-block reference for every length 0..100 and key size', async (t) => {
  fc.assert(
    fc.property(fc.constantFrom(16, 24, 32), fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 100 }), (length, k, data) => {
      const key = k.subarray(0, length);
      return toHex(aesCmac(createOtaKey('aes', key), data)) === referenceCmac(key, data);
    }),
  );
  t.pass('property holds');
});

t.test('verifyCc rejects any other CC', async (t) => {
  const key = createOtaKey('aes', new Uint8Array(16).fill(7));
  const data = fromHex('00112233445566778899');
  const cc = computeCc(key, data);
  t.equal(cc.length, 8);
  t.ok(verifyCc(key, data, cc));
  for (let bit = 0; bit < 64; bit++) {
    const bad = Uint8Array.from(cc);
    bad[bit >> 3] = bad[bit >> 3]! ^ (1 << (bit & 7));
    if (verifyCc(key, data, bad)) t.fail(`flipped bit ${bit} verified`);
  }
  t.notOk(verifyCc(key, data, cc.subarray(0, 4)));
  t.notOk(verifyCc(key, data, 'cc' as unknown as Uint8Array));
});

t.test('wrong key kinds and inputs are typed errors', async (t) => {
  const aes = createOtaKey('aes', new Uint8Array(16));
  const des = createOtaKey('des', new Uint8Array(8));
  t.throws(() => cbcMac(aes, new Uint8Array(8)), { name: 'ProtocolError', code: 'INVALID_ARGUMENT', details: { field: 'kidKey' } });
  t.throws(() => aesCmac(des, new Uint8Array(8)), { code: 'INVALID_ARGUMENT', details: { field: 'kidKey' } });
  t.throws(() => cbcMac(des, new Uint8Array(0)), { code: 'INVALID_ARGUMENT', details: { field: 'input' } });
  t.throws(() => computeCc(aes, [1, 2] as unknown as Uint8Array), { code: 'INVALID_ARGUMENT', details: { field: 'input' } });
  t.throws(() => computeCc(new Uint8Array(16) as never, new Uint8Array(8)), { code: 'INVALID_ARGUMENT', details: { field: 'kidKey' } });
});
