/**
 * Reads a contract's logs with `eth_getLogs` over block ranges, in order, one page per range,
 * so an indexer can store each page's events and its cursor (the page's last block) together.
 * Nodes cap a query's range or result count with varying messages; on such an error the range
 * is halved and tried again.
 *
 * Asked for `blockHashes`, each page also carries the hash its last block had just before its
 * logs were read. An indexer stores that hash as its cursor: if any block of the page leaves
 * the chain afterwards, the block at `toBlock` changes too (each block names its parent), so
 * checking the cursor's hash later finds the reorg. A hash read after the logs could already
 * belong to the new branch while the logs came from the old one.
 */
import type { Log, Provider } from 'ethers';
import { ChainError, rpcMessage, toChainError } from './errors.js';

export interface LogPage<T = Log> {
  fromBlock: number;
  toBlock: number;
  logs: T[];
  /** With `blockHashes`: the hash of block `toBlock`, read before the logs. */
  toBlockHash?: string;
}

export interface ReadLogsOptions {
  provider: Provider;
  address: string | string[];
  /** Topic filter as eth_getLogs takes it (topic0 = event selectors). */
  topics?: (string | string[] | null)[];
  fromBlock: number;
  toBlock: number;
  /** Largest range asked in one query. Default 2,000 blocks. */
  maxBlockRange?: number;
  /** Give each page its last block's hash (one more request per page). */
  blockHashes?: boolean;
}

const RANGE_LIMIT_RE = /range|too many|limit|exceed|more than \d+ results|response size|timeout/i;

/** Pages of logs from fromBlock to toBlock inclusive, every block covered exactly once. */
export async function* readLogs(options: ReadLogsOptions): AsyncGenerator<LogPage> {
  const { provider, address, topics, fromBlock, toBlock } = options;
  const maxRange = options.maxBlockRange ?? 2_000;
  if (!Number.isSafeInteger(fromBlock) || !Number.isSafeInteger(toBlock) || fromBlock < 0 || maxRange < 1) {
    throw new ChainError('INVALID_ARGUMENT', `bad block range ${fromBlock}..${toBlock}`, { details: { fromBlock, toBlock } });
  }
  let from = fromBlock;
  let span = maxRange;
  while (from <= toBlock) {
    const to = Math.min(toBlock, from + span - 1);
    const toBlockHash = options.blockHashes === true ? await blockHash(provider, to) : undefined;
    let logs: Log[];
    try {
      logs = await provider.getLogs({ address, topics: topics ?? [], fromBlock: from, toBlock: to });
    } catch (e) {
      if (to > from && RANGE_LIMIT_RE.test(rpcMessage(e))) {
        span = Math.max(1, Math.floor((to - from + 1) / 2));
        continue;
      }
      throw toChainError(e, 'getLogs', { fromBlock: from, toBlock: to });
    }
    yield toBlockHash === undefined ? { fromBlock: from, toBlock: to, logs } : { fromBlock: from, toBlock: to, logs, toBlockHash };
    from = to + 1;
    // Grow back after a halving, so one dense stretch does not slow the rest.
    span = Math.min(maxRange, span * 2);
  }
}

/** The hash of block `n` on the node's chain now; NOT_FOUND if the node has no such block. */
export async function blockHash(provider: Provider, n: number): Promise<string> {
  let block;
  try {
    block = await provider.getBlock(n);
  } catch (e) {
    throw toChainError(e, 'getBlock', { block: n });
  }
  if (block === null || block.hash === null) throw new ChainError('NOT_FOUND', `the node has no block ${n}`, { details: { block: n } });
  return block.hash;
}

/**
 * The next range an indexer should read: after the last indexed block, up to the newest block
 * that is `confirmations` deep (the head counts as one), at most `maxBlockRange` long; null
 * when there is nothing new. Reading only confirmed blocks keeps reorgs out of the index.
 */
export function nextRange(args: {
  lastIndexedBlock: number;
  head: number;
  confirmations: number;
  maxBlockRange: number;
}): { fromBlock: number; toBlock: number } | null {
  const safeHead = args.head - (args.confirmations - 1);
  const fromBlock = args.lastIndexedBlock + 1;
  if (safeHead < fromBlock) return null;
  return { fromBlock, toBlock: Math.min(safeHead, fromBlock + args.maxBlockRange - 1) };
}
