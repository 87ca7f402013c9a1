/**
 * Where the outbox keeps its entries. The database layer implements this on PostgreSQL (one
 * row per entry); MemoryOutboxStore implements it for one process that need not survive a
 * crash (tests, benchmarks, a deployment before the database exists).
 *
 * What the engine relies on:
 * - `insert` is idempotent on `id`: the first entry stays, and every caller gets it back.
 * - `update` is a compare-and-set on `version`: it writes `next` only if the stored entry has
 *   version `next.version - 1`, and it is durable when it resolves (the engine broadcasts a
 *   transaction only after the entry holding it was updated).
 * - `highestNonce` counts every entry whose `nonce` is not null, in any state.
 */
import type { OutboxEntry } from './outbox-state.js';

export interface OutboxStore {
  /** Store a planned entry unless one with its id exists; resolves to the stored entry. */
  insert(entry: OutboxEntry): Promise<OutboxEntry>;
  /** Compare-and-set on version; false if the stored version is not `next.version - 1`. */
  update(next: OutboxEntry): Promise<boolean>;
  get(id: string): Promise<OutboxEntry | undefined>;
  /** Entries of a signer on a chain that are planned, sent or mined: nonce order, planned last by creation. */
  unfinished(chainId: bigint, signer: string): Promise<OutboxEntry[]>;
  /** The highest nonce any entry of the signer holds on that chain, or undefined. */
  highestNonce(chainId: bigint, signer: string): Promise<number | undefined>;
}

/** The order `unfinished` returns: by nonce, then planned entries by creation time. */
export function unfinishedOrder(a: OutboxEntry, b: OutboxEntry): number {
  if (a.nonce !== null && b.nonce !== null) return a.nonce - b.nonce;
  if (a.nonce !== null) return -1;
  if (b.nonce !== null) return 1;
  return a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}
