/**
 * DeviceRegistry on a real anvil: every function, role and revert, and the events of every
 * state change. Writes go through the chain adapter's outbox, so a revert arrives as a
 * ChainError with the contract's custom error decoded.
 */
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { ZeroAddress, getAddress, id, type TransactionReceipt } from 'ethers';
import {
  decodeRegistryLog,
  registryCalls,
  REGISTRAR_ROLE,
  type OutboxEntry,
  type RegistryEvent,
} from '../../provisioning-api/chain/index.js';
import { MerkleTreeBuilder, type DeviceMerkleTree } from '../../provisioning-api/domain/merkle.js';
import { deviceLeaf, imsiCommitmentHex } from '../../provisioning-api/domain/imsi-commitment.js';
import { revertsWith, startChain, type Actor } from '../helpers/anvil.js';

const chain = await startChain();
const { registry, reader, registryAddress: at, admin, registrar, otherRegistrar, outsider } = chain;
const provider = chain.connection.provider;

interface Sim {
  device: string;
  commitment: string;
}

function randomSims(n: number): Sim[] {
  return Array.from({ length: n }, (_, i) => ({
    device: getAddress(`0x${randomBytes(20).toString('hex')}`),
    commitment: imsiCommitmentHex(randomBytes(32), `00101${String(1_000_000_000 + i)}`),
  }));
}

async function treeOf(sims: Sim[]): Promise<DeviceMerkleTree> {
  const b = await MerkleTreeBuilder.create(sims.length);
  for (const s of sims) b.add(s.device, s.commitment);
  return b.build();
}

const ref = (): string => `0x${randomBytes(32).toString('hex')}`;
let seq = 0;
const send = (actor: Actor, request: { to: string | null; data: string }): Promise<OutboxEntry> =>
  actor.outbox.submit(`test-${++seq}`, request);

async function eventsOf(entry: OutboxEntry): Promise<RegistryEvent[]> {
  const receipt = (await provider.getTransactionReceipt(entry.receipt!.hash)) as TransactionReceipt;
  return receipt.logs.map(decodeRegistryLog);
}

const sims = randomSims(7);
const tree = await treeOf(sims);

t.test('roles at deployment', async (t) => {
  t.equal(await registry.REGISTRAR_ROLE(), REGISTRAR_ROLE);
  t.equal(REGISTRAR_ROLE, id('REGISTRAR_ROLE'));
  t.ok(await registry.hasRole(await registry.DEFAULT_ADMIN_ROLE(), admin.address), 'admin holds DEFAULT_ADMIN_ROLE');
  t.ok(await reader.isRegistrar(registrar.address));
  t.ok(await reader.isRegistrar(otherRegistrar.address));
  t.notOk(await reader.isRegistrar(admin.address), 'the admin is not a registrar by default');
  t.notOk(await reader.isRegistrar(outsider.address));
  t.ok(await registry.supportsInterface('0x7965db0b'), 'IAccessControl');
  t.ok(await registry.supportsInterface('0x01ffc9a7'), 'ERC-165');
});

t.test('leafOf computes the off-chain leaf', async (t) => {
  for (const s of sims.slice(0, 3)) {
    t.equal(await registry.leafOf(s.device, s.commitment), `0x${Buffer.from(deviceLeaf(s.device, s.commitment)).toString('hex')}`);
  }
});

const batchRef = ref();
/** A batch's id is the batchRef it was anchored under. */
const batchId = batchRef;

t.test('anchorBatch binds a batch in one transaction and emits BatchAnchored', async (t) => {
  const entry = await send(registrar, registryCalls.anchorBatch(at, tree.rootHex, sims.length, batchRef));
  const [event, ...more] = await eventsOf(entry);
  t.equal(more.length, 0, 'one event');
  t.match(event, { name: 'BatchAnchored', batchId: batchRef, operator: registrar.address, root: tree.rootHex, leafCount: 7 });
  t.ok(await reader.isAnchored(batchRef));
  t.notOk(await reader.isAnchored(ref()));
  const b = await reader.batch(batchRef);
  t.match(b, { batchId: batchRef, root: tree.rootHex, operator: registrar.address, leafCount: 7, revoked: false });
  t.ok(entry.receipt!.gasUsed < 80_000n, `anchoring cost ${entry.receipt!.gasUsed} gas`);
  const block = await provider.getBlock(entry.receipt!.blockNumber);
  t.equal(b.anchoredAt, block!.timestamp, 'anchoredAt is the block time');
});

t.test('anchoring the same batchRef again creates no second batch', async (t) => {
  t.equal(await registry.anchorBatch.staticCall(tree.rootHex, sims.length, batchRef, { from: registrar.address }), false, 'nothing created');
  t.equal(await registry.anchorBatch.staticCall(tree.rootHex, sims.length, ref(), { from: registrar.address }), true, 'where a new ref would be');
  const again = await send(registrar, registryCalls.anchorBatch(at, tree.rootHex, sims.length, batchRef));
  t.equal(again.receipt!.status, 1, 'the resend succeeds');
  t.same(await eventsOf(again), [], 'and emits nothing');
  const byOther = await send(otherRegistrar, registryCalls.anchorBatch(at, tree.rootHex, sims.length, batchRef));
  t.same(await eventsOf(byOther), [], 'the same content from another registrar is the same batch');
  t.equal((await reader.batch(batchRef)).operator, registrar.address, 'the first operator stays');
});

