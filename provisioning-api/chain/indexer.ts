/**
 * Follows DeviceRegistry's events into PostgreSQL (indexer-store.ts). Each step:
 *
 * 1. Reads the cursor from the database (a restarted process, or another indexer, may have
 *    moved it) and checks that its block still has the hash it was read with. If not (or the
 *    chain is now shorter than the cursor), the chain changed below the cursor: the newest
 *    block holding stored events that is still on the chain is where the index rewinds to
 *    (nothing after it is kept), or the start.
 * 2. Reads the next range of blocks deep enough (`nextRange`) page by page, and stores each
 *    page's events, what they change, and the cursor at the page's end in one transaction.
 *
 * A process killed at any point resumes from its last committed page: nothing is read twice
 * into the tables and no block is skipped.
 */
import type { Pool } from '../db/pool.js';
import { ChainError, isChainError } from './errors.js';
import { blockHash, nextRange } from './event-reader.js';
import { commitPage, eventBlocks, openCursor, readCursor, rewindTo, type IndexCursor } from './indexer-store.js';
import { rpc, type ChainConnection } from './provider.js';
import { readRegistryEvents } from './registry-events.js';

export interface RegistryIndexerOptions {
  pool: Pool;
  connection: ChainConnection;
  registry: string;
  /** Where to start when the registry has no cursor yet: its deployment block. Default 0. */
  fromBlock?: number;
  /** Read only blocks this deep (the head counts as one). Default 1. */
  confirmations?: number;
  /** Largest block range per page. Default 2,000. */
  maxBlockRange?: number;
  /** Pause between steps once caught up. Default 1 s. */
  pollIntervalMs?: number;
  /** After each committed page. */
  onPage?: (page: { fromBlock: number; toBlock: number; events: number; cursor: IndexCursor }) => void;
  onRewind?: (rewind: { from: IndexCursor; to: IndexCursor }) => void;
  /** A failed step (the loop backs off and tries again). */
  onError?: (error: unknown) => void;
}

export type IndexStep =
  /** Nothing deep enough to read yet. */
  | { kind: 'idle'; cursor: IndexCursor }
  /** The chain got shorter while this step read it: the next step looks again. */
  | { kind: 'behind'; cursor: IndexCursor; head: number }
  | { kind: 'indexed'; cursor: IndexCursor; fromBlock: number; toBlock: number; events: number; caughtUp: boolean }
  | { kind: 'rewound'; cursor: IndexCursor; from: IndexCursor }
  /** Another indexer moved the cursor first; this step wrote nothing after that. */
  | { kind: 'raced'; cursor: IndexCursor };

interface BlockWaiter {
  block: number;
  resolve(cursor: IndexCursor): void;
  reject(error: ChainError): void;
  timer: NodeJS.Timeout;
}

const REWIND_SCAN = 100;

export class RegistryIndexer {
  readonly chainId: bigint;
  readonly registry: string;
  private current: IndexCursor;
  private readonly confirmations: number;
  private readonly maxBlockRange: number;
  private readonly pollIntervalMs: number;
  private loop: Promise<void> | undefined;
  private stopping = false;
  private sleeping: (() => void) | undefined;
  private readonly waiters = new Set<BlockWaiter>();
  lastError: unknown;

  private constructor(private readonly options: RegistryIndexerOptions, cursor: IndexCursor) {
    this.chainId = options.connection.chainId;
    this.registry = cursor.registry;
    this.current = cursor;
    this.confirmations = options.confirmations ?? 1;
    this.maxBlockRange = options.maxBlockRange ?? 2_000;
    this.pollIntervalMs = options.pollIntervalMs ?? 1_000;
  }

  /** An indexer for the registry, its cursor created at `fromBlock - 1` the first time. Not started. */
  static async open(options: RegistryIndexerOptions): Promise<RegistryIndexer> {
    const fromBlock = options.fromBlock ?? 0;
    if (!Number.isSafeInteger(fromBlock) || fromBlock < 0) throw new ChainError('INVALID_ARGUMENT', `bad fromBlock ${fromBlock}`);
    if (!Number.isInteger(options.confirmations ?? 1) || (options.confirmations ?? 1) < 1) {
      throw new ChainError('INVALID_ARGUMENT', 'confirmations must be a whole number of at least 1');
    }
    const cursor = await openCursor(options.pool, options.connection.chainId, options.registry, fromBlock);
    return new RegistryIndexer(options, cursor);
  }

  /** The cursor as this process last saw it. */
  get cursor(): IndexCursor {
    return this.current;
  }

  private get provider() {
    return this.options.connection.provider;
  }

  /** One step: check for a reorg, then index what is deep enough (up to maxBlockRange blocks). */
  async step(): Promise<IndexStep> {
    const cursor = await readCursor(this.options.pool, this.chainId, this.registry);
    if (cursor === undefined) throw new ChainError('NOT_FOUND', `no index cursor for ${this.registry}`);
    this.advance(cursor);
    const head = await rpc('getBlockNumber', () => this.provider.getBlockNumber());
    try {
      return await this.stepFrom(cursor, head);
    } catch (e) {
      // A block below the head we read is gone: the chain got shorter under us (a reorg in
      // progress, a node restarted from older state). Not a failure: the next step sees it.
      if (isChainError(e, 'NOT_FOUND')) return { kind: 'behind', cursor: this.current, head };
      throw e;
    }
  }

