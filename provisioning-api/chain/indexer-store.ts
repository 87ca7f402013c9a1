/**
 * The indexer's tables (migrations/0004_chain.sql): registry events, the cursor, and what is
 * derived from the events (each device's status, each batch). Every write is one database
 * transaction that moves the cursor by compare-and-set, so a page's events, the projections
 * they change and the cursor after them are stored together or not at all, and of two
 * indexers racing on one registry only one writes each step.
 *
 * The projections are a function of the events: for every device or batch that a page adds
 * events for (or a rewind removes events of), its row is recomputed from the events table,
 * so one query serves both directions.
 */
import type { Pool, PoolClient } from '../db/pool.js';
import { withTransaction } from '../db/pool.js';
import type { LogPage } from './event-reader.js';
import type { RegistryEvent, RegistryEventBody } from './registry-events.js';
import type { DeviceStatus } from '../../contracts/index.js';

export interface IndexCursor {
  chainId: bigint;
  /** Lower-case address of the registry. */
  registry: string;
  fromBlock: number;
  /** Every block up to this one is indexed; fromBlock - 1 before the first page. */
  lastBlock: number;
  /** The hash last_block had when it was read; null before the first page. */
  lastBlockHash: string | null;
  rewinds: number;
}

export interface ChainDeviceStatus {
  device: string;
  status: DeviceStatus;
  blockNumber: number;
  logIndex: number;
  transactionHash: string;
  changedBy: string;
}

export interface ChainBatch {
  batchId: string;
  operator: string;
  root: string;
  leafCount: number;
  anchoredBlock: number;
  anchoredTx: string;
  revokedBlock: number | null;
  revokedTx: string | null;
  revokedBy: string | null;
}

export interface StoredRegistryEvent {
  blockNumber: number;
  logIndex: number;
  blockHash: string;
  transactionHash: string;
  name: RegistryEventBody['name'];
  subject: string;
  event: RegistryEventBody;
}

const CURSOR = `chain_id::text AS "chainId", registry, from_block::int AS "fromBlock", last_block::int AS "lastBlock",
  last_block_hash AS "lastBlockHash", rewinds`;