t.test('anchorBatch reverts', async (t) => {
  const other = await treeOf(randomSims(2));
  await revertsWith(t, send(registrar, registryCalls.anchorBatch(at, other.rootHex, 2, batchRef)), 'BatchRefConflict', {
    batchRef,
    root: tree.rootHex,
    leafCount: '7',
  });
  await revertsWith(t, send(registrar, registryCalls.anchorBatch(at, tree.rootHex, 8, batchRef)), 'BatchRefConflict');
  const tried = [ref(), ref(), ref(), ref()];
  await revertsWith(t, send(registrar, registryCalls.anchorBatch(at, `0x${'00'.repeat(32)}`, 2, tried[0]!)), 'EmptyRoot');
  await revertsWith(t, send(registrar, registryCalls.anchorBatch(at, other.rootHex, 0, tried[1]!)), 'EmptyBatch');
  await revertsWith(t, send(registrar, registryCalls.anchorBatch(at, other.rootHex, 2, `0x${'00'.repeat(32)}`)), 'InvalidBatchRef');
  await revertsWith(t, send(outsider, registryCalls.anchorBatch(at, other.rootHex, 2, tried[2]!)), 'AccessControlUnauthorizedAccount', {
    account: outsider.address,
    neededRole: REGISTRAR_ROLE,
  });
  await revertsWith(t, send(admin, registryCalls.anchorBatch(at, other.rootHex, 2, tried[3]!)), 'AccessControlUnauthorizedAccount');
  for (const r of tried) t.notOk(await reader.isAnchored(r), 'no revert left a batch behind');
  t.equal((await reader.batch(batchRef)).root, tree.rootHex, 'nor changed the conflicting one');
});

t.test('verify: every leaf of the batch, and nothing else', async (t) => {
  for (const [i, s] of sims.entries()) {
    t.ok(await reader.verify(batchId, s.device, s.commitment, tree.proofHex(i)), `leaf ${i}`);
  }
  const [a, b] = [sims[0]!, sims[1]!];
  const proof = tree.proofHex(0);
  t.notOk(await reader.verify(batchId, a.device, b.commitment, proof), 'another SIM commitment');
  t.notOk(await reader.verify(batchId, b.device, a.commitment, proof), 'another device');
  t.notOk(await reader.verify(batchId, a.device, a.commitment, tree.proofHex(1)), "another leaf's proof");
  t.notOk(await reader.verify(batchId, a.device, a.commitment, proof.slice(1)), 'a shortened proof');
  t.notOk(await reader.verify(batchId, a.device, a.commitment, [...proof, proof[0]!]), 'a lengthened proof');
  t.notOk(await reader.verify(batchId, a.device, a.commitment, []), 'no proof');
  t.notOk(await reader.verify(ref(), a.device, a.commitment, proof), 'an unknown batch');
  t.notOk(await reader.verify(`0x${'00'.repeat(32)}`, a.device, a.commitment, proof), 'the zero batch id');
});

t.test('setStatus: suspend, resume, revoke (final), with events', async (t) => {
  const s = sims[2]!;
  const proof = tree.proofHex(2);
  t.equal(await reader.statusOf(s.device), 'Active', 'Active by default');

  const suspended = await send(registrar, registryCalls.setStatus(at, s.device, 'Suspended'));
  t.match(await eventsOf(suspended), [{ name: 'DeviceStatusChanged', device: s.device, previous: 'Active', status: 'Suspended', by: registrar.address }]);
  t.equal(await reader.statusOf(s.device), 'Suspended');
  t.notOk(await reader.verify(batchId, s.device, s.commitment, proof), 'a suspended device does not verify');
  await revertsWith(t, send(registrar, registryCalls.setStatus(at, s.device, 'Suspended')), 'StatusUnchanged', { status: '1' });

  const resumed = await send(otherRegistrar, registryCalls.setStatus(at, s.device, 'Active'));
  t.match(await eventsOf(resumed), [{ name: 'DeviceStatusChanged', previous: 'Suspended', status: 'Active', by: otherRegistrar.address }]);
  t.ok(await reader.verify(batchId, s.device, s.commitment, proof), 'a resumed device verifies again');

  const revoked = await send(registrar, registryCalls.setStatus(at, s.device, 'Revoked'));
  t.match(await eventsOf(revoked), [{ name: 'DeviceStatusChanged', previous: 'Active', status: 'Revoked' }]);
  t.notOk(await reader.verify(batchId, s.device, s.commitment, proof), 'a revoked device does not verify');
  await revertsWith(t, send(registrar, registryCalls.setStatus(at, s.device, 'Active')), 'DeviceIsRevoked', { device: s.device });
  await revertsWith(t, send(registrar, registryCalls.setStatus(at, s.device, 'Suspended')), 'DeviceIsRevoked');
  t.equal(await reader.statusOf(s.device), 'Revoked');

  await revertsWith(t, send(registrar, registryCalls.setStatus(at, ZeroAddress, 'Suspended')), 'InvalidDevice');
  await revertsWith(t, send(registrar, registryCalls.setStatus(at, sims[3]!.device, 'Active')), 'StatusUnchanged');
  await revertsWith(t, send(outsider, registryCalls.setStatus(at, sims[3]!.device, 'Suspended')), 'AccessControlUnauthorizedAccount');
  await revertsWith(t, send(admin, registryCalls.setStatus(at, sims[3]!.device, 'Suspended')), 'AccessControlUnauthorizedAccount');
  t.equal(await reader.statusOf(sims[3]!.device), 'Active', 'untouched by the refused calls');
});

