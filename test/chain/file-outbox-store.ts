/**
 * An OutboxStore in one JSON file, rewritten atomically (write, fsync, rename) on every change
 * and read again on every call, so a second process after a crash sees exactly what the first
 * one had made durable. For the crash tests: it stands where the PostgreSQL store will.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import {
  entryFromJson,
  entryToJson,
  isFinal,
  unfinishedOrder,
  type OutboxEntry,
  type OutboxStore,
} from '../../provisioning-api/chain/index.js';

export class FileOutboxStore implements OutboxStore {
  constructor(readonly path: string) {}

  private read(): Map<string, OutboxEntry> {
    if (!existsSync(this.path)) return new Map();
    const rows = JSON.parse(readFileSync(this.path, 'utf8')) as unknown[];
    return new Map(rows.map((r) => entryFromJson(r)).map((e) => [e.id, e]));
  }

  private write(entries: Map<string, OutboxEntry>): void {
    const tmp = `${this.path}.tmp`;
    const fd = openSync(tmp, 'w');
    writeSync(fd, JSON.stringify([...entries.values()].map(entryToJson)));
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, this.path);
  }

  async insert(entry: OutboxEntry): Promise<OutboxEntry> {
    const entries = this.read();
    const existing = entries.get(entry.id);
    if (existing) return existing;
    entries.set(entry.id, entry);
    this.write(entries);
    return entry;
  }

  async update(next: OutboxEntry): Promise<boolean> {
    const entries = this.read();
    if (entries.get(next.id)?.version !== next.version - 1) return false;
    entries.set(next.id, next);
    this.write(entries);
    return true;
  }

  async get(id: string): Promise<OutboxEntry | undefined> {
    return this.read().get(id);
  }

  async unfinished(chainId: bigint, signer: string): Promise<OutboxEntry[]> {
    return [...this.read().values()]
      .filter((e) => e.chainId === chainId && e.signer === signer && !isFinal(e.state))
      .sort(unfinishedOrder);
  }

  async highestNonce(chainId: bigint, signer: string): Promise<number | undefined> {
    const nonces = [...this.read().values()]
      .filter((e) => e.chainId === chainId && e.signer === signer && e.nonce !== null)
      .map((e) => e.nonce!);
    return nonces.length === 0 ? undefined : Math.max(...nonces);
  }
}
