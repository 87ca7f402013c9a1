import t from 'tap';
import { isProtocolError } from '../../../sim-applet/errors.js';
import {
  algorithmFor,
  createOtaKey,
  decodeKeyCoding,
  encodeKeyCoding,
  otaKeyForCoding,
  type KeyRole,
} from '../../../sim-applet/protocol/ota/index.js';

const KNOWN: Record<number, string> = { 0x0: 'implicit', 0x1: 'des', 0x5: '3des2', 0x9: '3des3', 0x2: 'aes' };

t.test('every byte, both roles: known nibbles decode, DES-ECB is UNSUPPORTED for KIc, the rest UNKNOWN_ALGORITHM', async (t) => {
  const wrong: string[] = [];
  for (const role of ['kic', 'kid'] as KeyRole[]) {
    for (let byte = 0; byte < 256; byte++) {
      const nibble = byte & 0x0f;
      const known = KNOWN[nibble];
      const expectedCode = known !== undefined ? undefined : role === 'kic' && nibble === 0xd ? 'UNSUPPORTED' : 'UNKNOWN_ALGORITHM';
      try {
        const c = decodeKeyCoding(byte, role);
        if (expectedCode !== undefined) wrong.push(`${role} ${byte}: accepted`);
        else if (c.index !== byte >>> 4 || c.algorithm !== known || encodeKeyCoding(c, role) !== byte) wrong.push(`${role} ${byte}: ${JSON.stringify(c)}`);
      } catch (e) {
        if (expectedCode === undefined || !isProtocolError(e, expectedCode) || e.details.field !== role) wrong.push(`${role} ${byte}: ${String(e)}`);
      }
    }
  }
  t.same(wrong, []);
});

t.test('KID nibble D is reserved in TS 102 225 §5.1.3.1, not DES-ECB', async (t) => {
  t.throws(() => decodeKeyCoding(0x1d, 'kid'), { code: 'UNKNOWN_ALGORITHM', details: { field: 'kid' } });
});

t.test('coding bytes seen in the vectors', async (t) => {
  t.same(decodeKeyCoding(0x35, 'kic'), { index: 3, algorithm: '3des2' });
  t.same(decodeKeyCoding(0x22, 'kid'), { index: 2, algorithm: 'aes' });
  t.same(decodeKeyCoding(0x09, 'kic'), { index: 0, algorithm: '3des3' });
  t.same(decodeKeyCoding(0x11, 'kid'), { index: 1, algorithm: 'des' });
  t.equal(encodeKeyCoding({ index: 7, algorithm: '3des2' }), 0x75);
});

t.test('bad arguments', async (t) => {
  t.throws(() => decodeKeyCoding(256, 'kic'), { code: 'INVALID_ARGUMENT', details: { field: 'kic' } });
  t.throws(() => decodeKeyCoding(-1, 'kid'), { code: 'INVALID_ARGUMENT', details: { field: 'kid' } });
  t.throws(() => decodeKeyCoding(1.5, 'kid'), { code: 'INVALID_ARGUMENT', details: { field: 'kid' } });
  t.throws(() => encodeKeyCoding({ index: 16, algorithm: 'aes' }), { code: 'INVALID_ARGUMENT', details: { field: 'kic' } });
  t.throws(() => encodeKeyCoding({ index: 1, algorithm: 'rot13' as 'aes' }, 'kid'), { code: 'UNKNOWN_ALGORITHM', details: { field: 'kid' } });
  t.throws(() => encodeKeyCoding(null as never), { code: 'INVALID_ARGUMENT' });
});

t.test('algorithmFor: implicit takes the key, an explicit nibble must match it', async (t) => {
  const aes = createOtaKey('aes', new Uint8Array(16));
  t.equal(algorithmFor(0x10, 'kic', aes), 'aes');
  t.equal(algorithmFor(0x12, 'kid', aes), 'aes');
  t.throws(() => algorithmFor(0x15, 'kic', aes), { code: 'INVALID_ARGUMENT', details: { field: 'kicKey', coded: '3des2', key: 'aes' } });
  t.throws(() => algorithmFor(0x19, 'kid', aes), { code: 'INVALID_ARGUMENT', details: { field: 'kidKey' } });
  t.throws(() => algorithmFor(0x1f, 'kid', aes), { code: 'UNKNOWN_ALGORITHM', details: { field: 'kid' } });
});

t.test('otaKeyForCoding builds the key a coding byte and key bytes describe', async (t) => {
  t.equal(otaKeyForCoding(0x35, 'kic', new Uint8Array(16)).algorithm, '3des2');
  t.equal(otaKeyForCoding(0x22, 'kid', new Uint8Array(32)).length, 32);
  t.equal(otaKeyForCoding(0x10, 'kic', new Uint8Array(24), '3des3').algorithm, '3des3');
  t.throws(() => otaKeyForCoding(0x10, 'kic', new Uint8Array(16)), { code: 'INVALID_ARGUMENT', details: { field: 'kic' } });
  t.throws(() => otaKeyForCoding(0x15, 'kic', new Uint8Array(8)), { code: 'INVALID_KEY_LENGTH', details: { field: 'key' } });
  t.throws(() => otaKeyForCoding(0x1d, 'kic', new Uint8Array(8)), { code: 'UNSUPPORTED', details: { field: 'kic' } });
});