t.test('revokeBatch: by its operator or an admin, once', async (t) => {
  const mine = randomSims(3);
  const mineTree = await treeOf(mine);
  const [mineId, theirId, unknown] = [ref(), ref(), ref()];
  await send(registrar, registryCalls.anchorBatch(at, mineTree.rootHex, 3, mineId));
  const theirs = randomSims(2);
  const theirTree = await treeOf(theirs);
  await send(otherRegistrar, registryCalls.anchorBatch(at, theirTree.rootHex, 2, theirId));
  t.equal((await reader.batch(theirId)).operator, otherRegistrar.address, 'each batch records its operator');

  await revertsWith(t, send(registrar, registryCalls.revokeBatch(at, theirId)), 'NotBatchOperator', {
    batchId: theirId,
    operator: otherRegistrar.address,
  });
  await revertsWith(t, send(outsider, registryCalls.revokeBatch(at, mineId)), 'AccessControlUnauthorizedAccount');
  await revertsWith(t, send(registrar, registryCalls.revokeBatch(at, unknown)), 'UnknownBatch', { batchId: unknown });

  t.ok(await reader.verify(mineId, mine[0]!.device, mine[0]!.commitment, mineTree.proofHex(0)));
  const revoked = await send(registrar, registryCalls.revokeBatch(at, mineId));
  t.match(await eventsOf(revoked), [{ name: 'BatchRevoked', batchId: mineId, by: registrar.address }]);
  t.equal((await reader.batch(mineId)).revoked, true);
  for (const [i, s] of mine.entries()) {
    t.notOk(await reader.verify(mineId, s.device, s.commitment, mineTree.proofHex(i)), `leaf ${i} of a revoked batch`);
  }
  await revertsWith(t, send(registrar, registryCalls.revokeBatch(at, mineId)), 'BatchAlreadyRevoked', { batchId: mineId });

  const byAdmin = await send(admin, registryCalls.revokeBatch(at, theirId));
  t.match(await eventsOf(byAdmin), [{ name: 'BatchRevoked', batchId: theirId, by: admin.address }], 'an admin without the registrar role may');
  t.ok(await reader.verify(batchId, sims[0]!.device, sims[0]!.commitment, tree.proofHex(0)), 'other batches are untouched');
});

t.test('batch() of an unknown id reverts with a decoded UnknownBatch', async (t) => {
  const unknown = ref();
  await revertsWith(t, reader.batch(unknown), 'UnknownBatch', { batchId: unknown });
});

t.test('registrars come and go by the admin', async (t) => {
  const newcomer = chain.node.accounts[4]!;
  const newcomerOutbox = await chain.outboxFor(newcomer);
  const actor: Actor = { ...newcomer, outbox: newcomerOutbox };
  const r = ref();
  const small = await treeOf(randomSims(1));

  await revertsWith(t, send(registrar, registryCalls.grantRegistrar(at, newcomer.address)), 'AccessControlUnauthorizedAccount');
  const granted = await send(admin, registryCalls.grantRegistrar(at, newcomer.address));
  t.match(await eventsOf(granted), [{ name: 'RoleGranted', role: REGISTRAR_ROLE, account: newcomer.address, sender: admin.address }]);
  const anchored = await send(actor, registryCalls.anchorBatch(at, small.rootHex, 1, r));
  t.match(await eventsOf(anchored), [{ name: 'BatchAnchored', operator: newcomer.address }]);

  const revokedRole = await send(admin, registryCalls.revokeRegistrar(at, newcomer.address));
  t.match(await eventsOf(revokedRole), [{ name: 'RoleRevoked', account: newcomer.address }]);
  await revertsWith(t, send(actor, registryCalls.anchorBatch(at, small.rootHex, 1, ref())), 'AccessControlUnauthorizedAccount');

  const renounce = {
    to: at,
    data: registry.interface.encodeFunctionData('renounceRole', [REGISTRAR_ROLE, otherRegistrar.address]),
  };
  await revertsWith(t, send(registrar, renounce), 'AccessControlBadConfirmation');
  const renounced = await send(otherRegistrar, renounce);
  t.match(await eventsOf(renounced), [{ name: 'RoleRevoked', account: otherRegistrar.address, sender: otherRegistrar.address }]);
  t.notOk(await reader.isRegistrar(otherRegistrar.address));
});
