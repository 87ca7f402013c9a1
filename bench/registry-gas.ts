/**
 * Gas per SIM on anvil: DeviceRegistry.anchorBatch amortised over batches of 1, 1,000,
 * 100,000 and 2,000,000 leaves, beside two baselines measured the same way in the same run
 * (a plain per-device registry, alone and 100 per transaction, and a per-device ERC-721
 * identity mint as IoTeX ioID does), and the gas of verify for a proof from a 2,000,000-leaf
 * tree, both as a calling contract pays it and as a direct call's estimate.
 *
 * Gas is deterministic, so one measurement each is exact (no medians needed); the 2,000,000
 * tree is built for real, and its root anchored with that leaf count.
 */
import { randomBytes } from 'node:crypto';
import { getAddress } from 'ethers';
import {
  DeviceIdentityNFT__factory,
  PlainDeviceRegistry__factory,
  deployDeviceIdentityNFT,
  deployDeviceRegistry,
  deployPlainDeviceRegistry,
  deployVerifyGasProbe,
} from '../contracts/index.js';
import {
  MemoryOutboxStore,
  RegistryReader,
  TxOutbox,
  connectChain,
  outboxCreationSender,
  registryCalls,
  type TxRequest,
} from '../provisioning-api/chain/index.js';
import { MerkleTreeBuilder, type DeviceMerkleTree } from '../provisioning-api/domain/merkle.js';
import { startAnvil } from '../simulators/chain/index.js';
import type { Benchmark } from './index.js';
import { median } from './measure.js';

const BATCHES = [1, 1_000, 100_000, 2_000_000];

async function randomTree(n: number): Promise<{ tree: DeviceMerkleTree; devices: Buffer; commitments: Buffer }> {
  const devices = randomBytes(20 * n);
  const commitments = randomBytes(32 * n);
  const b = await MerkleTreeBuilder.create(n);
  for (let i = 0; i < n; i++) b.add(devices.subarray(20 * i, 20 * i + 20), commitments.subarray(32 * i, 32 * i + 32));
  return { tree: b.build(), devices, commitments };
}

const fmt = (n: number | bigint, digits = 0): string =>
  Number(n).toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

