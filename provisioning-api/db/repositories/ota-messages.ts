/**
 * OTA messages, their SMS submissions, the counters that secure them, and the mobile-
 * originated messages that answered none of them (migration 0005). Writes take batches
 * (unnest arrays): at thousands of round trips a second, one statement per event would
 * be the bottleneck.
 */
import { withIndexProbes, type Pool, type Queryable } from '../pool.js';

export const OTA_MESSAGE_STATES = ['queued', 'submitted', 'delivered', 'por-received', 'por-error', 'expired', 'failed'] as const;
export type OtaMessageState = (typeof OTA_MESSAGE_STATES)[number];
export const OPEN_OTA_STATES: readonly OtaMessageState[] = ['queued', 'submitted', 'delivered'];

export interface OtaMessage {
  id: string;
  iccid: string;
  msisdn: string;
  tar: string;
  keysetIndex: number;
  cntr: number;
  spi: string;
  state: OtaMessageState;
  userData: Buffer[];
  deliveredParts: number[];
  attempts: number;
  porStatus: number | null;
  porCcValid: boolean | null;
  porData: Buffer | null;
  lastError: string | null;
  outboxId: string | null;
  jobId: string | null;
  expiresAt: Date;
  queuedAt: Date;
  submittedAt: Date | null;
  deliveredAt: Date | null;
  porAt: Date | null;
  finishedAt: Date | null;
}

export interface OtaSubmission {
  part: number;
  attempt: number;
  smppMessageId: string;
  submittedAt: Date;
  receiptStat: string | null;
  receiptErr: string | null;
  receiptAt: Date | null;
}

const COLUMNS = `id, iccid, msisdn, tar, keyset_index AS "keysetIndex", cntr::float8 AS cntr, spi, state, user_data AS "userData",
  delivered_parts AS "deliveredParts", attempts, por_status AS "porStatus", por_cc_valid AS "porCcValid", por_data AS "porData",
  last_error AS "lastError", outbox_id AS "outboxId", job_id AS "jobId", expires_at AS "expiresAt", queued_at AS "queuedAt",
  submitted_at AS "submittedAt", delivered_at AS "deliveredAt", por_at AS "porAt", finished_at AS "finishedAt"`;

