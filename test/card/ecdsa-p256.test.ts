import t, { type Test } from 'tap';
import { createPublicKey, randomBytes, verify } from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';
import { signP256 } from '../../sim-applet/card/ecdsa-p256.js';
import { p256PublicKey } from '../../sim-applet/card/public-key.js';

const N = p256.Point.Fn.ORDER;
const scalar = (x: bigint): Uint8Array => Buffer.from(x.toString(16).padStart(64, '0'), 'hex');

function spki(publicKey: Uint8Array) {
  return createPublicKey({ key: Buffer.concat([Buffer.from('3059301306072a8648ce3d020106082a8648ce3d03010703420004', 'hex'), publicKey.subarray(1)]), format: 'der', type: 'spki' });
}

/** The DER structure, checked to be minimal (X.690 §8.3.2): returns r and s. */
function readDer(t: Test, sig: Uint8Array): { r: bigint; s: bigint } {
  const b = Buffer.from(sig);
  t.equal(b[0], 0x30);
  t.equal(b[1], b.length - 2, 'the SEQUENCE spans the signature');
  const ints: bigint[] = [];
  let o = 2;
  for (let i = 0; i < 2; i++) {
    t.equal(b[o], 0x02);
    const len = b[o + 1]!;
    const body = b.subarray(o + 2, o + 2 + len);
    t.ok(body[0]! < 0x80, 'positive');
    if (body.length > 1 && body[0] === 0) t.ok(body[1]! >= 0x80, 'no needless leading zero');
    ints.push(BigInt(`0x${body.toString('hex')}`));
    o += 2 + len;
  }
  t.equal(o, b.length, 'nothing after s');
  return { r: ints[0]!, s: ints[1]! };
}

t.test('signatures verify with OpenSSL and @noble/curves, for random keys and messages, and are minimal DER', async (t) => {
  let checked = 0;
  for (let i = 0; i < 200; i++) {
    const d = p256.utils.randomSecretKey(randomBytes(48));
    const message = randomBytes(i % 150);
    const sig = signP256(d, message);
    const publicKey = p256PublicKey(d);
    if (!verify('sha256', message, spki(publicKey), sig)) t.fail(`OpenSSL refused signature ${i}`);
    if (!p256.verify(sig, message, publicKey, { format: 'der', lowS: false })) t.fail(`@noble/curves refused signature ${i}`);
    const { r, s } = readDer(t, sig);
    if (!(r > 0n && r < N && s > 0n && s < N)) t.fail(`r or s out of range in signature ${i}`);
    checked++;
  }
  t.equal(checked, 200);
});

t.test('a signature is for its message and its key only', async (t) => {
  const d = p256.utils.randomSecretKey(randomBytes(48));
  const message = Buffer.from('simchain-attestation-v1 test');
  const sig = signP256(d, message);
  t.ok(verify('sha256', message, spki(p256PublicKey(d)), sig));
  const other = Buffer.from(message);
  other[3]! ^= 1;
  t.notOk(verify('sha256', other, spki(p256PublicKey(d)), sig), 'another message');
  t.notOk(verify('sha256', message, spki(p256PublicKey(p256.utils.randomSecretKey(randomBytes(48)))), sig), 'another key');
  const flipped = Buffer.from(sig);
  flipped[flipped.length - 1]! ^= 1;
  t.notOk(verify('sha256', message, spki(p256PublicKey(d)), flipped), 'a flipped bit of s');
});

t.test('nonces are fresh: the same message signs differently each time, and every signature verifies', async (t) => {
  const d = p256.utils.randomSecretKey(randomBytes(48));
  const message = Buffer.from('the same message');
  const rs = new Set<string>();
  for (let i = 0; i < 20; i++) {
    const sig = signP256(d, message);
    t.ok(verify('sha256', message, spki(p256PublicKey(d)), sig));
    rs.add(readDer(t, sig).r.toString(16));
  }
  t.equal(rs.size, 20, 'twenty different r');
});

t.test('the extreme scalars 1 and n-1 sign; 0, n, n+1 and a short key are refused', async (t) => {
  for (const x of [1n, 2n, N - 1n]) {
    const sig = signP256(scalar(x), Buffer.from('edge'));
    t.ok(verify('sha256', Buffer.from('edge'), spki(p256PublicKey(scalar(x))), sig), `d = ${x === N - 1n ? 'n-1' : x}`);
  }
  for (const bad of [scalar(0n), scalar(N), scalar(N + 1n), new Uint8Array(31), new Uint8Array(33)]) {
    t.throws(() => signP256(bad, Buffer.from('edge')), RangeError);
  }
});
