/**
 * The batch Merkle tree against OpenZeppelin's StandardMerkleTree (same root, same proofs,
 * same node layout, sorted and unsorted), and its properties: any leaf's proof verifies, any
 * altered leaf or proof does not. The on-chain side (MerkleProof in DeviceRegistry.verify) is
 * in test/contracts/.
 */
import { randomBytes } from 'node:crypto';
import t from 'tap';
import fc from 'fast-check';
import { AbiCoder, keccak256 } from 'ethers';
import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import {
  commitmentPreimage,
  deviceLeaf,
  imsiCommitment,
  imsiCommitmentHex,
  leafPreimage,
} from '../../provisioning-api/domain/imsi-commitment.js';
import { MerkleTreeBuilder, processProof, verifyProof, type DeviceMerkleTree } from '../../provisioning-api/domain/merkle.js';

const hex = (b: Uint8Array): string => `0x${Buffer.from(b).toString('hex')}`;
type Pair = [string, string];

function randomPairs(n: number): Pair[] {
  return Array.from({ length: n }, () => [hex(randomBytes(20)), hex(randomBytes(32))]);
}

async function build(pairs: Pair[], sortLeaves = true): Promise<DeviceMerkleTree> {
  const b = await MerkleTreeBuilder.create(Math.max(1, pairs.length >> 1)); // small on purpose: the buffer must grow
  for (const [device, commitment] of pairs) b.add(device, commitment);
  return b.build({ sortLeaves });
}

t.test('same root, proofs and layout as StandardMerkleTree', async (t) => {
  for (const n of [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 31, 100, 257, 1000, 4097]) {
    const pairs = randomPairs(n);
    for (const sortLeaves of [true, false]) {
      const oz = StandardMerkleTree.of(pairs, ['address', 'bytes32'], { sortLeaves });
      const tree = await build(pairs, sortLeaves);
      t.equal(tree.rootHex, oz.root, `${n} leaves, sortLeaves ${sortLeaves}: root`);
      const dump = oz.dump();
      let same = true;
      for (let i = 0; i < n; i++) {
        const proof = tree.proofHex(i);
        if (JSON.stringify(proof) !== JSON.stringify(oz.getProof(i))) same = false;
        if (tree.treeIndex(i) !== dump.values[i]!.treeIndex) same = false;
        if (hex(tree.leaf(i)) !== oz.leafHash(pairs[i]!)) same = false;
        if (!StandardMerkleTree.verify(oz.root, ['address', 'bytes32'], pairs[i]!, proof)) same = false;
      }
      t.ok(same, `${n} leaves, sortLeaves ${sortLeaves}: every proof, tree index and leaf hash`);
      if (n <= 257) t.same(dump.tree, Array.from({ length: 2 * n - 1 }, (_, i) => hex(tree.nodes.subarray(i * 32, i * 32 + 32))), 'node for node');
    }
  }
});

t.test('sorted leaves: the root does not depend on the order of arrival', async (t) => {
  const pairs = randomPairs(300);
  const shuffled = [...pairs].sort(() => Math.random() - 0.5);
  t.equal((await build(shuffled)).rootHex, (await build(pairs)).rootHex);
});

t.test('leaf prefixes that tie in the sort key are still ordered by full hash', async (t) => {
  // 2^17 leaves leave 36 bits of prefix in the key; leaf hashes sharing them are rare, so the
  // tie path is forced here with leaf hashes that share their first 8 bytes.
  const b = await MerkleTreeBuilder.create(64);
  const leaves: string[] = [];
  for (let i = 0; i < 64; i++) {
    const leaf = Buffer.concat([Buffer.alloc(8, i % 3), randomBytes(24)]);
    leaves.push(hex(leaf));
    b.addLeafHash(leaf);
  }
  const tree = b.build();
  const sorted = [...leaves].sort();
  t.same(
    Array.from({ length: 64 }, (_, k) => hex(tree.nodes.subarray((126 - k) * 32, (126 - k) * 32 + 32))),
    sorted,
    'leaves sit at the end in ascending order, reversed, as StandardMerkleTree puts them',
  );
  for (let i = 0; i < 64; i++) t.ok(verifyProof(tree.root, leaves[i]!, tree.proof(i)));
});