export const otaQueries = {
  // A batch may ask several counters of one keyset: the caller groups them, asks for `count`
  // each, and numbers them last-count+1 .. last.
  allocateCounters: `INSERT INTO ota_counters (iccid, keyset_index, last_counter)
    SELECT * FROM unnest($1::text[], $2::smallint[], $3::bigint[])
    ON CONFLICT (iccid, keyset_index) DO UPDATE SET last_counter = ota_counters.last_counter + EXCLUDED.last_counter, updated_at = now()
    RETURNING iccid, keyset_index AS "keysetIndex", last_counter::float8 AS "lastCounter"`,
  simsForOta: `SELECT iccid, msisdn, tar, data_key_id AS "dataKeyId", keysets FROM sims WHERE iccid = ANY($1::text[])`,
  insert: `INSERT INTO ota_messages (iccid, msisdn, tar, keyset_index, cntr, spi, user_data, expires_at, outbox_id, job_id, lease_owner, lease_until)
    SELECT u.iccid, u.msisdn, u.tar, u.keyset_index, u.cntr, u.spi, ARRAY(SELECT decode(x, 'hex') FROM unnest(string_to_array(u.parts, ',')) x),
      u.expires_at, u.outbox_id, u.job_id, $11, now() + make_interval(secs => $12)
    FROM unnest($1::text[], $2::text[], $3::text[], $4::smallint[], $5::bigint[], $6::text[], $7::text[], $8::timestamptz[], $9::bigint[], $10::uuid[])
      AS u(iccid, msisdn, tar, keyset_index, cntr, spi, parts, expires_at, outbox_id, job_id)
    RETURNING id, iccid, keyset_index AS "keysetIndex", cntr::float8 AS cntr`,
  markSubmitted: `WITH s AS (
      INSERT INTO ota_submissions (ota_message_id, part, attempt, smpp_message_id, submitted_at)
      SELECT * FROM unnest($1::bigint[], $2::smallint[], $3::int[], $4::text[], $5::timestamptz[]))
    UPDATE ota_messages m SET state = CASE WHEN m.state = 'queued' THEN 'submitted' ELSE m.state END,
      attempts = greatest(m.attempts, u.attempt), submitted_at = coalesce(m.submitted_at, u.at), lease_owner = NULL, lease_until = NULL, updated_at = now()
    FROM unnest($6::bigint[], $7::int[], $8::timestamptz[]) AS u(id, attempt, at) WHERE m.id = u.id`,
  recordReceipts: `WITH u AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[]) AS u(mid, stat, err, at)),
    s AS (
      UPDATE ota_submissions s SET receipt_stat = u.stat, receipt_err = u.err, receipt_at = u.at
      FROM u CROSS JOIN LATERAL (SELECT x.id FROM ota_submissions x WHERE x.smpp_message_id = u.mid AND x.receipt_stat IS NULL OFFSET 0) x
      WHERE s.id = x.id
      RETURNING s.ota_message_id, s.part, u.stat, u.at),
    g AS (SELECT ota_message_id AS id, array_agg(part) FILTER (WHERE stat = 'DELIVRD') AS delivered,
        bool_or(stat = 'EXPIRED') AS expired, bool_or(stat IN ('UNDELIV', 'REJECTD', 'DELETED', 'UNKNOWN')) AS failed,
        array_agg(stat) AS stats, max(at) AS at
      FROM s GROUP BY ota_message_id),
    n AS MATERIALIZED (SELECT m.id,
        CASE WHEN cardinality(m.delivered_parts) = 0 AND cardinality(g.delivered) = 1 THEN g.delivered
          ELSE ARRAY(SELECT DISTINCT p FROM unnest(m.delivered_parts || coalesce(g.delivered, '{}'::smallint[])) p ORDER BY p) END AS parts,
        g.expired, g.failed, g.stats, g.at, cardinality(m.user_data) AS total
      FROM ota_messages m JOIN g ON g.id = m.id ORDER BY m.id),
    upd AS (
      UPDATE ota_messages m SET delivered_parts = n.parts,
        state = CASE
          WHEN m.state <> 'submitted' THEN m.state
          WHEN cardinality(n.parts) >= n.total THEN 'delivered'
          WHEN n.failed THEN 'failed'
          WHEN n.expired THEN 'expired'
          ELSE m.state END,
        delivered_at = CASE WHEN m.delivered_at IS NULL AND cardinality(n.parts) >= n.total THEN n.at ELSE m.delivered_at END,
        finished_at = CASE WHEN m.state = 'submitted' AND cardinality(n.parts) < n.total AND (n.failed OR n.expired) THEN n.at ELSE m.finished_at END,
        last_error = CASE WHEN m.state = 'submitted' AND cardinality(n.parts) < n.total AND (n.failed OR n.expired) THEN 'delivery receipt ' || array_to_string(ARRAY(SELECT DISTINCT x FROM unnest(n.stats) x ORDER BY x), ',') ELSE m.last_error END,
        updated_at = now()
      FROM n WHERE m.id = n.id RETURNING m.id)
    SELECT (SELECT count(*)::int FROM s) AS matched, (SELECT coalesce(array_agg(id), '{}') FROM upd) AS ids`,
  recordPors: `UPDATE ota_messages m SET state = CASE WHEN u.status = 0 THEN 'por-received' ELSE 'por-error' END,
      por_status = u.status, por_cc_valid = u.cc, por_data = u.data, por_at = u.at, finished_at = u.at, updated_at = now()
    FROM unnest($1::bigint[], $2::smallint[], $3::boolean[], $4::bytea[], $5::timestamptz[]) AS u(id, status, cc, data, at)
    WHERE m.id = u.id AND m.is_open
    RETURNING m.id`,
  insertInbound: `INSERT INTO ota_inbound (msisdn, tar, outcome, ota_message_id, por_status, user_data, detail)
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::smallint[], $6::bytea[], $7::text[])`,
  openForHandset: `SELECT ${COLUMNS} FROM ota_messages WHERE msisdn = $1 AND tar = $2 AND is_open ORDER BY id`,
  recentForHandset: `SELECT ${COLUMNS} FROM ota_messages WHERE msisdn = $1 AND tar = $2 ORDER BY id DESC LIMIT $3`,
  claimQueued: `UPDATE ota_messages SET lease_owner = $1, lease_until = now() + make_interval(secs => $3), updated_at = now()
    WHERE id IN (SELECT id FROM ota_messages WHERE is_open AND state = 'queued' AND (lease_until IS NULL OR lease_until < now())
      ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)
    RETURNING ${COLUMNS}`,
  release: `UPDATE ota_messages SET lease_owner = NULL, lease_until = now() + make_interval(secs => $2), attempts = greatest(attempts, $3), last_error = $4, updated_at = now()
    WHERE id = $1 AND state = 'queued'`,
  fail: `UPDATE ota_messages SET state = 'failed', last_error = $2, attempts = greatest(attempts, $3), finished_at = now(), lease_owner = NULL, lease_until = NULL, updated_at = now()
    WHERE id = $1 AND is_open RETURNING id`,
  expireOverdue: `UPDATE ota_messages SET state = CASE WHEN state = 'queued' THEN 'failed' ELSE 'expired' END,
      last_error = CASE WHEN state = 'queued' THEN 'expired before it could be submitted' ELSE 'no PoR before expires_at' END,
      finished_at = now(), lease_owner = NULL, lease_until = NULL, updated_at = now()
    WHERE is_open AND expires_at < now() RETURNING id`,
  byId: `SELECT ${COLUMNS} FROM ota_messages WHERE id = $1`,
  byIccid: `SELECT ${COLUMNS} FROM ota_messages WHERE iccid = $1 ORDER BY id`,
  submissions: `SELECT part, attempt, smpp_message_id AS "smppMessageId", submitted_at AS "submittedAt", receipt_stat AS "receiptStat",
      receipt_err AS "receiptErr", receipt_at AS "receiptAt" FROM ota_submissions WHERE ota_message_id = $1 ORDER BY id`,
  inbound: `SELECT msisdn, tar, outcome, ota_message_id AS "otaMessageId", por_status AS "porStatus", user_data AS "userData", detail, received_at AS "receivedAt"
    FROM ota_inbound WHERE msisdn = $1 ORDER BY id`,
} as const;