async function run(): Promise<void> {
  const node = await startAnvil();
  try {
    const connection = await connectChain(node.rpcUrl);
    const provider = connection.provider;
    const [adminKey, registrarKey] = [node.accounts[0]!, node.accounts[1]!];
    const open = (privateKey: string): Promise<TxOutbox> =>
      TxOutbox.open({ connection, privateKey, store: new MemoryOutboxStore(), pollIntervalMs: 20 });
    const admin = await open(adminKey.privateKey);
    const registrar = await open(registrarKey.privateKey);
    const send = outboxCreationSender(admin);
    const roles = { admin: adminKey.address, registrar: registrarKey.address };
    const registry = (await deployDeviceRegistry(send, provider, { admin: adminKey.address, registrars: [registrarKey.address] })).deployment.address;
    const plain = (await deployPlainDeviceRegistry(send, provider, roles)).deployment.address;
    const nft = (await deployDeviceIdentityNFT(send, provider, roles)).deployment.address;
    const probe = (await deployVerifyGasProbe(send, provider)).contract;
    let seq = 0;
    const gasOf = async (request: TxRequest): Promise<bigint> => (await registrar.submit(`bench-${++seq}`, request)).receipt!.gasUsed;

    // Baselines, measured the same way: receipts' gasUsed of real transactions.
    const plainIface = PlainDeviceRegistry__factory.createInterface();
    const device = (): string => getAddress(`0x${randomBytes(20).toString('hex')}`);
    const singles: bigint[] = [];
    for (let i = 0; i < 5; i++) {
      singles.push(await gasOf({ to: plain, data: plainIface.encodeFunctionData('register', [device(), `0x${randomBytes(32).toString('hex')}`]) }));
    }
    const hundred = Array.from({ length: 100 }, () => device());
    const manyGas = await gasOf({
      to: plain,
      data: plainIface.encodeFunctionData('registerMany', [hundred, hundred.map(() => `0x${randomBytes(32).toString('hex')}`)]),
    });
    const nftIface = DeviceIdentityNFT__factory.createInterface();
    const mints: bigint[] = [];
    for (let i = 0; i < 5; i++) mints.push(await gasOf({ to: nft, data: nftIface.encodeFunctionData('mint', [device(), device()]) }));
    const plainOne = median(singles.map(Number));
    const plainPer100 = Number(manyGas) / 100;
    const nftOne = median(mints.map(Number));

    console.log('  baseline                                       gas per SIM');
    console.log(`  plain registry, one device per transaction    ${fmt(plainOne).padStart(12)}`);
    console.log(`  plain registry, 100 devices per transaction   ${fmt(plainPer100).padStart(12)}`);
    console.log(`  ERC-721 identity per device (ioID-like)       ${fmt(nftOne).padStart(12)}`);
    console.log('');
    console.log('  anchorBatch          leaves   tx gas    gas per SIM   vs plain registry, 1 / 100 devices per tx');

    let big: Awaited<ReturnType<typeof randomTree>> | undefined;
    let batchRef = '';
    for (const n of BATCHES) {
      const started = Date.now();
      const made = await randomTree(n);
      const buildMs = Date.now() - started;
      batchRef = `0x${randomBytes(32).toString('hex')}`;
      const gas = await gasOf(registryCalls.anchorBatch(registry, made.tree.rootHex, n, batchRef));
      const perSim = Number(gas) / n;
      const ratio = (base: number): string => {
        const r = base / perSim;
        return r >= 1 ? `${fmt(r)}x cheaper` : `${(1 / r).toFixed(1)}x dearer`;
      };
      console.log(
        `  ${fmt(n).padStart(24)} ${fmt(gas).padStart(8)} ${perSim.toFixed(perSim < 10 ? 4 : 0).padStart(14)}   ` +
          `${ratio(plainOne)} / ${ratio(plainPer100)}` +
          (n >= 100_000 ? `   (tree built in ${(buildMs / 1000).toFixed(1)} s)` : ''),
      );
      if (n === 2_000_000) big = made;
    }

    // verify on the 2,000,000-leaf batch (the last anchored): a sample of leaves.
    const reader = new RegistryReader(registry, provider);
    const batchId = batchRef;
    const tree = big!.tree;
    const exec: number[] = [];
    const estimates: number[] = [];
    const depths = new Set<number>();
    for (let k = 0; k < 16; k++) {
      const i = (k * 124_999 + 7) % 2_000_000;
      const d = `0x${big!.devices.subarray(20 * i, 20 * i + 20).toString('hex')}`;
      const c = `0x${big!.commitments.subarray(32 * i, 32 * i + 32).toString('hex')}`;
      const proof = tree.proofHex(i);
      depths.add(proof.length);
      const [valid, gas] = await probe.measure(registry, batchId, d, c, proof);
      if (!valid) throw new Error(`leaf ${i} did not verify`);
      exec.push(Number(gas));
      estimates.push(Number(await reader.contract.verify.estimateGas(batchId, d, c, proof)));
    }
    console.log('');
    console.log(`  verify, 2,000,000-leaf batch (${[...depths].sort().join(' or ')}-hash proofs, median of 16 leaves):`);
    console.log(`    paid by a calling contract (VerifyGasProbe)     ${fmt(median(exec)).padStart(7)} gas`);
    console.log(`    eth_estimateGas of a direct call                ${fmt(median(estimates)).padStart(7)} gas (adds the 21,000 base and the calldata)`);
    await admin.close();
    await registrar.close();
  } finally {
    await node.stop();
  }
}

export const benchmark: Benchmark = {
  name: 'registry-gas',
  summary: 'gas per SIM of anchorBatch at 1 to 2,000,000 leaves vs per-device registry and ERC-721 mint; verify gas',
  run,
};