export const indexerQueries = {
  initCursor: `INSERT INTO chain_index_cursors (chain_id, registry, from_block, last_block) VALUES ($1, $2, $3::bigint, $3::bigint - 1)
    ON CONFLICT (chain_id, registry) DO NOTHING`,
  cursor: `SELECT ${CURSOR} FROM chain_index_cursors WHERE chain_id = $1 AND registry = $2`,
  moveCursor: `UPDATE chain_index_cursors SET last_block = $5, last_block_hash = $6, rewinds = rewinds + $7, updated_at = now()
    WHERE chain_id = $1 AND registry = $2 AND last_block = $3 AND last_block_hash IS NOT DISTINCT FROM $4::text
    RETURNING ${CURSOR}`,
  insertEvents: `INSERT INTO chain_registry_events
      (chain_id, block_number, log_index, registry, block_hash, transaction_hash, transaction_index, name, subject, event)
    SELECT $1::numeric, e.block_number, e.log_index, $2::text, e.block_hash, e.transaction_hash, e.transaction_index, e.name, e.subject, e.event::jsonb
    FROM unnest($3::bigint[], $4::int[], $5::text[], $6::text[], $7::int[], $8::text[], $9::text[], $10::text[])
      AS e (block_number, log_index, block_hash, transaction_hash, transaction_index, name, subject, event)`,
  deleteEventsAfter: `DELETE FROM chain_registry_events WHERE chain_id = $1 AND registry = $2 AND block_number > $3 RETURNING name, subject`,
  // Distinct blocks that hold events, newest first: where a rewind looks for the last block still on the chain.
  eventBlocks: `SELECT DISTINCT block_number::int AS "blockNumber", block_hash AS "blockHash" FROM chain_registry_events
    WHERE chain_id = $1 AND registry = $2 AND block_number <= $3 ORDER BY 1 DESC LIMIT $4`,
  refreshDevices: `WITH latest AS (
      SELECT DISTINCT ON (subject) subject, event->>'status' AS status, block_number, log_index, transaction_hash, lower(event->>'by') AS changed_by
      FROM chain_registry_events
      WHERE chain_id = $1::numeric AND registry = $2::text AND subject = ANY($3::text[]) AND name = 'DeviceStatusChanged'
      ORDER BY subject, block_number DESC, log_index DESC
    ), gone AS (
      DELETE FROM chain_device_status d
      WHERE d.chain_id = $1::numeric AND d.registry = $2::text AND d.device = ANY($3::text[]) AND NOT EXISTS (SELECT 1 FROM latest WHERE latest.subject = d.device)
    )
    INSERT INTO chain_device_status (chain_id, registry, device, status, block_number, log_index, transaction_hash, changed_by)
    SELECT $1::numeric, $2::text, subject, status, block_number, log_index, transaction_hash, changed_by FROM latest
    ON CONFLICT (chain_id, registry, device) DO UPDATE SET status = excluded.status, block_number = excluded.block_number,
      log_index = excluded.log_index, transaction_hash = excluded.transaction_hash, changed_by = excluded.changed_by`,
  refreshBatches: `WITH anchored AS (
      SELECT DISTINCT ON (subject) subject, lower(event->>'operator') AS operator, event->>'root' AS root,
        (event->>'leafCount')::int AS leaf_count, block_number, transaction_hash
      FROM chain_registry_events
      WHERE chain_id = $1::numeric AND registry = $2::text AND subject = ANY($3::text[]) AND name = 'BatchAnchored'
      ORDER BY subject, block_number, log_index
    ), revoked AS (
      SELECT DISTINCT ON (subject) subject, block_number, transaction_hash, lower(event->>'by') AS revoked_by
      FROM chain_registry_events
      WHERE chain_id = $1::numeric AND registry = $2::text AND subject = ANY($3::text[]) AND name = 'BatchRevoked'
      ORDER BY subject, block_number, log_index
    ), gone AS (
      DELETE FROM chain_batches b
      WHERE b.chain_id = $1::numeric AND b.registry = $2::text AND b.batch_id = ANY($3::text[]) AND NOT EXISTS (SELECT 1 FROM anchored a WHERE a.subject = b.batch_id)
    )
    INSERT INTO chain_batches (chain_id, registry, batch_id, operator, root, leaf_count, anchored_block, anchored_tx, revoked_block, revoked_tx, revoked_by)
    SELECT $1::numeric, $2::text, a.subject, a.operator, a.root, a.leaf_count, a.block_number, a.transaction_hash, r.block_number, r.transaction_hash, r.revoked_by
    FROM anchored a LEFT JOIN revoked r USING (subject)
    ON CONFLICT (chain_id, registry, batch_id) DO UPDATE SET operator = excluded.operator, root = excluded.root,
      leaf_count = excluded.leaf_count, anchored_block = excluded.anchored_block, anchored_tx = excluded.anchored_tx,
      revoked_block = excluded.revoked_block, revoked_tx = excluded.revoked_tx, revoked_by = excluded.revoked_by`,
  deviceStatus: `SELECT device, status, block_number::int AS "blockNumber", log_index AS "logIndex", transaction_hash AS "transactionHash",
    changed_by AS "changedBy" FROM chain_device_status WHERE chain_id = $1 AND registry = $2 AND device = $3`,
  batch: `SELECT batch_id AS "batchId", operator, root, leaf_count AS "leafCount", anchored_block::int AS "anchoredBlock",
    anchored_tx AS "anchoredTx", revoked_block::int AS "revokedBlock", revoked_tx AS "revokedTx", revoked_by AS "revokedBy"
    FROM chain_batches WHERE chain_id = $1 AND registry = $2 AND batch_id = $3`,
  eventsOf: `SELECT block_number::int AS "blockNumber", log_index AS "logIndex", block_hash AS "blockHash", transaction_hash AS "transactionHash",
    name, subject, event FROM chain_registry_events WHERE chain_id = $1 AND registry = $2 AND subject = $3 ORDER BY block_number, log_index`,
} as const;

type Queryable = Pick<Pool, 'query'> | PoolClient;
type CursorRow = Omit<IndexCursor, 'chainId'> & { chainId: string };

const toCursor = (r: CursorRow): IndexCursor => ({ ...r, chainId: BigInt(r.chainId) });

/** What an event is about, as the subject column keys it. */
export function eventSubject(e: RegistryEventBody): string {
  switch (e.name) {
    case 'DeviceStatusChanged':
      return e.device.toLowerCase();
    case 'BatchAnchored':
    case 'BatchRevoked':
      return e.batchId.toLowerCase();
    case 'RoleGranted':
    case 'RoleRevoked':
      return e.account.toLowerCase();
    case 'RoleAdminChanged':
      return e.role.toLowerCase();
  }
}

/** The event without its position (which has columns of its own). */
function body(e: RegistryEvent): RegistryEventBody {
  const { address: _a, blockNumber: _b, blockHash: _h, transactionHash: _t, transactionIndex: _i, logIndex: _l, ...rest } = e;
  return rest;
}

/** The registry's cursor, created at `fromBlock - 1` if there is none yet. */
export async function openCursor(db: Queryable, chainId: bigint, registry: string, fromBlock: number): Promise<IndexCursor> {
  await db.query(indexerQueries.initCursor, [chainId.toString(), registry.toLowerCase(), fromBlock]);
  return (await readCursor(db, chainId, registry))!;
}

export async function readCursor(db: Queryable, chainId: bigint, registry: string): Promise<IndexCursor | undefined> {
  const { rows } = await db.query<CursorRow>(indexerQueries.cursor, [chainId.toString(), registry.toLowerCase()]);
  return rows[0] && toCursor(rows[0]);
}