/**
 * Statements that update many OTA messages update them in id order (arrays sorted here, the
 * receipts' rows ordered in the statement), so two of them naming the same messages (a batch
 * of PoRs and one of receipts: both answers of a message come at once) queue behind each
 * other instead of deadlocking. A deadlock costs deadlock_timeout (1 s) before PostgreSQL
 * breaks it and the batch is run again: at 20,000 SIMs, receipts in hash order deadlocked
 * with PoRs four times and spent 6.8 s waiting (README, benchmark `provisioning`).
 */
function inIdOrder<T>(items: readonly T[], id: (item: T) => string = (x) => x as string): T[] {
  return [...items].sort((a, b) => {
    const x = id(a);
    const y = id(b);
    return x.length - y.length || (x < y ? -1 : x > y ? 1 : 0);
  });
}

export interface CounterRequest {
  iccid: string;
  keysetIndex: number;
  count: number;
}

/** Reserve `count` counters per keyset; returns the last one reserved, keyed `iccid/index`. */
export async function allocateCounters(db: Queryable, requests: readonly CounterRequest[]): Promise<Map<string, number>> {
  const r = await db.query<{ iccid: string; keysetIndex: number; lastCounter: number }>(otaQueries.allocateCounters, [
    requests.map((q) => q.iccid), requests.map((q) => q.keysetIndex), requests.map((q) => q.count),
  ]);
  return new Map(r.rows.map((row) => [`${row.iccid}/${row.keysetIndex}`, row.lastCounter]));
}

export interface SimForOta {
  iccid: string;
  msisdn: string;
  tar: string;
  dataKeyId: string;
  /** Sealed keysets (secrets/keyset-cipher.ts); opened by the sender only. */
  keysets: Buffer;
}

