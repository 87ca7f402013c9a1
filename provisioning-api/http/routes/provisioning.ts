/**
 * Provisioning batches (POST → 202; GET shows counts per state, throughput, estimated
 * completion and failures with reasons) and device identities (GET /v1/devices/{address}:
 * the binding with its batch, root, anchoring transaction and Merkle proof, so anyone can
 * check it on chain with DeviceRegistry.verify).
 */
import { Type, type FastifyPluginAsyncTypebox, type Static } from '@fastify/type-provider-typebox';
import { countItemsByState, getBatch, getDevice, itemFailures, listBatches, type ProvisioningBatch } from '../../db/repositories/provisioning.js';
import { ApiError } from '../../domain/errors.js';
import { batchProgress, ITEM_STATES, BATCH_STATES } from '../../domain/provisioning.js';
import { ANY_ROLE, canAccessTenant, OPERATOR_READERS, OPERATOR_STAFF } from '../../domain/roles.js';
import { createBatch, MAX_BATCH } from '../../provisioning/batches.js';
import type { Services } from '../../services/context.js';
import { principalOf } from '../plugins/auth.js';
import { decodeCursor, encodeCursor } from '../present.js';
import { Cursor, errorResponses, Iccid, Limit, NullableTimestamp, Timestamp, Uuid } from '../schemas/common.js';
import { page } from '../schemas/resources.js';

const Hex32 = Type.String({ pattern: '^0x[0-9a-f]{64}$' });
const Address = Type.String({ pattern: '^0x[0-9a-fA-F]{40}$', description: 'Device address (the key its card generated)' });
const FAILURES_SHOWN = 100;

const ProvisioningBatchSchema = Type.Object(
  {
    id: Uuid,
    tenantId: Uuid,
    state: Type.Enum(BATCH_STATES, { description: 'keygen → anchoring → identity → completed, or failed (no SIM produced a key)' }),
    selector: Type.Record(Type.String(), Type.Unknown()),
    simCount: Type.Integer(),
    counts: Type.Record(Type.Enum(ITEM_STATES), Type.Integer(), { description: 'SIMs per provisioning state' }),
    finished: Type.Integer({ description: 'SIMs done, failed or push-failed' }),
    throughput: Type.Number({ description: 'SIMs finished per second since the batch was created' }),
    estimatedCompletion: NullableTimestamp,
    deadlineAt: Timestamp,
    chain: Type.Object({
      batchId: Hex32,
      merkleRoot: Type.Union([Hex32, Type.Null()]),
      leafCount: Type.Union([Type.Integer(), Type.Null()]),
      chainId: Type.Union([Type.String(), Type.Null()]),
      registry: Type.Union([Type.String(), Type.Null()]),
      transactionHash: Type.Union([Type.String(), Type.Null()]),
      blockNumber: Type.Union([Type.Integer(), Type.Null()]),
      gasUsed: Type.Union([Type.Integer(), Type.Null()]),
    }),
    failures: Type.Array(Type.Object({
      iccid: Iccid,
      state: Type.Enum(['failed', 'push-failed']),
      code: Type.String(),
      reason: Type.String(),
      porStatus: Type.Union([Type.Integer(), Type.Null()]),
      attempts: Type.Integer(),
      at: Timestamp,
    }), { description: `The first ${FAILURES_SHOWN} failures, by ICCID` }),
    createdAt: Timestamp,
    keygenFinishedAt: NullableTimestamp,
    anchoredAt: NullableTimestamp,
    completedAt: NullableTimestamp,
  },
  { $id: 'ProvisioningBatch', title: 'ProvisioningBatch' },
);

const DeviceSchema = Type.Object(
  {
    address: Address,
    iccid: Type.Optional(Iccid),
    publicKey: Type.String({ description: 'Uncompressed secp256k1 public key, hex' }),
    imsiCommitment: Hex32,
    salt: Type.Optional(Type.String({ description: 'The commitment\'s salt (operator only): keccak256(abi.encode(salt, imsi))' })),
    status: Type.Enum(['active', 'suspended', 'terminated', 'provisioning', 'failed', 'inventory']),
    batch: Type.Object({
      id: Uuid,
      chainBatchId: Hex32,
      merkleRoot: Hex32,
      leafCount: Type.Integer(),
      chainId: Type.String(),
      registry: Type.String(),
      transactionHash: Type.Union([Type.String(), Type.Null()]),
      blockNumber: Type.Union([Type.Integer(), Type.Null()]),
    }),
    leafIndex: Type.Integer(),
    proof: Type.Array(Hex32, { description: 'Sibling hashes, leaf to root: DeviceRegistry.verify(batchId, address, imsiCommitment, proof)' }),
    attestationSerial: Type.Union([Type.String(), Type.Null()]),
    createdAt: Timestamp,
  },
  { $id: 'Device', title: 'Device' },
);

