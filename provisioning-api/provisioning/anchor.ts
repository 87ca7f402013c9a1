/**
 * Anchoring a batch: once every SIM of the batch has its attested key (or failed), or the
 * deadline has passed (SIMs still waiting are failed then), the Merkle tree of the keyed
 * SIMs' leaves `keccak256(keccak256(abi.encode(address, imsiCommitment)))` is built, every
 * device row with its proof is written, and `DeviceRegistry.anchorBatch(root, leafCount,
 * batchRef)` is planned in the chain outbox, all in one transaction: the tree, the proofs
 * and the transaction exist together or not at all. The outbox sends it (once: its id is the
 * batch's, and batchRef is unique on chain too); when it is confirmed, the batch turns to
 * `identity` and its identity push is queued, again in one transaction: each chunk of that
 * push sets its SIMs `active` as it sends them their identity (steps.ts).
 *
 * Runs as a pg-boss job (one per batch at a time), sent when the last SIM's key arrives and
 * at the deadline; waiting for the confirmation is bounded, and a job that gives up waiting
 * is retried by pg-boss with backoff.
 */
import { randomUUID } from 'node:crypto';
import { awaitEntry, PgOutboxStore, planTransaction, registryCalls } from '../chain/index.js';
import { isChainError } from '../chain/errors.js';
import { withSnapshot, withTransaction, type PoolClient } from '../db/pool.js';
import { prefetched } from '../db/prefetched.js';
import { getBatch } from '../db/repositories/provisioning.js';
import { BinaryCopyWriter, uuidBytes } from '../db/copy-binary.js';
import { CopyIn } from '../db/copy-in.js';
import { MerkleTreeBuilder } from '../domain/merkle.js';
import { QUEUES } from '../jobs/queue.js';
import type { Services } from '../services/context.js';
import { CHUNK } from './batches.js';
import { CHAIN_KEY_CURVE, CHAIN_KEY_SLOT } from './attest.js';
import { keygenOpen } from './steps.js';

/** Rows read and written at a time while building and storing the tree. */
const PAGE = 10_000;
/** How long one run of the job waits for the anchoring to be confirmed before pg-boss retries it. */
const CONFIRM_WAIT_MS = 60_000;

export type AnchorOutcome = 'not-ready' | 'planned' | 'confirmed' | 'failed' | 'nothing-to-do';

export async function runAnchorJob(svc: Services, batchId: string, options: { confirmWaitMs?: number } = {}): Promise<AnchorOutcome> {
  const chain = svc.chain;
  if (!chain) throw new Error('this worker has no chain: anchoring needs one');
  let batch = await getBatch(svc.pool, batchId);
  if (!batch) return 'nothing-to-do';
  if (batch.state === 'keygen') {
    const planned = await withTransaction(svc.pool, (client) => planAnchor(svc, client, batchId));
    if (planned !== 'planned') return planned;
    // This process's outbox signs it now, not at its next adoption (up to a second later). If
    // another process holds the key, that one adopts it in its time.
    await chain.signer.outbox.adoptNow();
    batch = (await getBatch(svc.pool, batchId))!;
  }
  if (batch.state !== 'anchoring') return 'nothing-to-do';
  const store = new PgOutboxStore(svc.pool);
  let entry;
  try {
    entry = await awaitEntry(store, batch.chainOutboxId!, { until: 'confirmed', timeoutMs: options.confirmWaitMs ?? CONFIRM_WAIT_MS, pollMs: 200 });
  } catch (e) {
    if (isChainError(e) && e.code !== 'TIMEOUT') svc.log.error({ batchId, err: e }, 'the anchoring transaction failed');
    throw e;
  }
  await withTransaction(svc.pool, async (client) => {
    const b = (await getBatch(client, batchId, true))!;
    if (b.state !== 'anchoring') return;
    await client.query(
      `UPDATE provisioning_batches SET state = 'identity', anchor_tx_hash = $2, anchor_block = $3, anchor_gas_used = $4,
              anchored_at = now(), updated_at = now() WHERE id = $1`,
      [batchId, entry.receipt!.hash, entry.receipt!.blockNumber, entry.receipt!.gasUsed.toString()],
    );
    // The keyed items stay as they are: each identity chunk job, in the transaction that
    // writes its STORE DATA, sets its SIMs active and its items sent (steps.ts). Done here for
    // the whole batch at once, the two updates delayed the first STORE DATA by about 1.8 s at
    // 100,000 SIMs, and each item was written once more (README, benchmark `provisioning`).
    const chunks = (await client.query<{ from: string; to: string }>(
      `SELECT min(iccid) AS from, max(iccid) AS to
         FROM (SELECT iccid, (row_number() OVER (ORDER BY iccid) - 1) / ${CHUNK} AS g FROM provisioning_items WHERE batch_id = $1 AND state = 'keyed') x
        GROUP BY g ORDER BY 1`,
      [batchId],
    )).rows;
    await svc.queue.sendManyTo(client, QUEUES.provisioningIdentity, chunks.map((c) => ({ batchId, from: c.from, to: c.to })));
  });
  svc.queue.nudgeQueue(QUEUES.provisioningIdentity);
  return 'confirmed';
}

