/**
 * Reads a contract's logs with `eth_getLogs` over block ranges, in order, one page per range,
 * so an indexer can store each page's events and its cursor (the page's last block) together.
 * Nodes cap a query's range or result count with varying messages; on such an error the range
 * is halved and tried again.
 */
import type { Log, Provider } from 'ethers';
import { ChainError, rpcMessage, toChainError } from './errors.js';

export interface LogPage<T = Log> {
  fromBlock: number;
  toBlock: number;
  logs: T[];
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
    yield { fromBlock: from, toBlock: to, logs };
    from = to + 1;
    // Grow back after a halving, so one dense stretch does not slow the rest.
    span = Math.min(maxRange, span * 2);
  }
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
