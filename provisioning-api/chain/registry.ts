/**
 * DeviceRegistry as the backend uses it: writes become outbox requests (so they are recorded
 * before they are sent), reads are typed calls whose reverts come back as ChainErrors.
 */
import { getAddress, id, type Provider } from 'ethers';
import { DEVICE_STATUSES, DeviceRegistry__factory, type DeviceRegistry, type DeviceStatus } from '../../contracts/index.js';
import { ChainError } from './errors.js';
import type { TxRequest } from './plan.js';
import { rpc } from './provider.js';

const iface = DeviceRegistry__factory.createInterface();

/** keccak256("REGISTRAR_ROLE"), as the contract defines it. */
export const REGISTRAR_ROLE = id('REGISTRAR_ROLE');

export interface BatchRecord {
  /** The batch's id: the backend's batchRef it was anchored under. */
  batchId: string;
  root: string;
  operator: string;
  leafCount: number;
  anchoredAt: number;
  revoked: boolean;
}

function statusIndex(status: DeviceStatus): number {
  const i = DEVICE_STATUSES.indexOf(status);
  if (i < 0) throw new ChainError('INVALID_ARGUMENT', `unknown device status ${String(status)}`, { details: { status } });
  return i;
}

export function statusName(value: bigint | number): DeviceStatus {
  const name = DEVICE_STATUSES[Number(value)];
  if (name === undefined) throw new ChainError('RPC_ERROR', `the registry returned an unknown status ${value}`);
  return name;
}

/** Transaction requests for the registry's writes, to hand to TxOutbox.submit. */
export const registryCalls = {
  anchorBatch(registry: string, root: string, leafCount: number, batchRef: string): TxRequest {
    return { to: registry, data: iface.encodeFunctionData('anchorBatch', [root, leafCount, batchRef]) };
  },
  setStatus(registry: string, device: string, status: DeviceStatus): TxRequest {
    return { to: registry, data: iface.encodeFunctionData('setStatus', [device, statusIndex(status)]) };
  },
  revokeBatch(registry: string, batchId: string): TxRequest {
    return { to: registry, data: iface.encodeFunctionData('revokeBatch', [batchId]) };
  },
  grantRegistrar(registry: string, account: string): TxRequest {
    return { to: registry, data: iface.encodeFunctionData('grantRole', [REGISTRAR_ROLE, account]) };
  },
  revokeRegistrar(registry: string, account: string): TxRequest {
    return { to: registry, data: iface.encodeFunctionData('revokeRole', [REGISTRAR_ROLE, account]) };
  },
};


/** Typed reads of one deployed registry. */
export class RegistryReader {
  readonly contract: DeviceRegistry;
  readonly address: string;

  constructor(address: string, provider: Provider) {
    this.address = getAddress(address);
    this.contract = DeviceRegistry__factory.connect(this.address, provider);
  }

  /** Fails with NO_CONTRACT when nothing is deployed at the address. */
  async assertDeployed(): Promise<void> {
    const code = await rpc('getCode', () => this.contract.runner!.provider!.getCode(this.address));
    if (code === '0x') throw new ChainError('NO_CONTRACT', `no contract at ${this.address}`, { details: { address: this.address } });
  }

  verify(batchId: string, device: string, imsiCommitment: string, proof: readonly string[]): Promise<boolean> {
    return rpc('verify', () => this.contract.verify(batchId, device, imsiCommitment, [...proof]));
  }

  async statusOf(device: string): Promise<DeviceStatus> {
    return statusName(await rpc('statusOf', () => this.contract.statusOf(device)));
  }

  /** Whether a batch was anchored under this id (its batchRef). */
  isAnchored(batchId: string): Promise<boolean> {
    return rpc('isAnchored', () => this.contract.isAnchored(batchId));
  }

  async batch(batchId: string): Promise<BatchRecord> {
    const b = await rpc('batch', () => this.contract.batch(batchId));
    return {
      batchId,
      root: b.root,
      operator: b.operator,
      leafCount: Number(b.leafCount),
      anchoredAt: Number(b.anchoredAt),
      revoked: b.revoked,
    };
  }

  isRegistrar(account: string): Promise<boolean> {
    return rpc('hasRole', () => this.contract.hasRole(REGISTRAR_ROLE, account));
  }
}
