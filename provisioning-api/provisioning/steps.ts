/**
 * The two OTA steps of a SIM's provisioning, each an OTA command whose PoR decides:
 *   keygen:   queued          → keygen-sent   → keyed  (GENERATE KEY PAIR; the key attested)
 *   identity: keyed, anchored → identity-sent → done   (STORE DATA: chain id, registry, batch)
 * The identity step takes the keyed items of a batch whose anchoring is confirmed (its state
 * `identity`): in the transaction that writes their STORE DATA it sets their SIMs `active`
 * and records when they were anchored. `anchored` is where an identity push waits for a
 * resend (and where items waited before the first, until this was folded into it).
 *
 * `dispatch` runs as a pg-boss job for a chunk of a batch's SIMs: in one transaction it locks
 * the chunk's waiting items, writes their OTA messages (the gateway's `prepare`: counter,
 * keys, secured packet) and moves the items to "sent" with their message id; after the
 * commit the gateway submits. A crash before the commit leaves nothing; after it, the
 * gateway's sweep sends the queued rows. `collect` reads settled OTA messages of sent items
 * (SKIP LOCKED, so any number of processes share the work) and applies `decideStep`:
 * success, a retry (back to waiting, and a pg-boss job delayed by the backoff, written in the
 * same transaction) or a failure with its reason.
 */
import { generateKeyPairApdu, storeDataApdu, type CommandApdu, type VendorAuthority } from '../../sim-applet/index.js';
import { withIndexProbes, type PoolClient, type Queryable } from '../db/pool.js';
import { anyItemIn } from '../db/repositories/provisioning.js';
import { decideStep, IDENTITY_OPEN, KEYGEN_OPEN, MAX_ATTEMPTS, type FailureCode, type ItemState } from '../domain/provisioning.js';
import { QUEUES, type QueueName } from '../jobs/queue.js';
import type { Services } from '../services/context.js';
import { CHAIN_KEY_CURVE, CHAIN_KEY_SLOT, swOfPorData, type AttestedKey } from './attest.js';
import { attestInline, type Attest } from './attest-pool.js';

export type StepName = 'keygen' | 'identity';

interface StepSpec {
  /** Where an item waits for a resend of the step's command. */
  waiting: ItemState;
  /** What a step job takes: the waiting items and, for the identity, the keyed ones of an anchored batch. */
  takes: readonly ItemState[];
  sent: ItemState;
  queue: QueueName;
  /** Where a SIM that gives up ends. */
  failed: ItemState;
}

export const STEPS: Record<StepName, StepSpec> = {
  keygen: { waiting: 'queued', takes: ['queued'], sent: 'keygen-sent', queue: QUEUES.provisioningKeygen, failed: 'failed' },
  identity: { waiting: 'anchored', takes: ['keyed', 'anchored'], sent: 'identity-sent', queue: QUEUES.provisioningIdentity, failed: 'push-failed' },
};

/** A step job: a range of a batch's ICCIDs (first pass) or a list (retries). */
export interface StepJob {
  batchId: string;
  from?: string;
  to?: string;
  iccids?: string[];
}

/** OTA counter jump after a "counter low" PoR: the card's counter is ahead of ours by an unknown amount. */
export const COUNTER_RESYNC_STEP = 65_536;

/**
 * GENERATE KEY PAIR for the chain key. A SIM whose attestation certificate the operator holds
 * (from the vendor file) is asked to leave it out: the PoR is then 2 SMS instead of 4.
 */
const KEYGEN = generateKeyPairApdu(CHAIN_KEY_CURVE, CHAIN_KEY_SLOT, { replace: true, label: 'chain' });
const KEYGEN_WITHOUT_CERTIFICATE = generateKeyPairApdu(CHAIN_KEY_CURVE, CHAIN_KEY_SLOT, { replace: true, label: 'chain', withoutCertificate: true });

/**
 * The commands of a step for a batch, by whether the SIM's certificate is held; null for the
 * identity of a batch whose anchoring is not confirmed (its keyed items are not the step's yet).
 */
async function commandsOf(client: PoolClient, step: StepName, batchId: string): Promise<((certificateHeld: boolean) => CommandApdu[]) | null> {
  if (step === 'keygen') {
    const full = [KEYGEN], short = [KEYGEN_WITHOUT_CERTIFICATE];
    return (certificateHeld) => (certificateHeld ? short : full);
  }
  const b = (await client.query<{ state: string; chainId: string; registry: string; batchRef: string }>(
    'SELECT state, chain_id::text AS "chainId", registry, batch_ref AS "batchRef" FROM provisioning_batches WHERE id = $1', [batchId])).rows[0];
  if (b?.state !== 'identity') return null;
  const commands = [storeDataApdu({
    chainId: BigInt(b.chainId),
    registry: Buffer.from(b.registry.slice(2), 'hex'),
    batchId: Buffer.from(b.batchRef.slice(2), 'hex'),
  })];
  return () => commands;
}

