/**
 * An import's SIMs become partitions of `sims` (migrations/0011) instead of a million
 * inserts into it. Every row inserted into an indexed table updates its five indexes one
 * by one: COPY of a million rows into a sims-like table took 7.2 s, into a fresh table with
 * no index 2.0 s, and building the five indexes afterwards in bulk (sorted, with
 * maintenance_work_mem = 512MB) 1.4 s more. So an import COPYs into a load table of its own
 * (`createLoadTable`), then `attachLoadTable` indexes it and attaches it as the partition of
 * its ICCID range, reusing those indexes for the parent's partitioned ones.
 *
 * Uniqueness across partitions:
 * - ICCID is the partition key: partition ranges never overlap, and each partition's
 *   primary key covers its own range, so the parent's primary key holds across all.
 * - IMSI and MSISDN cannot be unique on the parent (PostgreSQL requires the partition key
 *   in a partitioned unique index). The only writer of new SIMs, the import, checks them:
 *   - inside the file: the load table gets a UNIQUE index on each, unless its filler saw
 *     that column's values strictly increase from row to row (`LoadFacts`, as a vendor
 *     batch's consecutive numbers do: all different by order alone); the two index builds
 *     were 0.6 s of the server's work for a million rows;
 *   - against the inventory: each partition's least and greatest IMSI and MSISDN are kept
 *     in `sims_partitions`; only partitions whose range overlaps the file's are matched
 *     against it, row by row (a hash join). Vendor batches rarely overlap, so the usual
 *     import matches nothing.
 *   Both under a transaction-level advisory lock held until the import commits: imports
 *   serialise from the check to their commit, so no two can pass it with the same
 *   identifier. An UPDATE of a SIM's IMSI or MSISDN would have to take the same lock (none
 *   exists).
 *
 * The caller's transaction must be READ COMMITTED: after waiting for the lock, the checks
 * must see what the import that held it committed.
 */
import { sqlState, UNIQUE_VIOLATION, type PoolClient } from '../db/pool.js';

/**
 * pg_advisory_xact_lock key of "inventory identifiers": held from an import's uniqueness
 * check to its commit. ASCII 'SIMS' 'IDNT'; no other lock of this database uses it.
 */
export const INVENTORY_IDENTIFIERS_LOCK = 0x5349_4d53_4944_4e54n;

export type AttachOutcome = { outcome: 'attached'; partitions: number } | { outcome: 'duplicates' };

interface Bounds {
  min: string;
  max: string;
}

/**
 * What the filler of a load table saw of its rows: IMSIs (MSISDNs) strictly increasing from
 * row to row, from `min` to `max` (./identifier-order.ts). Without it the table's unique
 * index on that column finds duplicates and gives the bounds.
 */
export interface LoadFacts {
  imsi?: Bounds | undefined;
  msisdn?: Bounds | undefined;
}

