/**
 * A provisioning batch of 100,000 SIMs: the tree built off chain, its root anchored in one
 * transaction, a sample of proofs verified by the contract (OpenZeppelin's MerkleProof), and
 * forged proofs refused.
 */
import { randomBytes, randomInt } from 'node:crypto';
import t from 'tap';
import { registryCalls } from '../../provisioning-api/chain/index.js';
import { MerkleTreeBuilder } from '../../provisioning-api/domain/merkle.js';
import { startChain } from '../helpers/anvil.js';

const LEAVES = 100_000;
const SAMPLE = 48;

const chain = await startChain();
const { reader, registryAddress: at, registrar } = chain;

// Devices and commitments as the batch worker would stream them from the database. The
// commitments are random bytes: what they commit to plays no part on chain.
const deviceBytes = randomBytes(20 * LEAVES);
const commitmentBytes = randomBytes(32 * LEAVES);
const devices: string[] = [];
const commitments: string[] = [];
const builder = await MerkleTreeBuilder.create(LEAVES);
for (let i = 0; i < LEAVES; i++) {
  const device = deviceBytes.subarray(20 * i, 20 * i + 20);
  const commitment = commitmentBytes.subarray(32 * i, 32 * i + 32);
  devices.push(`0x${device.toString('hex')}`);
  commitments.push(`0x${commitment.toString('hex')}`);
  builder.add(device, commitment);
}
const tree = builder.build();
const batchRef = `0x${randomBytes(32).toString('hex')}`;

const sample = [0, 1, LEAVES - 1, ...Array.from({ length: SAMPLE - 3 }, () => randomInt(LEAVES))];

t.test('one transaction anchors 100,000 SIMs', async (t) => {
  const entry = await registrar.outbox.submit('anchor-100k', registryCalls.anchorBatch(at, tree.rootHex, LEAVES, batchRef));
  t.equal(entry.state, 'confirmed');
  t.ok(entry.receipt!.gasUsed < 100_000n, `anchoring used ${entry.receipt!.gasUsed} gas, under 1 gas per SIM`);
  const b = await reader.batch(batchRef);
  t.equal(b.leafCount, LEAVES);
  t.equal(b.root, tree.rootHex);
});

t.test('the contract verifies a sample of proofs', async (t) => {
  for (const i of sample) {
    const proof = tree.proofHex(i);
    // A complete tree of 100,000 leaves has them at depths 16 and 17 (2^16 < 100,000 < 2^17).
    t.ok(proof.length === 16 || proof.length === 17, `leaf ${i}: a ${proof.length}-hash proof`);
    t.ok(await reader.verify(batchRef, devices[i]!, commitments[i]!, proof), `leaf ${i} verifies`);
  }
});

t.test('forged proofs are refused', async (t) => {
  for (const i of sample.slice(0, 12)) {
    const proof = tree.proofHex(i);
    const j = (i + 1 + randomInt(LEAVES - 1)) % LEAVES;
    const level = randomInt(proof.length);
    const flipped = [...proof];
    const byte = 2 + 2 * randomInt(32);
    flipped[level] = flipped[level]!.slice(0, byte) + ((parseInt(flipped[level]!.slice(byte, byte + 2), 16) ^ 1).toString(16).padStart(2, '0')) + flipped[level]!.slice(byte + 2);
    const swapped = [...proof];
    [swapped[0], swapped[1]] = [swapped[1]!, swapped[0]!];
    t.notOk(await reader.verify(batchRef, devices[i]!, commitments[i]!, flipped), `leaf ${i}: one bit flipped at level ${level}`);
    t.notOk(await reader.verify(batchRef, devices[i]!, commitments[i]!, swapped), `leaf ${i}: two levels swapped`);
    t.notOk(await reader.verify(batchRef, devices[i]!, commitments[i]!, tree.proofHex(j)), `leaf ${i}: leaf ${j}'s proof`);
    t.notOk(await reader.verify(batchRef, devices[j]!, commitments[i]!, proof), `leaf ${i}'s commitment claimed by device ${j}`);
    t.notOk(await reader.verify(batchRef, devices[i]!, commitments[j]!, proof), `leaf ${i}'s device with commitment ${j}`);
    // An inner node is no leaf: the double hash keeps second-preimage forgeries out.
    const inner = tree.proofHex(i).slice(1);
    t.notOk(await reader.verify(batchRef, devices[i]!, commitments[i]!, inner), `leaf ${i}: proof without its first level`);
  }
});

t.test('re-anchoring the same batchRef changes nothing', async (t) => {
  const again = await registrar.outbox.submit('anchor-100k-resend', registryCalls.anchorBatch(at, tree.rootHex, LEAVES, batchRef));
  t.equal(again.receipt!.status, 1);
  t.equal((await reader.batch(batchRef)).root, tree.rootHex, 'the batch is unchanged');
  const same = await registrar.outbox.submit('anchor-100k', registryCalls.anchorBatch(at, tree.rootHex, LEAVES, batchRef));
  t.equal(same.receipt!.hash, (await registrar.outbox.wait('anchor-100k')).receipt!.hash, 'the same outbox id is the same transaction');
});
