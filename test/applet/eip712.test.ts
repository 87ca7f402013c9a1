import t from 'tap';
import fc from 'fast-check';
import { TypedDataEncoder, getAddress, hexlify, toBeHex, zeroPadValue } from 'ethers';
import {
  domainOf,
  domainSeparator,
  hashStruct,
  typedDataDigest,
  word,
  SIGNING_PURPOSES,
  type SigningPurpose,
} from '../../sim-applet/applet/eip712.js';
import { fromHex } from '../../sim-applet/bytes.js';

// Independent check: ethers' TypedDataEncoder computes the same digests from the shared type definitions.
const hex = (n: number) => fc.uint8Array({ minLength: n, maxLength: n }).map((b) => hexlify(b));

t.test('domain separators match ethers for every purpose', async (t) => {
  fc.assert(
    fc.property(fc.bigInt({ min: 1n, max: 2n ** 64n }), hex(20), (chainId, contract) => {
      for (const purpose of Object.keys(SIGNING_PURPOSES) as SigningPurpose[]) {
        const ours = hexlify(domainSeparator(purpose, fromHex(toBeHex(chainId).slice(2)), fromHex(contract.slice(2))));
        const theirs = TypedDataEncoder.hashDomain(domainOf(purpose, chainId, getAddress(contract)));
        if (ours !== theirs) return false;
      }
      return true;
    }),
    { numRuns: 50 },
  );
  t.pass();
});

t.test('reading digests match ethers, negative values included', async (t) => {
  fc.assert(
    fc.property(
      hex(20), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), hex(32),
      fc.bigInt({ min: -(2n ** 255n), max: 2n ** 255n - 1n }), hex(32),
      (device, counter, observedAt, metric, value, payloadHash) => {
        const purpose = 'reading';
        const domain = domainOf(purpose, 31337n, '0x' + '11'.repeat(20));
        const message = { device: getAddress(device), counter, observedAt, metric, value, payloadHash };
        const expected = TypedDataEncoder.hash(domain, SIGNING_PURPOSES.reading.types as never, message);
        const u = (n: bigint) => word(fromHex(n.toString(16).padStart(16, '0')));
        const int256 = fromHex(BigInt.asUintN(256, value).toString(16).padStart(64, '0'));
        const sh = hashStruct(purpose, [word(fromHex(device.slice(2))), u(counter), u(observedAt), fromHex(metric.slice(2)), int256, fromHex(payloadHash.slice(2))]);
        const ds = domainSeparator(purpose, fromHex('7a69'), fromHex('11'.repeat(20)));
        return hexlify(typedDataDigest(ds, sh)) === expected;
      },
    ),
    { numRuns: 50 },
  );
  t.pass();
});

t.test('access request and unlock struct hashes match ethers', async (t) => {
  const access = {
    responder: getAddress('0x' + 'ab'.repeat(20)),
    areaId: zeroPadValue('0x01', 32),
    incidentId: zeroPadValue('0x02', 32),
    requestedAt: 1_800_000_000n,
    expiresAt: 1_800_003_600n,
    nonce: 7n,
  };
  const ours = hashStruct('accessRequest', [
    word(fromHex('ab'.repeat(20))), fromHex(access.areaId.slice(2)), fromHex(access.incidentId.slice(2)),
    word(fromHex('6b49d200')), word(fromHex('6b49e010')), word(fromHex('07')),
  ]);
  t.equal(hexlify(ours), TypedDataEncoder.hashStruct('AccessRequest', SIGNING_PURPOSES.accessRequest.types as never, access));
  const unlock = { lock: getAddress('0x' + '22'.repeat(20)), keyId: 42n, user: getAddress('0x' + '33'.repeat(20)), issuedAt: 5n, nonce: 9n };
  const oursUnlock = hashStruct('unlock', [word(fromHex('22'.repeat(20))), word(fromHex('2a')), word(fromHex('33'.repeat(20))), word(fromHex('05')), word(fromHex('09'))]);
  t.equal(hexlify(oursUnlock), TypedDataEncoder.hashStruct('Unlock', SIGNING_PURPOSES.unlock.types as never, unlock));
});

t.test('wrong field counts and widths are refused', async (t) => {
  t.throws(() => hashStruct('unlock', [new Uint8Array(32)]), { code: 'INVALID_ARGUMENT' });
  t.throws(() => hashStruct('unlock', Array.from({ length: 5 }, () => new Uint8Array(31))), { code: 'INVALID_ARGUMENT' });
  t.throws(() => word(new Uint8Array(33)), { code: 'INVALID_ARGUMENT' });
  t.throws(() => domainSeparator('reading', fromHex('01'), new Uint8Array(19)), { code: 'INVALID_ARGUMENT' });
});