/**
 * Send the step's command to the waiting items of `job`. Returns the OTA message ids written.
 * Idempotent: items already sent (a job run twice, a retry job after the item moved on) are
 * not waiting any more and are left alone.
 */
export async function dispatchStep(svc: Services, step: StepName, job: StepJob): Promise<string[]> {
  const ota = svc.ota;
  if (!ota) throw new Error('this worker has no SMSC: provisioning steps need one');
  const spec = STEPS[step];
  const prepared = await withIndexProbes(svc.pool, async (client) => {
    const held = step === 'keygen'
      ? 'EXISTS (SELECT 1 FROM sims s WHERE s.iccid = i.iccid AND s.attestation_certificate IS NOT NULL)'
      : 'false';
    const commands = await commandsOf(client, step, job.batchId);
    if (!commands) return null;
    const items = (await client.query<{ iccid: string; state: ItemState; certificateHeld: boolean }>(
      `SELECT i.iccid, i.state, ${held} AS "certificateHeld" FROM provisioning_items i
        WHERE i.batch_id = $1 AND i.state = ANY($2::text[]) AND i.not_before <= now() + interval '1 second'
          AND ($3::text IS NULL OR i.iccid >= $3) AND ($4::text IS NULL OR i.iccid <= $4)
          AND ($5::text[] IS NULL OR i.iccid = ANY($5::text[]))
        ORDER BY i.iccid FOR UPDATE OF i`,
      [job.batchId, spec.takes, job.from ?? null, job.to ?? null, job.iccids ?? null],
    )).rows;
    if (items.length === 0) return null;
    const iccids = items.map((i) => i.iccid);
    // Their binding is on chain: the SIMs are active from the moment their identity is sent.
    const fresh = items.filter((i) => i.state === 'keyed').map((i) => i.iccid);
    if (fresh.length > 0) {
      await client.query(`UPDATE sims SET state = 'active', state_changed_at = now() WHERE iccid = ANY($1::text[]) AND state = 'provisioning'`, [fresh]);
    }
    const sent = await ota.prepare(client, items.map((i) => ({ iccid: i.iccid, commands: commands(i.certificateHeld) })));
    // A keyed item starts the identity step: its attempts count again from this first send.
    await client.query(
      `UPDATE provisioning_items i SET state = $2, ota_message_id = u.m, updated_at = now(),
              attempts = CASE WHEN i.state = 'keyed' THEN 1 ELSE i.attempts + 1 END,
              anchored_at = CASE WHEN i.state = 'keyed' THEN now() ELSE i.anchored_at END
         FROM unnest($3::text[], $4::bigint[]) AS u(iccid, m)
        WHERE i.batch_id = $1 AND i.iccid = u.iccid`,
      [job.batchId, spec.sent, iccids, sent.ids],
    );
    return sent;
  });
  if (!prepared) return [];
  prepared.dispatch();
  return prepared.ids;
}

interface Settled {
  batchId: string;
  iccid: string;
  state: ItemState;
  attempts: number;
  messageId: string;
  messageState: 'por-received' | 'por-error' | 'expired' | 'failed';
  porStatus: number | null;
  porData: Buffer | null;
  lastError: string | null;
  keysetIndex: number;
  imsi: string;
  importId: string;
  tenantId: string;
  /** The SIM's attestation certificate from the vendor file (key generation only), or null. */
  certificate: Buffer | null;
}

const SETTLED_COLUMNS = `i.batch_id AS "batchId", i.iccid, i.state, i.attempts, m.id::text AS "messageId", m.state AS "messageState",
  m.por_status AS "porStatus", m.por_data AS "porData", m.last_error AS "lastError", m.keyset_index AS "keysetIndex",
  s.imsi, s.import_id AS "importId", s.tenant_id AS "tenantId",
  CASE WHEN i.state = 'keygen-sent' THEN s.attestation_certificate END AS certificate`;

/**
 * The settled messages named ($2), oldest first: each message by its id, then its SIM's open
 * item by ICCID (provisioning_items_open_sim; the state list restates its predicate so the
 * planner sees it applies), which must still wait on that very message.
 */
const SETTLED_OF_MESSAGES = `SELECT ${SETTLED_COLUMNS}
    FROM ota_messages m
    JOIN provisioning_items i ON i.iccid = m.iccid AND i.ota_message_id = m.id
    JOIN sims s ON s.iccid = i.iccid
   WHERE m.id = ANY($2::bigint[])
     AND m.state IN ('por-received', 'por-error', 'expired', 'failed')
     AND i.state IN ('keygen-sent', 'identity-sent') AND i.state NOT IN ('done', 'failed', 'push-failed')
   ORDER BY m.id
   LIMIT $1
   FOR UPDATE OF i SKIP LOCKED`;