async function present(services: Services, b: ProvisioningBatch, now = new Date()): Promise<Static<typeof ProvisioningBatchSchema>> {
  const counts = await countItemsByState(services.pool, b.id);
  const progress = batchProgress(counts, b.createdAt, now, b.completedAt);
  const failures = await itemFailures(services.pool, b.id, FAILURES_SHOWN);
  const num = (v: string | null) => (v === null ? null : Number(v));
  return {
    id: b.id, tenantId: b.tenantId, state: b.state, selector: b.selector, simCount: b.simCount,
    counts: progress.counts, finished: progress.finished, throughput: Math.round(progress.throughput * 100) / 100,
    estimatedCompletion: progress.estimatedCompletion?.toISOString() ?? null, deadlineAt: b.deadlineAt.toISOString(),
    chain: {
      batchId: b.batchRef, merkleRoot: b.merkleRoot, leafCount: b.leafCount, chainId: b.chainId, registry: b.registry,
      transactionHash: b.anchorTxHash, blockNumber: num(b.anchorBlock), gasUsed: num(b.anchorGasUsed),
    },
    failures: failures.map((f) => ({ ...f, state: f.state as 'failed' | 'push-failed', at: f.at.toISOString() })),
    createdAt: b.createdAt.toISOString(), keygenFinishedAt: b.keygenFinishedAt?.toISOString() ?? null,
    anchoredAt: b.anchoredAt?.toISOString() ?? null, completedAt: b.completedAt?.toISOString() ?? null,
  };
}