export async function simsForOta(db: Queryable, iccids: readonly string[]): Promise<SimForOta[]> {
  return (await db.query<SimForOta>(otaQueries.simsForOta, [iccids])).rows;
}

export interface NewOtaMessage {
  iccid: string;
  msisdn: string;
  tar: string;
  keysetIndex: number;
  cntr: number;
  spi: string;
  userData: readonly Uint8Array[];
  expiresAt: Date;
  outboxId?: string | null;
  jobId?: string | null;
}

/** Insert messages leased to `owner` (the sender that will submit them at once). */
export async function insertOtaMessages(
  db: Queryable,
  rows: readonly NewOtaMessage[],
  lease: { owner: string; seconds: number },
): Promise<Array<{ id: string; iccid: string; keysetIndex: number; cntr: number }>> {
  return (await db.query(otaQueries.insert, [
    rows.map((r) => r.iccid), rows.map((r) => r.msisdn), rows.map((r) => r.tar), rows.map((r) => r.keysetIndex),
    rows.map((r) => r.cntr), rows.map((r) => r.spi), rows.map((r) => r.userData.map((p) => Buffer.from(p).toString('hex')).join(',')),
    rows.map((r) => r.expiresAt), rows.map((r) => r.outboxId ?? null), rows.map((r) => r.jobId ?? null), lease.owner, lease.seconds,
  ])).rows;
}

export interface SubmittedPart {
  otaMessageId: string;
  part: number;
  attempt: number;
  smppMessageId: string;
  at: Date;
}

/** Record the SMSC's message ids of a batch of messages whose every part was taken. */
export async function markSubmitted(pool: Pool, parts: readonly SubmittedPart[]): Promise<void> {
  const latest = new Map<string, { attempt: number; at: Date }>();
  for (const p of parts) {
    const l = latest.get(p.otaMessageId);
    if (!l || p.attempt > l.attempt) latest.set(p.otaMessageId, { attempt: p.attempt, at: p.at });
  }
  const ids = inIdOrder([...latest.keys()]);
  await withIndexProbes(pool, (client) => client.query(otaQueries.markSubmitted, [
    parts.map((p) => p.otaMessageId), parts.map((p) => p.part), parts.map((p) => p.attempt), parts.map((p) => p.smppMessageId), parts.map((p) => p.at),
    ids, ids.map((id) => latest.get(id)!.attempt), ids.map((id) => latest.get(id)!.at),
  ]));
}

export interface ReceiptRecord {
  smppMessageId: string;
  stat: string;
  err: string | null;
  at: Date;
}

/**
 * Apply receipts; a receipt already recorded (a redelivery) changes nothing.
 *
 * Each receipt finds its submission by an index probe, whatever the statistics say: the
 * lateral lookup (OFFSET 0 keeps it from being flattened into a join) is run per receipt, and
 * the settings below leave it an index scan by smpp_message_id, and the update a probe by
 * primary key. Left to itself the planner estimated `receipt_stat IS NULL` from statistics
 * taken a moment earlier (a few hundred rows of a table that grows by one row per SMS) and
 * hashed all of them, reading the whole table per call (about 10 ms a call at 20,000 SIMs,
 * growing with the table), or, told not to, looped over them comparing each with every
 * receipt (README, benchmark `provisioning`).
 *
 * Sorting is left to the cases that need it: the first and only part of a message takes its
 * one-element array as is (a sort per message had been about half the statement), and a
 * message's receipt stats are listed, sorted, only when they fail it. Its messages are
 * updated in id order (`inIdOrder`).
 */
export async function recordReceipts(pool: Pool, receipts: readonly ReceiptRecord[]): Promise<{ matched: number; messageIds: string[] }> {
  // What is left to the planner: nested loops over index scans.
  const r = await withIndexProbes(pool, (client) => client.query<{ matched: number; ids: string[] }>(otaQueries.recordReceipts, [
    receipts.map((x) => x.smppMessageId), receipts.map((x) => x.stat), receipts.map((x) => x.err), receipts.map((x) => x.at),
  ]), ['enable_seqscan', 'enable_bitmapscan', 'enable_material']);
  return { matched: r.rows[0]!.matched, messageIds: r.rows[0]!.ids.map(String) };
}