  private async stepFrom(cursor: IndexCursor, head: number): Promise<IndexStep> {
    // A chain now shorter than the cursor has lost the blocks above its head (a node restarted
    // from older state, a reorg to a shorter branch); one whose block at the cursor has another
    // hash was reorganised below it. Either way the index rewinds.
    if (cursor.lastBlockHash !== null) {
      if (cursor.lastBlock > head || (await blockHash(this.provider, cursor.lastBlock)) !== cursor.lastBlockHash) {
        return this.rewind(cursor, head);
      }
    }
    const range = nextRange({ lastIndexedBlock: cursor.lastBlock, head, confirmations: this.confirmations, maxBlockRange: this.maxBlockRange });
    if (range === null) return { kind: 'idle', cursor };
    let at = cursor;
    let events = 0;
    for await (const page of readRegistryEvents({
      provider: this.provider,
      registry: this.registry,
      ...range,
      maxBlockRange: this.maxBlockRange,
      blockHashes: true,
    })) {
      const next = await commitPage(this.options.pool, at, page);
      if (next === null) return { kind: 'raced', cursor: at };
      at = next;
      events += page.logs.length;
      this.advance(at);
      this.options.onPage?.({ fromBlock: page.fromBlock, toBlock: page.toBlock, events: page.logs.length, cursor: at });
    }
    const safeHead = head - (this.confirmations - 1);
    return { kind: 'indexed', cursor: at, fromBlock: range.fromBlock, toBlock: range.toBlock, events, caughtUp: range.toBlock >= safeHead };
  }

  /** Runs steps until stop(): at once while catching up, every pollIntervalMs once caught up, backing off on errors. */
  start(): void {
    if (this.loop !== undefined) return;
    this.stopping = false;
    this.loop = this.run().finally(() => {
      this.loop = undefined;
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.sleeping?.();
    await this.loop;
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.reject(new ChainError('CLOSED', 'the indexer was stopped'));
    }
    this.waiters.clear();
  }

  /** Resolves once every block up to `block` is indexed (by this process or another). */
  waitForBlock(block: number, timeoutMs = 30_000): Promise<IndexCursor> {
    if (this.current.lastBlock >= block) return Promise.resolve(this.current);
    return new Promise((resolve, reject) => {
      const waiter: BlockWaiter = {
        block,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          reject(
            new ChainError('TIMEOUT', `block ${block} not indexed within ${timeoutMs} ms`, {
              details: { block, lastBlock: this.current.lastBlock },
              cause: this.lastError,
            }),
          );
        }, timeoutMs),
      };
      this.waiters.add(waiter);
    });
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      let delay = this.pollIntervalMs;
      try {
        const step = await this.step();
        failures = 0;
        this.lastError = undefined;
        const more = step.kind === 'rewound' || step.kind === 'raced' || (step.kind === 'indexed' && !step.caughtUp);
        if (more) delay = 0;
      } catch (e) {
        failures++;
        this.lastError = e;
        this.options.onError?.(e);
        delay = Math.min(30_000, this.pollIntervalMs * 2 ** Math.min(failures, 5));
      }
      if (delay > 0 && !this.stopping) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          this.sleeping = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.sleeping = undefined;
      }
    }
  }

  /**
   * Finds the newest block holding stored events whose hash is still the chain's (every
   * block below it is then the chain's too) and rewinds there; with none, to the start.
   */
  private async rewind(cursor: IndexCursor, head: number): Promise<IndexStep> {
    let target: { lastBlock: number; lastBlockHash: string | null } = { lastBlock: cursor.fromBlock - 1, lastBlockHash: null };
    let below = Math.min(cursor.lastBlock, head);
    search: for (;;) {
      const blocks = await eventBlocks(this.options.pool, cursor, below, REWIND_SCAN);
      for (const b of blocks) {
        if ((await blockHash(this.provider, b.blockNumber)) === b.blockHash) {
          target = { lastBlock: b.blockNumber, lastBlockHash: b.blockHash };
          break search;
        }
      }
      if (blocks.length < REWIND_SCAN) break;
      below = blocks.at(-1)!.blockNumber - 1;
    }
    const rewound = await rewindTo(this.options.pool, cursor, target);
    if (rewound === null) return { kind: 'raced', cursor };
    this.current = rewound;
    this.options.onRewind?.({ from: cursor, to: rewound });
    return { kind: 'rewound', cursor: rewound, from: cursor };
  }

  private advance(cursor: IndexCursor): void {
    this.current = cursor;
    for (const w of this.waiters) {
      if (cursor.lastBlock < w.block) continue;
      this.waiters.delete(w);
      clearTimeout(w.timer);
      w.resolve(cursor);
    }
  }
}
