/** API keys: stored as the SHA-256 of the token, found by their public prefix. */
import type { Role, TenantKind } from '../../domain/roles.js';
import type { Queryable } from '../pool.js';

export interface ApiKey {
  id: string;
  tenantId: string;
  role: Role;
  name: string;
  prefix: string;
  createdAt: Date;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}

export interface ApiKeyCredential extends ApiKey {
  tenantKind: TenantKind;
  secretSha256: Buffer;
}

const COLUMNS = `k.id, k.tenant_id AS "tenantId", k.role, k.name, k.prefix, k.created_at AS "createdAt",
  k.revoked_at AS "revokedAt", k.last_used_at AS "lastUsedAt"`;

export const apiKeyQueries = {
  insert: `INSERT INTO api_keys AS k (tenant_id, role, name, prefix, secret_sha256) VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`,
  credential: `SELECT ${COLUMNS}, t.kind AS "tenantKind", k.secret_sha256 AS "secretSha256"
    FROM api_keys k JOIN tenants t ON t.id = k.tenant_id WHERE k.prefix = $1`,
  byId: `SELECT ${COLUMNS} FROM api_keys k WHERE k.id = $1`,
  byTenant: `SELECT ${COLUMNS} FROM api_keys k WHERE k.tenant_id = $1 ORDER BY k.created_at, k.id`,
  revoke: `UPDATE api_keys k SET revoked_at = coalesce(revoked_at, now()) WHERE k.id = $1 RETURNING ${COLUMNS}`,
  // At most one write a minute per key: the column is for audits, not accounting.
  touch: `UPDATE api_keys SET last_used_at = now()
    WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`,
  countForTenant: `SELECT count(*)::int AS n FROM api_keys WHERE tenant_id = $1`,
} as const;

export async function insertApiKey(
  db: Queryable,
  key: { tenantId: string; role: Role; name: string; prefix: string; secretSha256: Buffer },
): Promise<ApiKey> {
  return (await db.query<ApiKey>(apiKeyQueries.insert, [key.tenantId, key.role, key.name, key.prefix, key.secretSha256])).rows[0]!;
}

export async function getCredential(db: Queryable, prefix: string): Promise<ApiKeyCredential | null> {
  return (await db.query<ApiKeyCredential>(apiKeyQueries.credential, [prefix])).rows[0] ?? null;
}

export async function getApiKey(db: Queryable, id: string): Promise<ApiKey | null> {
  return (await db.query<ApiKey>(apiKeyQueries.byId, [id])).rows[0] ?? null;
}

export async function listApiKeys(db: Queryable, tenantId: string): Promise<ApiKey[]> {
  return (await db.query<ApiKey>(apiKeyQueries.byTenant, [tenantId])).rows;
}

export async function revokeApiKey(db: Queryable, id: string): Promise<ApiKey | null> {
  return (await db.query<ApiKey>(apiKeyQueries.revoke, [id])).rows[0] ?? null;
}

export async function touchApiKey(db: Queryable, id: string): Promise<void> {
  await db.query(apiKeyQueries.touch, [id]);
}

export async function countApiKeys(db: Queryable, tenantId: string): Promise<number> {
  return (await db.query<{ n: number }>(apiKeyQueries.countForTenant, [tenantId])).rows[0]!.n;
}