/**
 * The sweep: any sent item whose message settled unseen (another process's PoR, an expiry).
 * It starts from the sent items (a window's worth: provisioning_items_work) and probes their
 * messages; what it finds is then read and locked by SETTLED_OF_MESSAGES. Ordered by message
 * id, as it was first written, the planner walked every settled message of the table in id
 * order looking for a sent item: at 100,000 SIMs a sweep that found nothing read 200,000
 * messages, once a second. Joined back to the items in the same statement (to lock them),
 * the planner, taking the 3,250 sent items for 157, compared each with every other instead
 * of probing the primary key: 5.3 million comparisons, 0.7 s (auto_explain, README).
 */
const SETTLED_SWEEP = `WITH sent AS MATERIALIZED (
      SELECT ota_message_id FROM provisioning_items WHERE state IN ('keygen-sent', 'identity-sent'))
  SELECT m.id::text AS id
    FROM sent
    JOIN ota_messages m ON m.id = sent.ota_message_id
   WHERE m.state IN ('por-received', 'por-error', 'expired', 'failed')
   LIMIT $1`;

export interface CollectResult {
  handled: number;
  keyed: number;
  done: number;
  failed: number;
  retried: number;
  /** Batches whose key generation may have ended (anchor them if so). */
  keygenBatches: Set<string>;
  /** Batches whose identity push may have ended. */
  identityBatches: Set<string>;
}

/**
 * Apply the PoRs (or their absence) of up to `limit` settled OTA messages of sent items;
 * only those of `messageIds` when given (the fast path, from the gateway's events).
 */
