/** Records to API representations (typed by the response schemas). */
import type { Static } from '@fastify/type-provider-typebox';
import type { ApiKey as ApiKeyRecord } from '../db/repositories/api-keys.js';
import type { Job as JobRecord } from '../db/repositories/jobs.js';
import type { SimImport as SimImportRecord } from '../db/repositories/sim-imports.js';
import type { Sim as SimRecord } from '../db/repositories/sims.js';
import type { Tenant as TenantRecord } from '../db/repositories/tenants.js';
import { ApiError } from '../domain/errors.js';
import type { ApiKey, Job, Sim, SimImport, Tenant } from './schemas/resources.js';

export function presentTenant(t: TenantRecord): Static<typeof Tenant> {
  return { id: t.id, name: t.name, kind: t.kind, createdAt: t.createdAt.toISOString() };
}

export function presentApiKey(k: ApiKeyRecord): Static<typeof ApiKey> {
  return {
    id: k.id, tenantId: k.tenantId, role: k.role, name: k.name, prefix: k.prefix,
    createdAt: k.createdAt.toISOString(), revokedAt: k.revokedAt?.toISOString() ?? null, lastUsedAt: k.lastUsedAt?.toISOString() ?? null,
  };
}

export function presentSim(s: SimRecord): Static<typeof Sim> {
  return {
    iccid: s.iccid, imsi: s.imsi, msisdn: s.msisdn, tar: s.tar, tenantId: s.tenantId, state: s.state,
    pendingAction: s.pendingAction && s.pendingJobId ? { action: s.pendingAction, jobId: s.pendingJobId } : null,
    importId: s.importId, attestationSerial: s.attestationSerial,
    stateChangedAt: s.stateChangedAt.toISOString(), createdAt: s.createdAt.toISOString(),
  };
}

export function presentImport(i: SimImportRecord): Static<typeof SimImport> {
  return {
    id: i.id, tenantId: i.tenantId, state: i.state, fileName: i.fileName, format: i.format,
    contentSha256: i.contentSha256.toString('hex'), byteCount: Number(i.byteCount), rowCount: i.rowCount,
    loadedCount: i.loadedCount, droppedColumns: i.droppedColumns, metadata: i.metadata, problems: i.problems,
    problemCount: i.problemCount, jobId: i.jobId, createdAt: i.createdAt.toISOString(),
    startedAt: i.startedAt?.toISOString() ?? null, finishedAt: i.finishedAt?.toISOString() ?? null,
  };
}

export function presentJob(j: JobRecord): Static<typeof Job> {
  return {
    id: j.id, tenantId: j.tenantId, kind: j.kind, state: j.state, input: j.input, result: j.result, error: j.error,
    attempts: j.attempts, createdAt: j.createdAt.toISOString(), startedAt: j.startedAt?.toISOString() ?? null,
    finishedAt: j.finishedAt?.toISOString() ?? null,
  };
}

/** Opaque keyset-pagination cursors: base64url of the last item's sort key. */
export function encodeCursor(parts: string[]): string {
  return Buffer.from(JSON.stringify(parts), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string | undefined, arity: number): string[] | undefined {
  if (cursor === undefined) return undefined;
  try {
    const parts = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(parts) && parts.length === arity && parts.every((p) => typeof p === 'string')) return parts as string[];
  } catch {
    // fall through
  }
  throw new ApiError('INVALID_CURSOR', 'the cursor is not one this API issued');
}