async function moveCursor(
  c: PoolClient,
  from: IndexCursor,
  to: { lastBlock: number; lastBlockHash: string | null },
  rewound: boolean,
): Promise<IndexCursor | null> {
  const { rows } = await c.query<CursorRow>(indexerQueries.moveCursor, [
    from.chainId.toString(), from.registry, from.lastBlock, from.lastBlockHash, to.lastBlock, to.lastBlockHash, rewound ? 1 : 0,
  ]);
  return rows[0] === undefined ? null : toCursor(rows[0]);
}

async function refresh(c: PoolClient, cursor: IndexCursor, touched: { name: string; subject: string }[]): Promise<void> {
  const of = (names: string[]): string[] => [...new Set(touched.filter((e) => names.includes(e.name)).map((e) => e.subject))];
  const devices = of(['DeviceStatusChanged']);
  const batches = of(['BatchAnchored', 'BatchRevoked']);
  const key = [cursor.chainId.toString(), cursor.registry];
  if (devices.length > 0) await c.query(indexerQueries.refreshDevices, [...key, devices]);
  if (batches.length > 0) await c.query(indexerQueries.refreshBatches, [...key, batches]);
}

/**
 * Stores a page read after `cursor` and moves the cursor to its last block; null (and nothing
 * written) when the cursor was no longer where the page was read from.
 */
export async function commitPage(pool: Pool, cursor: IndexCursor, page: LogPage<RegistryEvent>): Promise<IndexCursor | null> {
  if (page.toBlockHash === undefined) throw new TypeError('commitPage needs a page read with blockHashes');
  const hash = page.toBlockHash.toLowerCase();
  return withTransaction(pool, async (c) => {
    const moved = await moveCursor(c, cursor, { lastBlock: page.toBlock, lastBlockHash: hash }, false);
    if (moved === null) return null;
    if (page.logs.length === 0) return moved;
    const events = page.logs;
    const touched = events.map((e) => ({ name: e.name, subject: eventSubject(e) }));
    await c.query(indexerQueries.insertEvents, [
      cursor.chainId.toString(),
      cursor.registry,
      events.map((e) => e.blockNumber),
      events.map((e) => e.logIndex),
      events.map((e) => e.blockHash.toLowerCase()),
      events.map((e) => e.transactionHash.toLowerCase()),
      events.map((e) => e.transactionIndex),
      events.map((e) => e.name),
      touched.map((e) => e.subject),
      events.map((e) => JSON.stringify(body(e))),
    ]);
    await refresh(c, cursor, touched);
    return moved;
  });
}

/** Blocks holding events at or below `atOrBelow`, newest first, with the hashes they were read with. */
export async function eventBlocks(db: Queryable, cursor: IndexCursor, atOrBelow: number, limit: number): Promise<{ blockNumber: number; blockHash: string }[]> {
  return (await db.query<{ blockNumber: number; blockHash: string }>(indexerQueries.eventBlocks, [cursor.chainId.toString(), cursor.registry, atOrBelow, limit])).rows;
}

/**
 * Forgets everything after block `to.lastBlock` (events and what they set) and moves the
 * cursor back there; null when the cursor had moved meanwhile.
 */
export async function rewindTo(pool: Pool, cursor: IndexCursor, to: { lastBlock: number; lastBlockHash: string | null }): Promise<IndexCursor | null> {
  return withTransaction(pool, async (c) => {
    const moved = await moveCursor(c, cursor, to, true);
    if (moved === null) return null;
    const { rows } = await c.query<{ name: string; subject: string }>(indexerQueries.deleteEventsAfter, [cursor.chainId.toString(), cursor.registry, to.lastBlock]);
    await refresh(c, cursor, rows);
    return moved;
  });
}

type RegistryKey = { chainId: bigint; registry: string };

/** A device's latest status as indexed; undefined if it never changed (the registry says Active). */
export async function chainDeviceStatus(db: Queryable, key: RegistryKey & { device: string }): Promise<ChainDeviceStatus | undefined> {
  const { rows } = await db.query<ChainDeviceStatus>(indexerQueries.deviceStatus, [key.chainId.toString(), key.registry.toLowerCase(), key.device.toLowerCase()]);
  return rows[0];
}

export async function chainBatch(db: Queryable, key: RegistryKey & { batchId: string }): Promise<ChainBatch | undefined> {
  const { rows } = await db.query<ChainBatch>(indexerQueries.batch, [key.chainId.toString(), key.registry.toLowerCase(), key.batchId.toLowerCase()]);
  return rows[0];
}

/** Every indexed event about a device, batch or account, in chain order. */
export async function registryEventsOf(db: Queryable, key: RegistryKey & { subject: string }): Promise<StoredRegistryEvent[]> {
  return (await db.query<StoredRegistryEvent>(indexerQueries.eventsOf, [key.chainId.toString(), key.registry.toLowerCase(), key.subject.toLowerCase()])).rows;
}
