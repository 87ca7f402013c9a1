/**
 * Deploy helpers. Sending is the caller's: a deployment is one transaction, and the chain
 * adapter (provisioning-api/chain, its outbox and nonce queue) is what sends transactions,
 * so this module only builds the creation data and attaches the typed contract afterwards.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ContractRunner, Provider } from 'ethers';
import {
  DeviceIdentityNFT__factory,
  DeviceRegistry__factory,
  PlainDeviceRegistry__factory,
  VerifyGasProbe__factory,
} from './artifacts/types/index.js';
import type { DeviceIdentityNFT, DeviceRegistry, PlainDeviceRegistry, VerifyGasProbe } from './artifacts/types/index.js';

/** A contract creation to send: `to` is null, `data` is the bytecode with constructor arguments. */
export interface CreationTransaction {
  to: null;
  data: string;
}

/** What the sender reports once the creation is mined. */
export interface CreationReceipt {
  hash: string;
  blockNumber: number;
  contractAddress: string | null;
}

/** Sends a creation transaction and resolves once it is mined (the chain adapter's outbox). */
export type SendCreation = (tx: CreationTransaction, label: string) => Promise<CreationReceipt>;

export interface Deployment {
  contract: string;
  address: string;
  chainId: string;
  txHash: string;
  blockNumber: number;
}

export interface Deployed<C> {
  contract: C;
  deployment: Deployment;
}

async function deploy<C>(
  send: SendCreation,
  runner: ContractRunner & { provider: Provider | null },
  name: string,
  data: string,
  connect: (address: string, runner: ContractRunner) => C,
): Promise<Deployed<C>> {
  const receipt = await send({ to: null, data }, name);
  if (receipt.contractAddress === null) throw new Error(`${name}: the creation receipt has no contract address`);
  const provider = runner.provider;
  const chainId = provider === null ? 'unknown' : (await provider.getNetwork()).chainId.toString();
  return {
    contract: connect(receipt.contractAddress, runner),
    deployment: {
      contract: name,
      address: receipt.contractAddress,
      chainId,
      txHash: receipt.hash,
      blockNumber: receipt.blockNumber,
    },
  };
}

export interface DeviceRegistryArgs {
  admin: string;
  registrars: readonly string[];
}

export async function deployDeviceRegistry(
  send: SendCreation,
  runner: ContractRunner & { provider: Provider | null },
  args: DeviceRegistryArgs,
): Promise<Deployed<DeviceRegistry>> {
  const { data } = await new DeviceRegistry__factory().getDeployTransaction(args.admin, [...args.registrars]);
  return deploy(send, runner, 'DeviceRegistry', data, DeviceRegistry__factory.connect);
}

/** The benchmark's baselines: a plain per-device registry and a per-device ERC-721 identity. */
export async function deployPlainDeviceRegistry(
  send: SendCreation,
  runner: ContractRunner & { provider: Provider | null },
  args: { admin: string; registrar: string },
): Promise<Deployed<PlainDeviceRegistry>> {
  const { data } = await new PlainDeviceRegistry__factory().getDeployTransaction(args.admin, args.registrar);
  return deploy(send, runner, 'PlainDeviceRegistry', data, PlainDeviceRegistry__factory.connect);
}

export async function deployDeviceIdentityNFT(
  send: SendCreation,
  runner: ContractRunner & { provider: Provider | null },
  args: { admin: string; registrar: string },
): Promise<Deployed<DeviceIdentityNFT>> {
  const { data } = await new DeviceIdentityNFT__factory().getDeployTransaction(args.admin, args.registrar);
  return deploy(send, runner, 'DeviceIdentityNFT', data, DeviceIdentityNFT__factory.connect);
}

export async function deployVerifyGasProbe(
  send: SendCreation,
  runner: ContractRunner & { provider: Provider | null },
): Promise<Deployed<VerifyGasProbe>> {
  const { data } = await new VerifyGasProbe__factory().getDeployTransaction();
  return deploy(send, runner, 'VerifyGasProbe', data, VerifyGasProbe__factory.connect);
}

/**
 * The registry recorded in `file` if the chain still has its code, else a new deployment
 * recorded there. This is how a restart of the embedded chain (its state kept by anvil)
 * finds the same registry, and how a fresh or reset chain gets one.
 */
export async function ensureDeviceRegistry(
  file: string,
  send: SendCreation,
  runner: ContractRunner & { provider: Provider },
  args: DeviceRegistryArgs,
): Promise<Deployed<DeviceRegistry> & { reused: boolean }> {
  const chainId = (await runner.provider.getNetwork()).chainId.toString();
  if (existsSync(file)) {
    const recorded = JSON.parse(readFileSync(file, 'utf8')) as Deployment;
    if (recorded.chainId === chainId && (await runner.provider.getCode(recorded.address)) !== '0x') {
      return { contract: DeviceRegistry__factory.connect(recorded.address, runner), deployment: recorded, reused: true };
    }
  }
  const deployed = await deployDeviceRegistry(send, runner, args);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(`${file}.tmp`, JSON.stringify(deployed.deployment, null, 2) + '\n');
  renameSync(`${file}.tmp`, file);
  return { ...deployed, reused: false };
}
