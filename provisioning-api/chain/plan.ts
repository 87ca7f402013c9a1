/**
 * Planning a transaction, from any process. Only the process holding a key's lease sends for
 * that key (signer-lease.ts), but any process may record what it wants sent: a planned entry
 * holds no nonce, so writing one needs no lease. The holder's outbox adopts it (TxOutbox's
 * `adoptIntervalMs`) and signs it in its turn. Over a PgOutboxStore on a client inside a
 * transaction, the entry is written in the transaction that decided it, and exists exactly
 * when that decision does.
 */
import { getAddress } from 'ethers';
import { ChainError, toChainError } from './errors.js';
import { entryError, isFinal, planEntry, sameIntent, type OutboxEntry, type OutboxState, type TxIntent } from './outbox-state.js';
import type { OutboxStore } from './outbox-store.js';

/** What to send; `value` defaults to 0, `gasLimit` to an estimate. */
export interface TxRequest {
  to: string | null;
  data: string;
  value?: bigint;
  gasLimit?: bigint;
}

export type WaitUntil = 'sent' | 'mined' | 'confirmed';

const RANK: Record<OutboxState, number> = { planned: 0, sent: 1, mined: 2, confirmed: 3, replaced: -1, failed: -1 };

/** Whether an entry in `state` is at least as far as `until`. */
export function hasReached(state: OutboxState, until: WaitUntil): boolean {
  return RANK[state] >= RANK[until];
}

/** The request as the outbox records it: `to` checksummed, defaults filled in. */
export function intentOf(request: TxRequest): TxIntent {
  let to: string | null;
  try {
    to = request.to === null ? null : getAddress(request.to);
  } catch (e) {
    throw new ChainError('INVALID_ARGUMENT', `not an address: ${request.to}`, { details: { to: request.to }, cause: e });
  }
  return { to, data: request.data, value: request.value ?? 0n, gasLimit: request.gasLimit ?? null };
}

/**
 * Stores a planned entry under `id` for `signer` on `chainId`, or returns the one stored
 * under that id before; OUTBOX_CONFLICT if that one is another transaction.
 */
export async function planTransaction(
  store: OutboxStore,
  args: { id: string; chainId: bigint; signer: string; request: TxRequest; now?: number },
): Promise<OutboxEntry> {
  const intent = intentOf(args.request);
  const signer = getAddress(args.signer);
  const planned = planEntry({ id: args.id, chainId: args.chainId, signer, intent, now: args.now ?? Date.now() });
  const stored = await store.insert(planned);
  if (!sameIntent(stored.intent, intent) || stored.signer !== signer || stored.chainId !== args.chainId) {
    throw new ChainError('OUTBOX_CONFLICT', `outbox id ${args.id} was used for another transaction`, { details: { id: args.id } });
  }
  return stored;
}

/**
 * Waits, by reading the store, until the entry is at least `until`; rejects with its error
 * if it failed or was replaced, TIMEOUT after `timeoutMs`. For a process that planned an
 * entry which another process's outbox sends.
 */
export async function awaitEntry(
  store: OutboxStore,
  id: string,
  options: { until?: WaitUntil; timeoutMs?: number; pollMs?: number } = {},
): Promise<OutboxEntry> {
  const until = options.until ?? 'confirmed';
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  for (;;) {
    let entry: OutboxEntry | undefined;
    try {
      entry = await store.get(id);
    } catch (e) {
      throw toChainError(e, 'outbox store', { id });
    }
    if (entry === undefined) throw new ChainError('NOT_FOUND', `no outbox entry ${id}`, { details: { id } });
    if (hasReached(entry.state, until)) return entry;
    if (isFinal(entry.state)) throw entryError(entry);
    if (Date.now() >= deadline) {
      throw new ChainError('TIMEOUT', `outbox entry ${id} not ${until} within ${options.timeoutMs ?? 120_000} ms`, {
        details: { id, state: entry.state },
      });
    }
    await new Promise((r) => setTimeout(r, options.pollMs ?? 250));
  }
}