interface Ranges {
  imsi: Bounds;
  msisdn: Bounds;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const LOAD_TABLE = /^sims_[0-9a-f]{32}$/;

/** The load table of an import: `sims_` and the 32 hex digits of its id (no quoting needed). */
export function loadTableName(importId: string): string {
  if (!UUID.test(importId)) throw new TypeError(`not an import id: ${importId}`);
  return `sims_${importId.replace(/-/g, '').toLowerCase()}`;
}

interface Range {
  lower: string;
  upper: string;
}

interface PartitionRange extends Range {
  relname: string;
}

const rangeCheck = (range: Range) => `CHECK (iccid >= ${range.lower} AND iccid < ${range.upper})`;

export const inventoryPartitionQueries = {
  isolation: `SELECT current_setting('transaction_isolation') AS level`,
  lock: `SELECT pg_advisory_xact_lock($1::bigint)`,
  /** [lower, upper) of every partition overlapping [$1, $2). */
  overlapping: `SELECT relname, lower_iccid AS lower, upper_iccid AS upper FROM sims_partitions
    WHERE lower_iccid < $2 AND upper_iccid > $1 ORDER BY lower_iccid`,
  record: `INSERT INTO sims_partitions (relname, lower_iccid, upper_iccid, import_id, imsi_min, imsi_max, msisdn_min, msisdn_max)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
  /** A partition that took routed rows: its identifier ranges grow to cover theirs. */
  widen: `UPDATE sims_partitions SET imsi_min = least(imsi_min, $2), imsi_max = greatest(imsi_max, $3),
    msisdn_min = least(msisdn_min, $4), msisdn_max = greatest(msisdn_max, $5) WHERE relname = $1`,
  /** Partitions whose IMSIs (or MSISDNs) may lie in [$1, $2]. */
  rangesOverlapping: (column: 'imsi' | 'msisdn') => `SELECT relname FROM sims_partitions WHERE ${column}_min <= $2 AND ${column}_max >= $1 ORDER BY relname`,
  /** Columns, defaults and checks of `sims`; optionally the check of an ICCID range [lower, upper) (quoted literals). */
  createTable: (table: string, range?: Range) => `CREATE TABLE ${table} (LIKE sims INCLUDING DEFAULTS INCLUDING CONSTRAINTS${
    range ? `, CONSTRAINT ${table}_iccid_range ${rangeCheck(range)}` : ''}) WITH (fillfactor = 50)`,
  /** Validates every row: one scan of the table. */
  addRangeCheck: (table: string, range: Range) => `ALTER TABLE ${table} ADD CONSTRAINT ${table}_iccid_range ${rangeCheck(range)}`,
  /**
   * The indexes of a partition, built in bulk. The primary key, the tenant index and the
   * BRIN match the parent's (sims_pkey, sims_tenant, sims_import), so ATTACH
   * PARTITION adopts them; the primary key must be a constraint, as the parent's is, to be
   * adopted. The unique IMSI and MSISDN indexes find duplicates inside the file; a file whose
   * values of one of them strictly increase has none, and that index is not built.
   */
  indexes: (table: string, unique: { imsi: boolean; msisdn: boolean }) => [
    `ALTER TABLE ${table} ADD CONSTRAINT ${table}_pkey PRIMARY KEY (iccid)`,
    ...(unique.imsi ? [`ALTER TABLE ${table} ADD CONSTRAINT ${table}_imsi_key UNIQUE (imsi)`] : []),
    ...(unique.msisdn ? [`ALTER TABLE ${table} ADD CONSTRAINT ${table}_msisdn_key UNIQUE (msisdn)`] : []),
    `CREATE INDEX ${table}_tenant ON ${table} (tenant_id)`,
    `CREATE INDEX ${table}_import ON ${table} USING brin (import_id)`,
  ],
  /** The load table's ICCID range: index probes; upper is max || chr(1), the next string in byte order. */
  iccidBounds: (table: string) => `SELECT (SELECT min(iccid) FROM ${table}) AS lower, (SELECT max(iccid) || chr(1) FROM ${table}) AS upper`,
  /** The least and greatest of a column (index probes, when it has its unique index). */
  columnBounds: (table: string, column: 'imsi' | 'msisdn') => `SELECT min(${column}) AS min, max(${column}) AS max FROM ${table}`,
  /** The identifier ranges of the load table's rows in [$1, $2) (either bound may be absent). */
  sliceRanges: `min(iccid) AS lower, max(iccid) || chr(1) AS upper, min(imsi) AS "imsiMin", max(imsi) AS "imsiMax",
    min(msisdn) AS "msisdnMin", max(msisdn) AS "msisdnMax"`,
  /**
   * Any row of the load table whose `column` value a partition holds too: a hash join of the
   * two in [$1, $2] (only for partitions whose range of that column overlaps the file's).
   */
  anyRepeated: (column: 'imsi' | 'msisdn', table: string, partition: string) => `SELECT 1 FROM ${partition} p JOIN ${table} l ON l.${column} = p.${column}
    WHERE p.${column} BETWEEN $1 AND $2 AND l.${column} BETWEEN $1 AND $2 LIMIT 1`,
  /** The load table's rows in [$1, $2) (either bound may be absent: unbounded). */
  slice: (table: string, lower: boolean, upper: boolean, select: string) =>
    `SELECT ${select} FROM ${table} WHERE true${lower ? ' AND iccid >= $1' : ''}${upper ? ` AND iccid < $${lower ? 2 : 1}` : ''}`,
} as const;

/**
 * Create the load table of an import, in the caller's transaction: the columns, defaults
 * and checks of `sims`, no index. Returns its name; the caller fills it (COPY, INSERT).
 */
export async function createLoadTable(client: PoolClient, importId: string): Promise<string> {
  const table = loadTableName(importId);
  await client.query(inventoryPartitionQueries.createTable(table));
  return table;
}

/**
 * Index a filled load table and attach its rows to `sims`, in the caller's transaction,
 * which then holds the inventory identifiers lock until it ends.
 *
 * `duplicates`: an identifier repeats within the table, or one is already in the
 * inventory. Everything this call did is rolled back (to a savepoint): the transaction
 * stays usable and the load table is as it was given, for a diagnosis.
 *
 * `attached`: when the table's ICCID range is free it becomes one partition (`partitions:
 * 1`). When it overlaps partitions (interleaved ICCIDs from different files), its rows
 * inside their ranges are inserted into them and the rows of each gap between them become a
 * partition of their own; the load table is dropped. `partitions` counts those created.
 */
export async function attachLoadTable(client: PoolClient, table: string, importId: string, facts: LoadFacts = {}): Promise<AttachOutcome> {
  if (!LOAD_TABLE.test(table)) throw new TypeError(`not a load table: ${table}`);
  if (!UUID.test(importId)) throw new TypeError(`not an import id: ${importId}`);
  const level = (await client.query<{ level: string }>(inventoryPartitionQueries.isolation)).rows[0]!.level;
  if (level !== 'read committed') throw new Error(`attachLoadTable needs a READ COMMITTED transaction, not ${level}`);

  await client.query('SAVEPOINT attach_load_table');
  let outcome: AttachOutcome;
  try {
    outcome = await attach(client, table, importId, facts);
  } catch (e) {
    if (sqlState(e) !== UNIQUE_VIOLATION) throw e;
    outcome = { outcome: 'duplicates' };
  }
  // Undoing the indexes, the lock and any partition; the caller's transaction goes on.
  if (outcome.outcome === 'duplicates') await client.query('ROLLBACK TO SAVEPOINT attach_load_table');
  await client.query('RELEASE SAVEPOINT attach_load_table');
  return outcome;
}

async function attach(client: PoolClient, table: string, importId: string, facts: LoadFacts): Promise<AttachOutcome> {
  // The index builds sort in memory rather than in temporary files.
  await client.query(`SET LOCAL maintenance_work_mem = '512MB'`);
  const unique = { imsi: facts.imsi === undefined, msisdn: facts.msisdn === undefined };
  // A unique violation here: duplicates within the file.
  await buildIndexes(client, table, unique);
  const iccid = (await client.query<{ lower: string | null; upper: string | null }>(inventoryPartitionQueries.iccidBounds(table))).rows[0]!;
  if (iccid.lower === null || iccid.upper === null) {
    await client.query(`DROP TABLE ${table}`);
    return { outcome: 'attached', partitions: 0 };
  }
  const range = { lower: iccid.lower, upper: iccid.upper };
  const ranges: Ranges = {
    imsi: facts.imsi ?? (await client.query<Bounds>(inventoryPartitionQueries.columnBounds(table, 'imsi'))).rows[0]!,
    msisdn: facts.msisdn ?? (await client.query<Bounds>(inventoryPartitionQueries.columnBounds(table, 'msisdn'))).rows[0]!,
  };
  // Scans the table, before the lock: concurrent imports scan theirs at the same time.
  await client.query(inventoryPartitionQueries.addRangeCheck(table, quoteRange(client, range)));

  await client.query(inventoryPartitionQueries.lock, [INVENTORY_IDENTIFIERS_LOCK.toString()]);
  if (await repeatsInventory(client, table, 'imsi', ranges.imsi)) return { outcome: 'duplicates' };
  if (await repeatsInventory(client, table, 'msisdn', ranges.msisdn)) return { outcome: 'duplicates' };

  const overlapping = (await client.query<PartitionRange>(inventoryPartitionQueries.overlapping, [range.lower, range.upper])).rows;
  if (overlapping.length === 0) {
    await attachPartition(client, table, range, ranges, importId);
    return { outcome: 'attached', partitions: 1 };
  }

  // Interleaved: rows inside existing partitions go into them (a primary key violation
  // there is a duplicate ICCID; their identifier ranges widen to cover them), the rows of
  // each gap around them become a partition.
  type SliceRanges = { lower: string | null; upper: string | null; imsiMin: string; imsiMax: string; msisdnMin: string; msisdnMax: string };
  for (const p of overlapping) {
    const routed = await client.query(`INSERT INTO sims ${inventoryPartitionQueries.slice(table, true, true, '*')}`, [p.lower, p.upper]);
    if (routed.rowCount === 0) continue;
    const r = (await client.query<SliceRanges>(inventoryPartitionQueries.slice(table, true, true, inventoryPartitionQueries.sliceRanges), [p.lower, p.upper])).rows[0]!;
    await client.query(inventoryPartitionQueries.widen, [p.relname, r.imsiMin, r.imsiMax, r.msisdnMin, r.msisdnMax]);
  }
  let created = 0;
  for (let i = 0; i <= overlapping.length; i++) {
    const gap = { lower: overlapping[i - 1]?.upper ?? null, upper: overlapping[i]?.lower ?? null };
    const params = [gap.lower, gap.upper].filter((b) => b !== null);
    const slice = (select: string) => inventoryPartitionQueries.slice(table, gap.lower !== null, gap.upper !== null, select);
    const rows = (await client.query<SliceRanges>(slice(inventoryPartitionQueries.sliceRanges), params)).rows[0]!;
    if (rows.lower === null || rows.upper === null) continue;
    created += 1;
    const partition = `${table}_${created}`;
    const gapRange = { lower: rows.lower, upper: rows.upper };
    // Created with its range check, which the INSERT checks row by row: no scan.
    await client.query(inventoryPartitionQueries.createTable(partition, quoteRange(client, gapRange)));
    await client.query(`INSERT INTO ${partition} ${slice('*')}`, params);
    await buildIndexes(client, partition, unique);
    await attachPartition(client, partition, gapRange, { imsi: { min: rows.imsiMin, max: rows.imsiMax }, msisdn: { min: rows.msisdnMin, max: rows.msisdnMax } }, importId);
  }
  await client.query(`DROP TABLE ${table}`);
  return { outcome: 'attached', partitions: created };
}

function quoteRange(client: PoolClient, range: Range): Range {
  return { lower: client.escapeLiteral(range.lower), upper: client.escapeLiteral(range.upper) };
}

async function buildIndexes(client: PoolClient, table: string, unique: { imsi: boolean; msisdn: boolean }): Promise<void> {
  for (const sql of inventoryPartitionQueries.indexes(table, unique)) await client.query(sql);
}

/**
 * Whether the inventory holds any of the table's values of `column`, all in `range`: the
 * partitions' recorded ranges rule most out at once (vendor batches take consecutive
 * numbers); the rest are matched row by row.
 */
async function repeatsInventory(client: PoolClient, table: string, column: 'imsi' | 'msisdn', range: Bounds): Promise<boolean> {
  const q = inventoryPartitionQueries;
  for (const { relname } of (await client.query<{ relname: string }>(q.rangesOverlapping(column), [range.min, range.max])).rows) {
    if ((await client.query(q.anyRepeated(column, table, relname), [range.min, range.max])).rowCount !== 0) return true;
  }
  return false;
}

/**
 * Attach an indexed table holding exactly the rows of `range`, with its range check: the
 * check proves the partition constraint, so ATTACH skips its own scan of the table. ATTACH
 * takes SHARE UPDATE EXCLUSIVE on `sims` (reads and writes of SIMs go on; another ATTACH
 * waits) and ACCESS EXCLUSIVE on the table; and, cloning the foreign key that references
 * `sims` onto the partition, SHARE ROW EXCLUSIVE on keyset_rotations (PostgreSQL 15): writes
 * of rotations wait from here until the import commits. The check, redundant once attached,
 * is dropped (no scan).
 */
async function attachPartition(client: PoolClient, table: string, range: Range, ranges: Ranges, importId: string): Promise<void> {
  const quoted = quoteRange(client, range);
  await client.query(`ALTER TABLE sims ATTACH PARTITION ${table} FOR VALUES FROM (${quoted.lower}) TO (${quoted.upper})`);
  await client.query(`ALTER TABLE ${table} DROP CONSTRAINT ${table}_iccid_range`);
  await client.query(inventoryPartitionQueries.record, [
    table, range.lower, range.upper, importId, ranges.imsi.min, ranges.imsi.max, ranges.msisdn.min, ranges.msisdn.max,
  ]);
}
