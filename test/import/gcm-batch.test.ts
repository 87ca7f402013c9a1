/**
 * AES-256-GCM for batches (provisioning-api/secrets/gcm-batch.ts) against node:crypto's
 * aes-256-gcm, byte for byte, on random keys, nonces, additional data and plaintexts of
 * every length from 0 to 80 bytes and some long ones, and against the test vectors of the
 * GCM specification (McGrew and Viega, "The Galois/Counter Mode of Operation", test cases
 * 13-16: the 256-bit key ones).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import t from 'tap';
import { GcmBatchCipher, type GcmMessage } from '../../provisioning-api/secrets/gcm-batch.js';

function nodeSeal(key: Buffer, m: GcmMessage): Buffer {
  const c = createCipheriv('aes-256-gcm', key, m.nonce);
  c.setAAD(m.aad);
  const body = Buffer.concat([c.update(m.plain), c.final()]);
  return Buffer.concat([m.nonce, body, c.getAuthTag()]);
}

function batchSeal(key: Buffer, messages: GcmMessage[]): Buffer[] {
  const offsets = [0];
  for (const m of messages) offsets.push(offsets.at(-1)! + GcmBatchCipher.sealedLength(m.plain.length));
  const out = Buffer.alloc(offsets.at(-1)!);
  new GcmBatchCipher(key).sealInto(messages, out, offsets);
  return messages.map((_, i) => out.subarray(offsets[i]!, offsets[i + 1]!));
}

t.test('the same bytes as node:crypto for every plaintext and additional-data length', async (t) => {
  for (let round = 0; round < 20; round++) {
    const key = randomBytes(32);
    const messages: GcmMessage[] = [];
    for (let len = 0; len <= 80; len++) {
      messages.push({ nonce: randomBytes(12), aad: randomBytes((len * 7 + round) % 41), plain: randomBytes(len) });
    }
    messages.push({ nonce: randomBytes(12), aad: Buffer.alloc(0), plain: randomBytes(4099) });
    messages.push({ nonce: randomBytes(12), aad: randomBytes(300), plain: Buffer.alloc(0) });
    const ours = batchSeal(key, messages);
    const mismatches = messages.filter((m, i) => !ours[i]!.equals(nodeSeal(key, m))).length;
    t.equal(mismatches, 0, `round ${round}: ${messages.length} messages`);
  }
});

t.test('node:crypto opens what it seals; a flipped bit does not open', async (t) => {
  const key = randomBytes(32);
  const m: GcmMessage = { nonce: randomBytes(12), aad: Buffer.from('8944100000000000017'), plain: randomBytes(56) };
  const [sealed] = batchSeal(key, [m]);
  const open = (blob: Buffer) => {
    const d = createDecipheriv('aes-256-gcm', key, blob.subarray(0, 12));
    d.setAAD(m.aad);
    d.setAuthTag(blob.subarray(blob.length - 16));
    return Buffer.concat([d.update(blob.subarray(12, blob.length - 16)), d.final()]);
  };
  t.same(open(sealed!), m.plain);
  const flipped = Buffer.from(sealed!);
  flipped[20] = flipped[20]! ^ 0x80;
  t.throws(() => open(flipped));
});

t.test('the specification\'s 256-bit test vectors (cases 13 to 16)', async (t) => {
  const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
  const key16 = hex('feffe9928665731c6d6a8f9467308308 feffe9928665731c6d6a8f9467308308');
  const p16 = hex(`d9313225f88406e5a55909c5aff5269a 86a7a9531534f7da2e4c303d8a318a72
    1c3c0c95956809532fcf0e2449a6b525 b16aedf5aa0de657ba637b39`);
  const cases = [
    { key: Buffer.alloc(32), nonce: Buffer.alloc(12), aad: Buffer.alloc(0), plain: Buffer.alloc(0), cipher: '', tag: '530f8afbc74536b9a963b4f1c4cb738b' },
    { key: Buffer.alloc(32), nonce: Buffer.alloc(12), aad: Buffer.alloc(0), plain: Buffer.alloc(16), cipher: 'cea7403d4d606b6e074ec5d3baf39d18', tag: 'd0d1c8a799996bf0265b98b5d48ab919' },
    {
      key: key16, nonce: hex('cafebabefacedbaddecaf888'), aad: hex('feedfacedeadbeeffeedfacedeadbeefabaddad2'), plain: p16,
      cipher: `522dc1f099567d07f47f37a32a84427d 643a8cdcbfe5c0c97598a2bd2555d1aa
        8cb08e48590dbb3da7b08b1056828838 c5f61e6393ba7a0abcc9f662`,
      tag: '76fc6ece0f4e1768cddf8853bb2d551b',
    },
  ];
  for (const [i, c] of cases.entries()) {
    const [sealed] = batchSeal(c.key, [{ nonce: c.nonce, aad: c.aad, plain: c.plain }]);
    t.equal(sealed!.subarray(12, 12 + c.plain.length).toString('hex'), c.cipher.replace(/\s+/g, ''), `case ${i}: ciphertext`);
    t.equal(sealed!.subarray(12 + c.plain.length).toString('hex'), c.tag, `case ${i}: tag`);
  }
});

t.test('refuses a key or a nonce of the wrong size', async (t) => {
  t.throws(() => new GcmBatchCipher(randomBytes(16)), RangeError);
  t.throws(() => batchSeal(randomBytes(32), [{ nonce: randomBytes(16), aad: Buffer.alloc(0), plain: Buffer.alloc(3) }]), RangeError);
});

t.test('the committed WebAssembly is what its text compiles to (npm run wasm:build)', async (t) => {
  const { compileGcmSeal, gcmSealSource } = await import('../../provisioning-api/secrets/build-gcm-wasm.js');
  const { readFileSync } = await import('node:fs');
  const committed = readFileSync(new URL('../../provisioning-api/secrets/gcm-seal-wasm.ts', import.meta.url), 'utf8');
  t.equal(committed, gcmSealSource(await compileGcmSeal()));
});

t.test('each message is written at its own offset and nothing around it changes', async (t) => {
  const key = randomBytes(32);
  const messages: GcmMessage[] = Array.from({ length: 40 }, (_, i) => ({ nonce: randomBytes(12), aad: randomBytes(i % 23), plain: randomBytes((i * 5) % 61) }));
  const offsets: number[] = [];
  let at = 7;
  for (const m of messages) {
    offsets.push(at);
    at += GcmBatchCipher.sealedLength(m.plain.length) + (m.plain.length % 5); // gaps of 0..4 bytes
  }
  const out = Buffer.alloc(at + 9, 0xaa);
  new GcmBatchCipher(key).sealInto(messages, out, offsets);
  const written = new Uint8Array(out.length);
  messages.forEach((m, i) => {
    t.same(out.subarray(offsets[i]!, offsets[i]! + GcmBatchCipher.sealedLength(m.plain.length)), nodeSeal(key, m), `message ${i}`);
    written.fill(1, offsets[i]!, offsets[i]! + GcmBatchCipher.sealedLength(m.plain.length));
  });
  t.ok(out.every((b, k) => written[k] === 1 || b === 0xaa), 'every other byte as it was');
});