export interface PorRecord {
  otaMessageId: string;
  status: number;
  ccValid: boolean;
  data: Uint8Array | null;
  at: Date;
}

/** Record verified PoRs; returns the ids that were still open (the others had one already). */
export async function recordPors(pool: Pool, records: readonly PorRecord[]): Promise<Set<string>> {
  const pors = inIdOrder(records, (p) => p.otaMessageId);
  const r = await withIndexProbes(pool, (client) => client.query<{ id: string }>(otaQueries.recordPors, [
    pors.map((p) => p.otaMessageId), pors.map((p) => p.status), pors.map((p) => p.ccValid),
    pors.map((p) => (p.data ? Buffer.from(p.data) : null)), pors.map((p) => p.at),
  ]));
  return new Set(r.rows.map((row) => String(row.id)));
}

export type InboundOutcome = 'duplicate' | 'unmatched' | 'invalid';

export interface InboundRecord {
  msisdn: string;
  tar: string | null;
  outcome: InboundOutcome;
  otaMessageId: string | null;
  porStatus: number | null;
  userData: Uint8Array;
  detail: string | null;
}

export async function insertInbound(db: Queryable, rows: readonly InboundRecord[]): Promise<void> {
  if (rows.length === 0) return;
  await db.query(otaQueries.insertInbound, [
    rows.map((r) => r.msisdn), rows.map((r) => r.tar), rows.map((r) => r.outcome), rows.map((r) => r.otaMessageId),
    rows.map((r) => r.porStatus), rows.map((r) => Buffer.from(r.userData)), rows.map((r) => r.detail),
  ]);
}

export async function openOtaMessagesForHandset(db: Queryable, msisdn: string, tar: string): Promise<OtaMessage[]> {
  return (await db.query<OtaMessage>(otaQueries.openForHandset, [msisdn, tar])).rows;
}

export async function recentOtaMessagesForHandset(db: Queryable, msisdn: string, tar: string, limit: number): Promise<OtaMessage[]> {
  return (await db.query<OtaMessage>(otaQueries.recentForHandset, [msisdn, tar, limit])).rows;
}

/** Lease queued messages nobody is sending (a sender that crashed leaves its lease to expire). */
export async function claimQueuedOtaMessages(db: Queryable, owner: string, limit: number, leaseSeconds: number): Promise<OtaMessage[]> {
  return (await db.query<OtaMessage>(otaQueries.claimQueued, [owner, limit, leaseSeconds])).rows;
}

/** Give a queued message back, to be sent again after `retrySeconds`. */
export async function releaseOtaMessage(db: Queryable, id: string, retrySeconds: number, attempts: number, error: string): Promise<void> {
  await db.query(otaQueries.release, [id, retrySeconds, attempts, error]);
}

export async function failOtaMessage(db: Queryable, id: string, error: string, attempts: number): Promise<boolean> {
  return ((await db.query(otaQueries.fail, [id, error, attempts])).rowCount ?? 0) > 0;
}

export async function expireOverdueOtaMessages(db: Queryable): Promise<string[]> {
  return (await db.query<{ id: string }>(otaQueries.expireOverdue)).rows.map((r) => String(r.id));
}

export async function getOtaMessage(db: Queryable, id: string): Promise<OtaMessage | null> {
  return (await db.query<OtaMessage>(otaQueries.byId, [id])).rows[0] ?? null;
}

export async function otaMessagesForIccid(db: Queryable, iccid: string): Promise<OtaMessage[]> {
  return (await db.query<OtaMessage>(otaQueries.byIccid, [iccid])).rows;
}

export async function otaSubmissions(db: Queryable, otaMessageId: string): Promise<OtaSubmission[]> {
  return (await db.query<OtaSubmission>(otaQueries.submissions, [otaMessageId])).rows;
}

export async function otaInbound(db: Queryable, msisdn: string): Promise<Array<InboundRecord & { receivedAt: Date }>> {
  return (await db.query<InboundRecord & { receivedAt: Date }>(otaQueries.inbound, [msisdn])).rows;
}