export async function collectSettled(svc: Services, caCertificates: (importId: string) => Promise<Buffer | VendorAuthority | null>, options: { limit?: number; messageIds?: string[]; policy?: { retryBaseSeconds: number; maxAttempts: number }; attest?: Attest } = {}): Promise<CollectResult> {
  const policy = options.policy ?? { retryBaseSeconds: 5, maxAttempts: MAX_ATTEMPTS };
  const attest = options.attest ?? attestInline;
  const result: CollectResult = { handled: 0, keyed: 0, done: 0, failed: 0, retried: 0, keygenBatches: new Set(), identityBatches: new Set() };
  await withIndexProbes(svc.pool, async (client) => {
    const limit = options.limit ?? 1000;
    const messageIds = options.messageIds ?? (await client.query<{ id: string }>(SETTLED_SWEEP, [limit])).rows.map((r) => r.id);
    if (messageIds.length === 0) return;
    const rows = (await client.query<Settled>(SETTLED_OF_MESSAGES, [limit, messageIds])).rows;
    if (rows.length === 0) return;
    const now = new Date();
    const keyed: Array<{ row: Settled; key: AttestedKey }> = [];
    const done: Settled[] = [];
    const failed: Array<{ row: Settled; code: FailureCode; reason: string }> = [];
    const retries = new Map<string, { step: StepName; batchId: string; delay: number; iccids: string[] }>();
    const resync: Settled[] = [];
    /** Generated keys to check, by import (one vendor CA each). */
    const toAttest = new Map<string, { ca: Buffer | VendorAuthority; rows: Settled[] }>();
    for (const row of rows) {
      const step: StepName = row.state === 'keygen-sent' ? 'keygen' : 'identity';
      (step === 'keygen' ? result.keygenBatches : result.identityBatches).add(row.batchId);
      const decision = decideStep({ messageState: row.messageState, porStatus: row.porStatus, sw: swOfPorData(row.porData), lastError: row.lastError }, row.attempts, policy);
      if (decision.kind === 'retry') {
        if (decision.resync) resync.push(row);
        const k = `${step}/${row.batchId}/${decision.delaySeconds}`;
        const r = retries.get(k) ?? { step, batchId: row.batchId, delay: decision.delaySeconds, iccids: [] };
        r.iccids.push(row.iccid);
        retries.set(k, r);
        continue;
      }
      if (decision.kind === 'fail') {
        failed.push({ row, code: decision.code, reason: decision.reason });
        continue;
      }
      if (step === 'identity') {
        done.push(row);
        continue;
      }
      const ca = await caCertificates(row.importId);
      if (!ca) {
        failed.push({ row, code: 'ATTESTATION_FAILED', reason: 'no vendor CA certificate is configured for the SIM\'s import' });
        continue;
      }
      const group = toAttest.get(row.importId) ?? { ca, rows: [] };
      group.rows.push(row);
      toAttest.set(row.importId, group);
    }
    for (const { ca, rows: group } of toAttest.values()) {
      const outcomes = await attest(ca, now, group.map((row) => ({ iccid: row.iccid, imsi: row.imsi, porData: row.porData!, heldCertificate: row.certificate })));
      group.forEach((row, k) => {
        const attested = outcomes[k]!;
        if (attested.ok) keyed.push({ row, key: attested.key });
        else failed.push({ row, code: attested.code, reason: attested.reason });
      });
    }

    if (keyed.length > 0) {
      await client.query(
        `UPDATE provisioning_items i SET state = 'keyed', public_key = u.pk, address = u.address, attestation_serial = u.serial,
                salt = u.salt, imsi_commitment = u.commitment, por_status = 0, keyed_at = now(), updated_at = now()
           FROM unnest($1::uuid[], $2::text[], $3::bytea[], $4::text[], $5::text[], $6::bytea[], $7::bytea[])
                AS u(batch_id, iccid, pk, address, serial, salt, commitment)
          WHERE i.batch_id = u.batch_id AND i.iccid = u.iccid`,
        [keyed.map((k) => k.row.batchId), keyed.map((k) => k.row.iccid), keyed.map((k) => k.key.publicKey), keyed.map((k) => k.key.address),
          keyed.map((k) => k.key.attestationSerial), keyed.map((k) => k.key.salt), keyed.map((k) => k.key.imsiCommitment)],
      );
    }
    if (done.length > 0) {
      await client.query(
        `UPDATE provisioning_items i SET state = 'done', por_status = 0, done_at = now(), updated_at = now()
           FROM unnest($1::uuid[], $2::text[]) AS u(batch_id, iccid) WHERE i.batch_id = u.batch_id AND i.iccid = u.iccid`,
        [done.map((r) => r.batchId), done.map((r) => r.iccid)],
      );
    }
    if (failed.length > 0) {
      await client.query(
        `UPDATE provisioning_items i
            SET state = CASE WHEN i.state = 'keygen-sent' THEN 'failed' ELSE 'push-failed' END,
                failure_code = u.code, failure_reason = u.reason, por_status = u.por, updated_at = now()
           FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::smallint[]) AS u(batch_id, iccid, code, reason, por)
          WHERE i.batch_id = u.batch_id AND i.iccid = u.iccid`,
        [failed.map((f) => f.row.batchId), failed.map((f) => f.row.iccid), failed.map((f) => f.code), failed.map((f) => f.reason), failed.map((f) => f.row.porStatus)],
      );
      // A SIM whose key generation failed is `failed` (it may be provisioned again); one whose
      // identity push failed stays active: its binding on chain stands.
      const noKey = failed.filter((f) => f.row.state === 'keygen-sent').map((f) => f.row.iccid);
      if (noKey.length > 0) {
        await client.query(`UPDATE sims SET state = 'failed', state_changed_at = now() WHERE iccid = ANY($1::text[]) AND state = 'provisioning'`, [noKey]);
      }
    }
    for (const r of resync) {
      await client.query('UPDATE ota_counters SET last_counter = least(last_counter + $3, 1099511627775), updated_at = now() WHERE iccid = $1 AND keyset_index = $2',
        [r.iccid, r.keysetIndex, COUNTER_RESYNC_STEP]);
    }
    for (const r of retries.values()) {
      const spec = STEPS[r.step];
      await client.query(
        `UPDATE provisioning_items SET state = $2, not_before = now() + make_interval(secs => $4), updated_at = now()
          WHERE batch_id = $1 AND iccid = ANY($3::text[])`,
        [r.batchId, spec.waiting, r.iccids, r.delay],
      );
      await svc.queue.sendTo(client, spec.queue, { batchId: r.batchId, iccids: r.iccids } satisfies StepJob, r.delay > 0 ? { startAfter: r.delay } : {});
    }
    result.handled = rows.length;
    result.keyed = keyed.length;
    result.done = done.length;
    result.failed = failed.length;
    result.retried = rows.length - keyed.length - done.length - failed.length;
  });
  return result;
}

/** Whether the batch still has SIMs on their way to a key. */
export function keygenOpen(db: Queryable, batchId: string): Promise<boolean> {
  return anyItemIn(db, batchId, KEYGEN_OPEN);
}

/** Mark the batch completed when no SIM waits for its identity any more. */
export async function completeIfPushed(svc: Services, batchId: string): Promise<boolean> {
  const r = await svc.pool.query(
    `UPDATE provisioning_batches SET state = 'completed', completed_at = now(), updated_at = now()
      WHERE id = $1 AND state = 'identity'
        AND NOT EXISTS (SELECT 1 FROM provisioning_items WHERE batch_id = $1 AND state = ANY($2::text[]))`,
    [batchId, IDENTITY_OPEN],
  );
  return r.rowCount! > 0;
}