/** In the caller's transaction: fail the stragglers at the deadline, build the tree, store the proofs, plan the transaction. */
async function planAnchor(svc: Services, client: PoolClient, batchId: string): Promise<AnchorOutcome> {
  const chain = svc.chain!;
  const b = (await getBatch(client, batchId, true))!;
  if (b.state !== 'keygen') return b.state === 'anchoring' ? 'planned' : 'nothing-to-do';
  if (await keygenOpen(client, batchId)) {
    const late = (await client.query<{ late: boolean }>('SELECT deadline_at <= now() AS late FROM provisioning_batches WHERE id = $1', [batchId])).rows[0]!.late;
    if (!late) return 'not-ready';
    const failed = (await client.query<{ iccid: string }>(
      `UPDATE provisioning_items SET state = 'failed', failure_code = 'DEADLINE', failure_reason = 'no attested key before the batch deadline', updated_at = now()
        WHERE batch_id = $1 AND state IN ('queued', 'keygen-sent') RETURNING iccid`,
      [batchId],
    )).rows.map((r) => r.iccid);
    await client.query(`UPDATE sims SET state = 'failed', state_changed_at = now() WHERE iccid = ANY($1::text[]) AND state = 'provisioning'`, [failed]);
  }
  const { count } = (await client.query<{ count: number }>(`SELECT count(*)::int AS count FROM provisioning_items WHERE batch_id = $1 AND state = 'keyed'`, [batchId])).rows[0]!;
  if (count === 0) {
    await client.query(`UPDATE provisioning_batches SET state = 'failed', keygen_finished_at = now(), completed_at = now(), updated_at = now() WHERE id = $1`, [batchId]);
    return 'failed';
  }
  // The rows are read on a connection of their own, in one snapshot taken now (the batch's
  // lock is held: no item of it becomes keyed meanwhile), a page ahead of their use: while
  // this transaction's COPY of one page runs, the next is fetched by another server process
  // and the two use both cores (about 2.7 s against 3.9 s for the proofs of 100,000 SIMs,
  // when both went through this one connection, README).
  const tree = await withSnapshot(svc.pool, async (reader) => {
    // Pass 1: the leaves, in ICCID order (the input index is the SIM's rank).
    const builder = await MerkleTreeBuilder.create(count);
    let leaves = 0;
    for await (const page of prefetched(keyedPages(reader, batchId, 'i.address, i.imsi_commitment AS commitment'))) {
      for (const row of page) builder.add(Buffer.from((row.address as string).slice(2), 'hex'), row.commitment as Buffer);
      leaves += page.length;
    }
    if (leaves !== count) throw new Error(`batch ${batchId}: ${leaves} keyed items read for ${count} counted`);
    const built = builder.build();
    // Pass 2: each device with its proof, a page at a time as binary COPY rows. COPY spares
    // both sides the hex of every key, salt and 17-hash proof that an INSERT of arrays cost
    // (README, benchmark `provisioning`).
    const batch = uuidBytes(batchId);
    let index = 0;
    for await (const page of prefetched(keyedPages(reader, batchId, 'i.iccid, i.address, i.public_key, i.salt, i.imsi_commitment, i.attestation_serial, s.tenant_id', true))) {
      const out = new BinaryCopyWriter(1 << 16).header();
      for (const row of page) {
        const proof = Buffer.concat(built.proof(index));
        const { address, iccid, public_key: publicKey, salt, imsi_commitment: commitment } = row as { address: string; iccid: string; public_key: Buffer; salt: Buffer; imsi_commitment: Buffer };
        const serial = row.attestation_serial as string | null;
        // Room for the row: 12 lengths, two uuids, the smallint and int, and the variable fields.
        const room = 12 * 4 + 16 + 16 + 2 + 4 + address.length + iccid.length + publicKey.length + CHAIN_KEY_CURVE.length
          + salt.length + commitment.length + proof.length + (serial?.length ?? 0);
        out.row(12, room)
          .ascii(address).ascii(iccid).bytes(uuidBytes(row.tenant_id as string)).bytes(batch)
          .bytes(publicKey).ascii(CHAIN_KEY_CURVE).int2(CHAIN_KEY_SLOT).bytes(salt).bytes(commitment)
          .int4(index).bytes(proof);
        if (serial === null) out.null();
        else out.ascii(serial);
        index++;
      }
      const copy = new CopyIn(client, DEVICE_COPY);
      try {
        await copy.write(out.trailer().take());
        await copy.end();
      } catch (e) {
        await copy.abort('device rows not written');
        throw e;
      }
    }
    if (index !== count) throw new Error(`batch ${batchId}: ${index} devices read for ${count} counted`);
    return built;
  });
  const outboxId = `provisioning:${batchId}:anchor`;
  await planTransaction(new PgOutboxStore(client), {
    id: outboxId, chainId: chain.connection.chainId, signer: chain.signer.outbox.address,
    request: registryCalls.anchorBatch(chain.registry, tree.rootHex, count, b.batchRef),
  });
  await client.query(
    `UPDATE provisioning_batches SET state = 'anchoring', merkle_root = $2, leaf_count = $3, chain_id = $4, registry = $5, chain_outbox_id = $6,
            keygen_finished_at = now(), updated_at = now() WHERE id = $1`,
    [batchId, tree.rootHex, count, chain.connection.chainId.toString(), chain.registry.toLowerCase(), outboxId],
  );
  return 'planned';
}

const DEVICE_COPY = `COPY devices (address, iccid, tenant_id, batch_id, public_key, curve, key_slot, salt, imsi_commitment, leaf_index, proof, attestation_serial)
  FROM STDIN (FORMAT binary)`;

/**
 * The batch's keyed items (`i`, with their SIM as `s` when `withSim`) in ICCID order, a page
 * at a time (a cursor keeps memory flat).
 */
async function* keyedPages(client: PoolClient, batchId: string, columns: string, withSim = false): AsyncGenerator<Array<Record<string, any>>> {
  const cursor = `keyed_${randomUUID().replace(/-/g, '')}`;
  const from = withSim ? 'provisioning_items i JOIN sims s ON s.iccid = i.iccid' : 'provisioning_items i';
  await client.query(`DECLARE ${cursor} NO SCROLL CURSOR FOR SELECT ${columns} FROM ${from} WHERE i.batch_id = $1 AND i.state = 'keyed' ORDER BY i.iccid`, [batchId]);
  try {
    for (;;) {
      const rows = (await client.query(`FETCH ${PAGE} FROM ${cursor}`)).rows;
      if (rows.length === 0) return;
      yield rows;
    }
  } finally {
    await client.query(`CLOSE ${cursor}`);
  }
}
