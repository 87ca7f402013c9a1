/**
 * OutboxStore in the process's memory: correct for one process, gone when it ends. For tests,
 * benchmarks and one-off tools; the service uses the PostgreSQL store.
 */
import { isFinal, type OutboxEntry } from './outbox-state.js';
import { unfinishedOrder, type OutboxStore } from './outbox-store.js';

const sameSigner = (e: OutboxEntry, chainId: bigint, signer: string): boolean =>
  e.chainId === chainId && e.signer.toLowerCase() === signer.toLowerCase();

export class MemoryOutboxStore implements OutboxStore {
  private readonly entries = new Map<string, OutboxEntry>();

  async insert(entry: OutboxEntry): Promise<OutboxEntry> {
    const existing = this.entries.get(entry.id);
    if (existing) return structuredClone(existing);
    this.entries.set(entry.id, structuredClone(entry));
    return structuredClone(entry);
  }

  async update(next: OutboxEntry): Promise<boolean> {
    const stored = this.entries.get(next.id);
    if (!stored || stored.version !== next.version - 1) return false;
    this.entries.set(next.id, structuredClone(next));
    return true;
  }

  async get(id: string): Promise<OutboxEntry | undefined> {
    const e = this.entries.get(id);
    return e && structuredClone(e);
  }

  async unfinished(chainId: bigint, signer: string): Promise<OutboxEntry[]> {
    return [...this.entries.values()]
      .filter((e) => sameSigner(e, chainId, signer) && !isFinal(e.state))
      .sort(unfinishedOrder)
      .map((e) => structuredClone(e));
  }

  async highestNonce(chainId: bigint, signer: string): Promise<number | undefined> {
    let highest: number | undefined;
    for (const e of this.entries.values()) {
      if (sameSigner(e, chainId, signer) && e.nonce !== null && (highest === undefined || e.nonce > highest)) highest = e.nonce;
    }
    return highest;
  }
}