t.test('property: every leaf of any tree proves; altered leaves and proofs do not', async (t) => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 300 }),
      fc.nat(),
      fc.nat(),
      fc.integer({ min: 0, max: 255 }),
      fc.boolean(),
      async (n, pick, where, bit, sortLeaves) => {
        const pairs = randomPairs(n);
        const tree = await build(pairs, sortLeaves);
        const i = pick % n;
        const leaf = deviceLeaf(pairs[i]![0], pairs[i]![1]);
        const proof = tree.proof(i);
        if (!verifyProof(tree.root, leaf, proof)) return false;
        // Flip one bit of the leaf.
        const badLeaf = Uint8Array.from(leaf);
        badLeaf[bit >> 3]! ^= 1 << (bit & 7);
        if (verifyProof(tree.root, badLeaf, proof)) return false;
        if (proof.length === 0) return true; // a one-leaf tree: the leaf is the root
        // Flip one bit of one proof element.
        const bad = proof.map((p) => Uint8Array.from(p));
        bad[where % bad.length]![bit >> 3]! ^= 1 << (bit & 7);
        if (verifyProof(tree.root, leaf, bad)) return false;
        // Drop the last element.
        if (verifyProof(tree.root, leaf, proof.slice(0, -1))) return false;
        // Another leaf's proof (when it differs).
        const j = (i + 1 + (where % n)) % n;
        if (j !== i && hex(processProof(leaf, tree.proof(j))) === tree.rootHex) return false;
        return true;
      },
    ),
    { numRuns: 150 },
  );
  t.pass('held for every generated tree');
});

t.test('proofs for any leaf come from the built tree, no rebuild', async (t) => {
  const pairs = randomPairs(10_000);
  const tree = await build(pairs);
  const started = process.hrtime.bigint();
  for (let i = 0; i < 10_000; i++) tree.proofHex(i);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  t.ok(tree.proof(9_999).length >= 13, 'log2 depth');
  t.comment(`10,000 proofs in ${ms.toFixed(0)} ms`);
});

t.test('input checks', async (t) => {
  const b = await MerkleTreeBuilder.create(0);
  t.throws(() => b.build(), { name: 'ProtocolError', code: 'INVALID_ARGUMENT' });
  t.throws(() => b.add('0x1234', hex(randomBytes(32))), { name: 'ProtocolError', code: 'INVALID_ARGUMENT' });
  t.throws(() => b.add(hex(randomBytes(20)), 'zz'), { name: 'ProtocolError', code: 'INVALID_HEX' });
  b.add(hex(randomBytes(20)), hex(randomBytes(32)));
  const tree = b.build();
  t.equal(tree.leafCount, 1);
  t.same(tree.proof(0), [], 'a one-leaf tree: the leaf is the root');
  t.same(tree.leaf(0), tree.root);
  t.throws(() => tree.proof(1), { name: 'ProtocolError', code: 'INVALID_ARGUMENT' });
  t.throws(() => tree.proof(-1), { name: 'ProtocolError', code: 'INVALID_ARGUMENT' });
  await t.rejects(MerkleTreeBuilder.create(-1));
});

t.test('IMSI commitment and leaf encoding match Solidity abi.encode', async (t) => {
  const coder = AbiCoder.defaultAbiCoder();
  const salt = randomBytes(32);
  for (const imsi of ['001010123456789', '20801123456789', '310150123456']) {
    const expected = coder.encode(['bytes32', 'string'], [hex(salt), imsi]);
    t.equal(hex(commitmentPreimage(salt, imsi)), expected, `abi.encode(salt, "${imsi}")`);
    t.equal(hex(imsiCommitment(salt, imsi)), keccak256(expected));
    t.equal(imsiCommitmentHex(hex(salt), imsi), keccak256(expected), 'hex input, hex output');
  }
  t.not(imsiCommitmentHex(salt, '001010123456789'), imsiCommitmentHex(salt, '01010123456789'), 'a leading zero matters');
  t.not(imsiCommitmentHex(salt, '001010123456789'), imsiCommitmentHex(randomBytes(32), '001010123456789'), 'the salt hides the IMSI');
  const device = hex(randomBytes(20));
  const commitment = imsiCommitmentHex(salt, '001010123456789');
  t.equal(hex(leafPreimage(device, commitment)), coder.encode(['address', 'bytes32'], [device, commitment]));
  t.equal(hex(deviceLeaf(device, commitment)), StandardMerkleTree.of([[device, commitment]], ['address', 'bytes32']).leafHash([device, commitment]));
  for (const bad of ['', '12345', '1234567890123456', '00101012345678a', ' 001010123456789']) {
    t.throws(() => imsiCommitment(salt, bad), { name: 'ProtocolError', code: 'INVALID_ARGUMENT' }, `IMSI ${JSON.stringify(bad)}`);
  }
  t.throws(() => imsiCommitment(randomBytes(31), '001010123456789'), { name: 'ProtocolError', code: 'INVALID_ARGUMENT' }, 'a short salt');
});
