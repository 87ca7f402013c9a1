/**
 * The benchmark's baselines work as the figures assume: a per-device registry (one storage
 * write per device, alone or many per transaction), a per-device ERC-721 identity, and the
 * probe that measures what verify costs a calling contract.
 */
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { getAddress } from 'ethers';
import {
  DeviceIdentityNFT__factory,
  PlainDeviceRegistry__factory,
  deployDeviceIdentityNFT,
  deployPlainDeviceRegistry,
  deployVerifyGasProbe,
} from '../../contracts/index.js';
import { outboxCreationSender, registryCalls } from '../../provisioning-api/chain/index.js';
import { MerkleTreeBuilder } from '../../provisioning-api/domain/merkle.js';
import { revertsWith, startChain } from '../helpers/anvil.js';

const chain = await startChain();
const provider = chain.connection.provider;
const { admin, registrar, outsider } = chain;
const send = outboxCreationSender(admin.outbox);
const device = (): string => getAddress(`0x${randomBytes(20).toString('hex')}`);
const bytes32 = (): string => `0x${randomBytes(32).toString('hex')}`;
let n = 0;

t.test('PlainDeviceRegistry: one write per device', async (t) => {
  const { contract, deployment } = await deployPlainDeviceRegistry(send, provider, { admin: admin.address, registrar: registrar.address });
  const iface = PlainDeviceRegistry__factory.createInterface();
  const at = deployment.address;
  const [d, c] = [device(), bytes32()];
  const one = await registrar.outbox.submit(`plain-${++n}`, { to: at, data: iface.encodeFunctionData('register', [d, c]) });
  t.ok(one.receipt!.gasUsed > 40_000n, `register: ${one.receipt!.gasUsed} gas`);
  t.equal(await contract.commitmentOf(d), c);
  const many = Array.from({ length: 20 }, () => [device(), bytes32()] as const);
  await registrar.outbox.submit(`plain-${++n}`, {
    to: at,
    data: iface.encodeFunctionData('registerMany', [many.map((m) => m[0]), many.map((m) => m[1])]),
  });
  for (const [dd, cc] of many) t.equal(await contract.commitmentOf(dd), cc);
  await revertsWith(t, registrar.outbox.submit(`plain-${++n}`, { to: at, data: iface.encodeFunctionData('register', [d, c]) }), 'AlreadyRegistered');
  await revertsWith(
    t,
    registrar.outbox.submit(`plain-${++n}`, { to: at, data: iface.encodeFunctionData('registerMany', [[device()], []]) }),
    'LengthMismatch',
  );
  await revertsWith(t, outsider.outbox.submit(`plain-${++n}`, { to: at, data: iface.encodeFunctionData('register', [device(), c]) }), 'AccessControlUnauthorizedAccount');
});

t.test('DeviceIdentityNFT: one token per device, as ioID mints', async (t) => {
  const { contract, deployment } = await deployDeviceIdentityNFT(send, provider, { admin: admin.address, registrar: registrar.address });
  const iface = DeviceIdentityNFT__factory.createInterface();
  const [owner, d] = [device(), device()];
  const minted = await registrar.outbox.submit(`nft-${++n}`, { to: deployment.address, data: iface.encodeFunctionData('mint', [owner, d]) });
  t.ok(minted.receipt!.gasUsed > 40_000n, `mint: ${minted.receipt!.gasUsed} gas`);
  t.equal(await contract.ownerOf(BigInt(d)), owner);
  t.equal(await contract.balanceOf(owner), 1n);
  t.ok(await contract.supportsInterface('0x80ac58cd'), 'ERC-721');
  t.ok(await contract.supportsInterface('0x7965db0b'), 'IAccessControl');
  await revertsWith(t, registrar.outbox.submit(`nft-${++n}`, { to: deployment.address, data: iface.encodeFunctionData('mint', [owner, d]) }), 'ERC721InvalidSender');
  await revertsWith(t, outsider.outbox.submit(`nft-${++n}`, { to: deployment.address, data: iface.encodeFunctionData('mint', [owner, device()]) }), 'AccessControlUnauthorizedAccount');
});

t.test('VerifyGasProbe measures verify as a calling contract pays it', async (t) => {
  const { contract: probe } = await deployVerifyGasProbe(send, provider);
  const b = await MerkleTreeBuilder.create(64);
  const sims = Array.from({ length: 64 }, () => [device(), bytes32()] as const);
  for (const [d, c] of sims) b.add(d, c);
  const tree = b.build();
  const batchRef = bytes32();
  await registrar.outbox.submit('probe-anchor', registryCalls.anchorBatch(chain.registryAddress, tree.rootHex, 64, batchRef));
  const [valid, gas] = await probe.measure(chain.registryAddress, batchRef, sims[5]![0], sims[5]![1], tree.proofHex(5));
  t.equal(valid, true);
  t.ok(gas > 5_000n && gas < 40_000n, `verify of a 6-hash proof: ${gas} gas`);
  const [invalid] = await probe.measure(chain.registryAddress, batchRef, sims[5]![0], sims[6]![1], tree.proofHex(5));
  t.equal(invalid, false);
});