export const provisioningRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const { pool } = services;
  app.addSchema(ProvisioningBatchSchema);
  app.addSchema(DeviceSchema);

  app.post('/v1/provisioning-batches', {
    config: { roles: OPERATOR_STAFF, operatorOnly: true },
    schema: {
      tags: ['provisioning'],
      summary: 'Provision SIMs: OTA key generation, attestation, Merkle anchoring on chain, identity push',
      description:
        'Roles: operator-admin, carrier-ops. Select SIMs with exactly one of `iccids` (up to 10,000), an inclusive ICCID `range`, or an `importId`. ' +
        `Every selected SIM must be in inventory or failed with no pending action, and its import must have a vendor CA (409 otherwise; nothing starts). At most ${MAX_BATCH.toLocaleString('en-US')} SIMs. ` +
        'Answers 202 with the batch; GET it for progress.',
      body: Type.Object({
        iccids: Type.Optional(Type.Array(Iccid, { minItems: 1, maxItems: 10_000 })),
        range: Type.Optional(Type.Object({ from: Iccid, to: Iccid }, { additionalProperties: false })),
        importId: Type.Optional(Uuid),
        deadlineSeconds: Type.Optional(Type.Integer({ minimum: 10, maximum: 7 * 86_400, description: 'After this, SIMs without a key are failed and the batch anchors the rest (default 3,600)' })),
      }, { additionalProperties: false }),
      response: { 202: Type.Ref('ProvisioningBatch'), ...errorResponses(404, 409, 422) },
    },
  }, async (request, reply) => {
    const b = request.body;
    const given = [b.iccids, b.range, b.importId].filter((x) => x !== undefined).length;
    if (given !== 1) throw new ApiError('VALIDATION_FAILED', 'give exactly one of iccids, range, importId');
    const selector = b.iccids ? { iccids: b.iccids } : b.range ? { range: b.range } : { importId: b.importId! };
    const batch = await createBatch(services, principalOf(request), { selector, ...(b.deadlineSeconds ? { deadlineSeconds: b.deadlineSeconds } : {}) });
    return reply.code(202).header('location', `/v1/provisioning-batches/${batch.id}`).send(await present(services, batch));
  });

  app.get('/v1/provisioning-batches', {
    config: { roles: OPERATOR_READERS, operatorOnly: true },
    schema: {
      tags: ['provisioning'],
      summary: 'List provisioning batches, newest first',
      description: 'Roles: operator-admin, carrier-ops, auditor (operator).',
      querystring: Type.Object({ limit: Limit, cursor: Type.Optional(Cursor) }),
      response: { 200: page(Type.Ref('ProvisioningBatch')), ...errorResponses() },
    },
  }, async (request) => {
    const cursor = decodeCursor(request.query.cursor, 2);
    const before = cursor ? { createdAt: new Date(cursor[0]!), id: cursor[1]! } : undefined;
    if (before && Number.isNaN(before.createdAt.getTime())) throw new ApiError('INVALID_CURSOR');
    const rows = await listBatches(pool, { tenantId: null, limit: request.query.limit, ...(before ? { before } : {}) });
    const items = rows.slice(0, request.query.limit);
    const last = items.at(-1);
    return {
      items: await Promise.all(items.map((b) => present(services, b))),
      nextCursor: rows.length > items.length && last ? encodeCursor([last.createdAt.toISOString(), last.id]) : null,
    };
  });

  app.get('/v1/provisioning-batches/:batchId', {
    config: { roles: OPERATOR_READERS, operatorOnly: true },
    schema: {
      tags: ['provisioning'],
      summary: 'A provisioning batch: counts per state, throughput, estimated completion, failures with reasons, the anchoring',
      description: 'Roles: operator-admin, carrier-ops, auditor (operator).',
      params: Type.Object({ batchId: Uuid }),
      response: { 200: Type.Ref('ProvisioningBatch'), ...errorResponses(404) },
    },
  }, async (request) => {
    const batch = await getBatch(pool, request.params.batchId);
    if (!batch || !canAccessTenant(principalOf(request), batch.tenantId)) throw new ApiError('BATCH_NOT_FOUND', `no batch ${request.params.batchId}`);
    return present(services, batch);
  });

  app.get('/v1/devices/:address', {
    config: { roles: ANY_ROLE },
    schema: {
      tags: ['devices'],
      summary: 'A device identity and the proof of its binding on chain',
      description:
        'Roles: all. The operator sees the SIM (ICCID) and the commitment\'s salt; everyone else only the IMSI commitment, which reveals nothing of the IMSI. ' +
        'Check it on chain: DeviceRegistry.verify(chainBatchId, address, imsiCommitment, proof) at `registry` on `chainId`.',
      params: Type.Object({ address: Address }),
      response: { 200: Type.Ref('Device'), ...errorResponses(404) },
    },
  }, async (request) => {
    const principal = principalOf(request);
    const device = await getDevice(pool, request.params.address);
    if (!device) throw new ApiError('DEVICE_NOT_FOUND', `no device ${request.params.address}`);
    const batch = (await getBatch(pool, device.batchId))!;
    const sim = (await pool.query<{ state: Static<typeof DeviceSchema>['status'] }>('SELECT state FROM sims WHERE iccid = $1', [device.iccid])).rows[0]!;
    const operator = principal.tenantKind === 'operator';
    const proof: string[] = [];
    for (let o = 0; o < device.proof.length; o += 32) proof.push(`0x${device.proof.subarray(o, o + 32).toString('hex')}`);
    return {
      address: device.address,
      ...(operator ? { iccid: device.iccid, salt: `0x${device.salt.toString('hex')}` } : {}),
      publicKey: `0x${device.publicKey.toString('hex')}`,
      imsiCommitment: `0x${device.imsiCommitment.toString('hex')}`,
      status: sim.state,
      batch: {
        id: batch.id, chainBatchId: batch.batchRef, merkleRoot: batch.merkleRoot!, leafCount: batch.leafCount!, chainId: batch.chainId!,
        registry: batch.registry!, transactionHash: batch.anchorTxHash, blockNumber: batch.anchorBlock === null ? null : Number(batch.anchorBlock),
      },
      leafIndex: device.leafIndex,
      proof,
      attestationSerial: device.attestationSerial,
      createdAt: device.createdAt.toISOString(),
    };
  });
};
