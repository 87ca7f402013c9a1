/**
 * DeviceRegistry's events, decoded and typed: what the indexer stores. Each event carries its
 * position (block, transaction, log index), which together identify it uniquely.
 */
import type { Log, Provider } from 'ethers';
import { DeviceRegistry__factory, type DeviceRegistryTypes, type DeviceStatus } from '../../contracts/index.js';
import { ChainError } from './errors.js';
import { readLogs, type LogPage } from './event-reader.js';
import { statusName } from './registry.js';

export interface LogPosition {
  address: string;
  blockNumber: number;
  blockHash: string;
  transactionHash: string;
  transactionIndex: number;
  logIndex: number;
}

export type RegistryEventBody =
  | { name: 'BatchAnchored'; batchId: string; operator: string; root: string; leafCount: number }
  | { name: 'BatchRevoked'; batchId: string; by: string }
  | { name: 'DeviceStatusChanged'; device: string; previous: DeviceStatus; status: DeviceStatus; by: string }
  | { name: 'RoleGranted' | 'RoleRevoked'; role: string; account: string; sender: string }
  | { name: 'RoleAdminChanged'; role: string; previousAdminRole: string; newAdminRole: string };

export type RegistryEvent = LogPosition & RegistryEventBody;
export type RegistryEventName = RegistryEventBody['name'];

const iface = DeviceRegistry__factory.createInterface();

/** topic0 of every registry event: the filter for eth_getLogs. */
export const REGISTRY_EVENT_TOPICS: string[] = [];
iface.forEachEvent((event) => {
  REGISTRY_EVENT_TOPICS.push(event.topicHash);
});

function body(name: string, args: unknown): RegistryEventBody {
  switch (name) {
    case 'BatchAnchored': {
      const a = args as DeviceRegistryTypes.BatchAnchoredEvent.OutputObject;
      return { name, batchId: a.batchId, operator: a.operator, root: a.root, leafCount: Number(a.leafCount) };
    }
    case 'BatchRevoked': {
      const a = args as DeviceRegistryTypes.BatchRevokedEvent.OutputObject;
      return { name, batchId: a.batchId, by: a.by };
    }
    case 'DeviceStatusChanged': {
      const a = args as DeviceRegistryTypes.DeviceStatusChangedEvent.OutputObject;
      return { name, device: a.device, previous: statusName(a.previous), status: statusName(a.status), by: a.by };
    }
    case 'RoleGranted':
    case 'RoleRevoked': {
      const a = args as DeviceRegistryTypes.RoleGrantedEvent.OutputObject;
      return { name, role: a.role, account: a.account, sender: a.sender };
    }
    case 'RoleAdminChanged': {
      const a = args as DeviceRegistryTypes.RoleAdminChangedEvent.OutputObject;
      return { name, role: a.role, previousAdminRole: a.previousAdminRole, newAdminRole: a.newAdminRole };
    }
    default:
      throw new ChainError('RPC_ERROR', `DeviceRegistry has no event ${name}`);
  }
}

/** One log of the registry, decoded. Throws for a log no registry event explains. */
export function decodeRegistryLog(log: Log): RegistryEvent {
  const parsed = iface.parseLog({ topics: [...log.topics], data: log.data });
  if (parsed === null) {
    throw new ChainError('RPC_ERROR', `log ${log.transactionHash}:${log.index} is no DeviceRegistry event`, {
      details: { topic0: log.topics[0] },
    });
  }
  return {
    address: log.address,
    blockNumber: log.blockNumber,
    blockHash: log.blockHash,
    transactionHash: log.transactionHash,
    transactionIndex: log.transactionIndex,
    logIndex: log.index,
    ...body(parsed.name, parsed.args),
  };
}

/** Pages of decoded registry events from fromBlock to toBlock inclusive. */
export async function* readRegistryEvents(args: {
  provider: Provider;
  registry: string;
  fromBlock: number;
  toBlock: number;
  maxBlockRange?: number;
  /** See ReadLogsOptions.blockHashes. */
  blockHashes?: boolean;
}): AsyncGenerator<LogPage<RegistryEvent>> {
  for await (const page of readLogs({
    provider: args.provider,
    address: args.registry,
    topics: [REGISTRY_EVENT_TOPICS],
    fromBlock: args.fromBlock,
    toBlock: args.toBlock,
    ...(args.maxBlockRange === undefined ? {} : { maxBlockRange: args.maxBlockRange }),
    ...(args.blockHashes === undefined ? {} : { blockHashes: args.blockHashes }),
  })) {
    yield { ...page, logs: page.logs.map(decodeRegistryLog) };
  }
}
