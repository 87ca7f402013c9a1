/** Data keys of the envelope: generated per import, stored wrapped under a master key version. */
import { randomBytes } from 'node:crypto';
import type { MasterKeyring } from '../../secrets/master-key.js';
import { unwrapDataKey, wrapDataKey } from '../../secrets/keyset-cipher.js';
import type { Pool, Queryable } from '../pool.js';

export const dataKeyQueries = {
  insert: `INSERT INTO data_keys (master_key_version, wrapped) VALUES ($1, $2) RETURNING id`,
  byId: `SELECT master_key_version AS version, wrapped FROM data_keys WHERE id = $1`,
  notCurrent: `SELECT id, master_key_version AS version, wrapped FROM data_keys WHERE master_key_version <> $1 ORDER BY id LIMIT $2`,
  rewrap: `UPDATE data_keys SET master_key_version = $2, wrapped = $3, rewrapped_at = now() WHERE id = $1 AND master_key_version = $4`,
} as const;

/** A fresh data key, stored wrapped; returns its id and the key in clear for this process only. */
export async function createDataKey(db: Queryable, keyring: MasterKeyring): Promise<{ id: string; key: Buffer }> {
  const key = randomBytes(32);
  const { version, wrapped } = wrapDataKey(keyring, key);
  const id = (await db.query<{ id: string }>(dataKeyQueries.insert, [version, wrapped])).rows[0]!.id;
  return { id, key };
}

export async function loadDataKey(db: Queryable, keyring: MasterKeyring, id: string): Promise<Buffer> {
  const row = (await db.query<{ version: number; wrapped: Buffer }>(dataKeyQueries.byId, [id])).rows[0];
  if (!row) throw new Error(`data key ${id} does not exist`);
  return unwrapDataKey(keyring, row.version, row.wrapped);
}

/**
 * Rewrap every data key not under the current master key (master key rotation). SIM rows
 * are untouched: they are sealed under the data keys. Returns how many were rewrapped.
 */
export async function rewrapDataKeys(pool: Pool, keyring: MasterKeyring): Promise<number> {
  let done = 0;
  for (;;) {
    const rows = (await pool.query<{ id: string; version: number; wrapped: Buffer }>(dataKeyQueries.notCurrent, [keyring.current.version, 500])).rows;
    if (rows.length === 0) return done;
    for (const row of rows) {
      const key = unwrapDataKey(keyring, row.version, row.wrapped);
      const next = wrapDataKey(keyring, key);
      done += (await pool.query(dataKeyQueries.rewrap, [row.id, next.version, next.wrapped, row.version])).rowCount ?? 0;
    }
  }
}
