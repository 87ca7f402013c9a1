/**
 * The public face of contracts/: the artifacts compiled by build.ts, the TypeChain bindings
 * (typed factories and contract types for ethers v6), and deploy helpers. Run
 * `node --import tsx contracts/build.ts` (the npm hooks do) before importing this.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Interface } from 'ethers';
import type { Artifact } from './build.js';
import {
  DeviceIdentityNFT__factory,
  DeviceRegistry__factory,
  PlainDeviceRegistry__factory,
  VerifyGasProbe__factory,
} from './artifacts/types/index.js';

export * from './artifacts/types/index.js';
/** Event and struct types of DeviceRegistry (BatchAnchoredEvent.OutputObject, ...). */
export type * as DeviceRegistryTypes from './artifacts/types/DeviceRegistry.js';
export type { Artifact } from './build.js';
export * from './deploy.js';

export const ARTIFACTS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'artifacts');

export const CONTRACT_NAMES = ['DeviceRegistry', 'PlainDeviceRegistry', 'DeviceIdentityNFT', 'VerifyGasProbe'] as const;
export type ContractName = (typeof CONTRACT_NAMES)[number];

/** A compiled contract's artifact: ABI, bytecode, NatSpec. */
export function loadArtifact(name: ContractName): Artifact {
  return JSON.parse(readFileSync(join(ARTIFACTS_DIR, `${name}.json`), 'utf8')) as Artifact;
}

/** DeviceRegistry.DeviceStatus, in the enum's order (the on-chain value is the index). */
export const DEVICE_STATUSES = ['Active', 'Suspended', 'Revoked'] as const;
export type DeviceStatus = (typeof DEVICE_STATUSES)[number];

/** The ABIs of every contract of the project, to decode reverts and logs from any of them. */
export function contractInterfaces(): Interface[] {
  return [
    DeviceRegistry__factory.createInterface(),
    PlainDeviceRegistry__factory.createInterface(),
    DeviceIdentityNFT__factory.createInterface(),
    VerifyGasProbe__factory.createInterface(),
  ];
}
