import { inspect } from 'node:util';
import t from 'tap';
import { fromHex, toHex } from '../../../sim-applet/bytes.js';
import { computeCc, createOtaKey, isOtaKey, type OtaAlgorithm, type OtaKey } from '../../../sim-applet/protocol/ota/index.js';
import { keyMaterial } from '../../../sim-applet/protocol/ota/keys.js';

const LENGTHS: Record<OtaAlgorithm, number[]> = { des: [8], '3des2': [16], '3des3': [24], aes: [16, 24, 32] };

t.test('each algorithm takes exactly its key lengths', async (t) => {
  for (const [algorithm, ok] of Object.entries(LENGTHS) as [OtaAlgorithm, number[]][]) {
    for (let length = 0; length <= 40; length++) {
      if (ok.includes(length)) {
        const key = createOtaKey(algorithm, new Uint8Array(length));
        t.equal(key.algorithm, algorithm);
        t.equal(key.length, length);
        t.equal(key.blockSize, algorithm === 'aes' ? 16 : 8);
        t.ok(isOtaKey(key));
      } else {
        t.throws(() => createOtaKey(algorithm, new Uint8Array(length)), {
          name: 'ProtocolError',
          code: 'INVALID_KEY_LENGTH',
          details: { field: 'key', algorithm, actual: length },
        });
      }
    }
  }
});

t.test('unknown algorithm and non-bytes', async (t) => {
  t.throws(() => createOtaKey('des-ecb' as OtaAlgorithm, new Uint8Array(8)), { code: 'UNKNOWN_ALGORITHM', details: { field: 'algorithm' } });
  t.throws(() => createOtaKey('aes', 'abcd' as unknown as Uint8Array), { code: 'INVALID_ARGUMENT', details: { field: 'key' } });
});

t.test('the key is copied: changing the caller buffer later changes nothing', async (t) => {
  const bytes = fromHex('2b7e151628aed2a6abf7158809cf4f3c');
  const key = createOtaKey('aes', bytes);
  const before = toHex(computeCc(key, fromHex('00')));
  bytes.fill(0);
  t.equal(toHex(computeCc(key, fromHex('00'))), before);
});

t.test('keys do not print their bytes', async (t) => {
  const key = createOtaKey('3des2', fromHex('c21dd66acac13cb3bc8b331b24afb57b'));
  t.equal(JSON.stringify(key), '{"algorithm":"3des2","length":16}');
  t.notMatch(inspect(key), /c21d|194|bytes/);
  t.match(inspect(key), /3des2/);
});

t.test('hot paths refuse things that only look like keys', async (t) => {
  const fake = { algorithm: 'aes', length: 16, blockSize: 16 } as OtaKey;
  t.notOk(isOtaKey(fake));
  t.throws(() => computeCc(fake, new Uint8Array(8)), { code: 'INVALID_ARGUMENT', details: { field: 'kidKey' } });
});

t.test('AES-CMAC subkeys K1, K2 are derived once (RFC 4493 §4 example)', async (t) => {
  const m = keyMaterial(createOtaKey('aes', fromHex('2b7e151628aed2a6abf7158809cf4f3c')));
  t.equal(toHex(m.cmacK1!), 'fbeed618357133667c85e08f7236a8de');
  t.equal(toHex(m.cmacK2!), 'f7ddac306ae266ccf90bc11ee46d513b');
  t.equal(keyMaterial(createOtaKey('3des2', new Uint8Array(16))).cmacK1, undefined);
});
