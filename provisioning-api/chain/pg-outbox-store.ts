/**
 * OutboxStore on PostgreSQL: one `chain_outbox` row per entry (migrations/0004_chain.sql), the
 * entry as JSON beside typed copies of the fields the engine queries.
 *
 * - `update` is a compare-and-set in one statement: the row must hold version `next.version - 1`
 *   and a state from which outbox-state.ts's OUTBOX_TRANSITIONS allow `next.state`, so the pure
 *   state machine stays the one definition of what may follow what, here as in the engine.
 * - A nonce belongs to one entry (a unique index): an update recording a nonce that another
 *   entry of the signer holds fails with OUTBOX_CONFLICT, so that transaction is never sent.
 * - Durable when `update` resolves as far as the session's synchronous_commit says: the signer
 *   lease (signer-lease.ts) sets it `on` on the one session its outbox writes through.
 *
 * Over a pool it serves any process (planning entries, reading them); over a client inside a
 * transaction, a producer plans a transaction in the transaction that decides it.
 */
import type { QueryResult, QueryResultRow } from 'pg';
import { ChainError } from './errors.js';
import { entryFromJson, entryToJson, OUTBOX_STATES, OUTBOX_TRANSITIONS, type OutboxEntry, type OutboxState } from './outbox-state.js';
import type { OutboxStore } from './outbox-store.js';

/** What the store needs of a connection: a pg Pool, a PoolClient, or a signer lease's session. */
export interface SqlClient {
  query<R extends QueryResultRow = QueryResultRow>(text: string, values?: unknown[]): Promise<QueryResult<R>>;
}

const UNFINISHED: readonly OutboxState[] = ['planned', 'sent', 'mined'];

/** The states an entry may be in just before it is in `state`. */
const FROM: Readonly<Record<OutboxState, OutboxState[]>> = Object.freeze(
  Object.fromEntries(OUTBOX_STATES.map((to) => [to, OUTBOX_STATES.filter((from) => OUTBOX_TRANSITIONS[from].includes(to))])) as Record<
    OutboxState,
    OutboxState[]
  >,
);

export const pgOutboxQueries = {
  insert: `INSERT INTO chain_outbox (id, chain_id, signer, state, nonce, version, entry, created_at, updated_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, to_timestamp($8::float8 / 1000), to_timestamp($9::float8 / 1000))
    ON CONFLICT (id) DO NOTHING RETURNING entry`,
  get: `SELECT entry FROM chain_outbox WHERE id = $1`,
  update: `UPDATE chain_outbox SET state = $4, nonce = $5, version = $6, entry = $7, updated_at = to_timestamp($8::float8 / 1000)
    WHERE id = $1 AND chain_id = $2 AND signer = $3 AND version = $6 - 1 AND state = ANY($9::text[])`,
  // Nonce order, then planned entries (no nonce) by creation: the order unfinishedOrder defines.
  unfinished: `SELECT entry FROM chain_outbox WHERE chain_id = $1 AND signer = $2 AND state = ANY($3::text[])
    ORDER BY nonce ASC NULLS LAST, created_at, id COLLATE "C"`,
  highestNonce: `SELECT max(nonce)::text AS nonce FROM chain_outbox WHERE chain_id = $1 AND signer = $2 AND nonce IS NOT NULL`,
  nonceHolder: `SELECT id FROM chain_outbox WHERE chain_id = $1 AND signer = $2 AND nonce = $3`,
} as const;

const UNIQUE_VIOLATION = '23505';

/** The lower-case form the table keys signers by. */
export function signerKey(signer: string): string {
  return signer.toLowerCase();
}

export class PgOutboxStore implements OutboxStore {
  constructor(private readonly db: SqlClient) {}

  async insert(entry: OutboxEntry): Promise<OutboxEntry> {
    const { rows } = await this.db.query<{ entry: unknown }>(pgOutboxQueries.insert, [
      entry.id,
      entry.chainId.toString(),
      signerKey(entry.signer),
      entry.state,
      entry.nonce,
      entry.version,
      entryToJson(entry),
      entry.createdAt,
      entry.updatedAt,
    ]);
    if (rows[0] !== undefined) return entryFromJson(rows[0].entry);
    const stored = await this.get(entry.id);
    // Only a concurrent delete could get here; the table has none.
    if (stored === undefined) throw new ChainError('OUTBOX_CONFLICT', `outbox entry ${entry.id} vanished while being inserted`, { details: { id: entry.id } });
    return stored;
  }

  async update(next: OutboxEntry): Promise<boolean> {
    try {
      const { rowCount } = await this.db.query(pgOutboxQueries.update, [
        next.id,
        next.chainId.toString(),
        signerKey(next.signer),
        next.state,
        next.nonce,
        next.version,
        entryToJson(next),
        next.updatedAt,
        FROM[next.state],
      ]);
      return rowCount === 1;
    } catch (e) {
      if ((e as { code?: unknown }).code !== UNIQUE_VIOLATION || next.nonce === null) throw e;
      const holder = await this.db.query<{ id: string }>(pgOutboxQueries.nonceHolder, [next.chainId.toString(), signerKey(next.signer), next.nonce]);
      throw new ChainError('OUTBOX_CONFLICT', `nonce ${next.nonce} of ${next.signer} is held by outbox entry ${holder.rows[0]?.id ?? '?'}`, {
        details: { id: next.id, nonce: next.nonce, holder: holder.rows[0]?.id ?? null },
        cause: e,
      });
    }
  }

  async get(id: string): Promise<OutboxEntry | undefined> {
    const { rows } = await this.db.query<{ entry: unknown }>(pgOutboxQueries.get, [id]);
    return rows[0] === undefined ? undefined : entryFromJson(rows[0].entry);
  }

  async unfinished(chainId: bigint, signer: string): Promise<OutboxEntry[]> {
    const { rows } = await this.db.query<{ entry: unknown }>(pgOutboxQueries.unfinished, [chainId.toString(), signerKey(signer), UNFINISHED]);
    return rows.map((r) => entryFromJson(r.entry));
  }

  async highestNonce(chainId: bigint, signer: string): Promise<number | undefined> {
    const { rows } = await this.db.query<{ nonce: string | null }>(pgOutboxQueries.highestNonce, [chainId.toString(), signerKey(signer)]);
    const n = rows[0]?.nonce;
    return n === null || n === undefined ? undefined : Number(n);
  }
}
