/** Provisioning batches, their items (one per SIM) and the devices they produce. */
import type { BatchState, ItemState } from '../../domain/provisioning.js';
import type { Queryable } from '../pool.js';

export interface ProvisioningBatch {
  id: string;
  tenantId: string;
  createdBy: string | null;
  selector: Record<string, unknown>;
  state: BatchState;
  simCount: number;
  deadlineAt: Date;
  batchRef: string;
  merkleRoot: string | null;
  leafCount: number | null;
  chainId: string | null;
  registry: string | null;
  chainOutboxId: string | null;
  anchorTxHash: string | null;
  anchorBlock: string | null;
  anchorGasUsed: string | null;
  createdAt: Date;
  keygenFinishedAt: Date | null;
  anchoredAt: Date | null;
  completedAt: Date | null;
}

const BATCH_COLUMNS = `id, tenant_id AS "tenantId", created_by AS "createdBy", selector, state, sim_count AS "simCount",
  deadline_at AS "deadlineAt", batch_ref AS "batchRef", merkle_root AS "merkleRoot", leaf_count AS "leafCount",
  chain_id::text AS "chainId", registry, chain_outbox_id AS "chainOutboxId", anchor_tx_hash AS "anchorTxHash",
  anchor_block::text AS "anchorBlock", anchor_gas_used::text AS "anchorGasUsed", created_at AS "createdAt",
  keygen_finished_at AS "keygenFinishedAt", anchored_at AS "anchoredAt", completed_at AS "completedAt"`;

export async function getBatch(db: Queryable, id: string, lock = false): Promise<ProvisioningBatch | null> {
  return (await db.query<ProvisioningBatch>(`SELECT ${BATCH_COLUMNS} FROM provisioning_batches WHERE id = $1${lock ? ' FOR UPDATE' : ''}`, [id])).rows[0] ?? null;
}

export async function listBatches(db: Queryable, f: { tenantId: string | null; before?: { createdAt: Date; id: string }; limit: number }): Promise<ProvisioningBatch[]> {
  return (await db.query<ProvisioningBatch>(
    `SELECT ${BATCH_COLUMNS} FROM provisioning_batches
      WHERE ($1::uuid IS NULL OR tenant_id = $1) AND ($2::timestamptz IS NULL OR (created_at, id) < ($2, $3::uuid))
      ORDER BY created_at DESC, id DESC LIMIT $4`,
    [f.tenantId, f.before?.createdAt ?? null, f.before?.id ?? null, f.limit + 1],
  )).rows;
}

export async function countItemsByState(db: Queryable, batchId: string): Promise<Partial<Record<ItemState, number>>> {
  // A keyed item of a batch whose anchoring is confirmed is counted as what it is, anchored:
  // it keeps its row's state `keyed` until its identity chunk sends it STORE DATA (steps.ts).
  const rows = (await db.query<{ state: ItemState; n: number }>(
    `SELECT CASE WHEN i.state = 'keyed' AND b.state = 'identity' THEN 'anchored' ELSE i.state END AS state, count(*)::int AS n
       FROM provisioning_items i JOIN provisioning_batches b ON b.id = i.batch_id WHERE i.batch_id = $1 GROUP BY 1`, [batchId])).rows;
  return Object.fromEntries(rows.map((r) => [r.state, r.n]));
}

export interface ItemFailure {
  iccid: string;
  state: ItemState;
  code: string;
  reason: string;
  porStatus: number | null;
  attempts: number;
  at: Date;
}

export async function itemFailures(db: Queryable, batchId: string, limit: number): Promise<ItemFailure[]> {
  return (await db.query<ItemFailure>(
    `SELECT iccid, state, failure_code AS code, failure_reason AS reason, por_status AS "porStatus", attempts, updated_at AS at
       FROM provisioning_items WHERE batch_id = $1 AND state IN ('failed', 'push-failed') ORDER BY iccid LIMIT $2`,
    [batchId, limit],
  )).rows;
}

/** Whether any item of the batch is in one of `states`. */
export async function anyItemIn(db: Queryable, batchId: string, states: readonly ItemState[]): Promise<boolean> {
  return (await db.query('SELECT 1 FROM provisioning_items WHERE batch_id = $1 AND state = ANY($2::text[]) LIMIT 1', [batchId, states])).rowCount! > 0;
}

export interface Device {
  address: string;
  iccid: string;
  tenantId: string;
  batchId: string;
  publicKey: Buffer;
  curve: string;
  keySlot: number;
  salt: Buffer;
  imsiCommitment: Buffer;
  leafIndex: number;
  proof: Buffer;
  attestationSerial: string | null;
  createdAt: Date;
}

const DEVICE_COLUMNS = `address, iccid, tenant_id AS "tenantId", batch_id AS "batchId", public_key AS "publicKey", curve,
  key_slot AS "keySlot", salt, imsi_commitment AS "imsiCommitment", leaf_index AS "leafIndex", proof,
  attestation_serial AS "attestationSerial", created_at AS "createdAt"`;

export async function getDevice(db: Queryable, address: string): Promise<Device | null> {
  return (await db.query<Device>(`SELECT ${DEVICE_COLUMNS} FROM devices WHERE address = $1`, [address.toLowerCase()])).rows[0] ?? null;
}

export async function getDeviceOfSim(db: Queryable, iccid: string): Promise<Device | null> {
  return (await db.query<Device>(`SELECT ${DEVICE_COLUMNS} FROM devices WHERE iccid = $1`, [iccid])).rows[0] ?? null;
}

/** The SIM's provisioning still under way (a batch item not done, failed or push-failed), if any. */
export async function openProvisioningOfSim(db: Queryable, iccid: string): Promise<{ batchId: string; state: ItemState } | null> {
  return (await db.query<{ batchId: string; state: ItemState }>(
    `SELECT batch_id AS "batchId", state FROM provisioning_items WHERE iccid = $1 AND state NOT IN ('done', 'failed', 'push-failed')`, [iccid])).rows[0] ?? null;
}
