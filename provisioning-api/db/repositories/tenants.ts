/** Tenants: the operator and its customers. */
import type { TenantKind } from '../../domain/roles.js';
import type { Queryable } from '../pool.js';

export interface Tenant {
  id: string;
  name: string;
  kind: TenantKind;
  createdAt: Date;
}

const COLUMNS = 'id, name, kind, created_at AS "createdAt"';

export const tenantQueries = {
  insert: `INSERT INTO tenants (name, kind) VALUES ($1, $2) RETURNING ${COLUMNS}`,
  byId: `SELECT ${COLUMNS} FROM tenants WHERE id = $1`,
  byName: `SELECT ${COLUMNS} FROM tenants WHERE name = $1`,
  operator: `SELECT ${COLUMNS} FROM tenants WHERE kind = 'operator'`,
  page: `SELECT ${COLUMNS} FROM tenants WHERE ($1::text IS NULL OR name > $1) ORDER BY name LIMIT $2`,
} as const;

export async function insertTenant(db: Queryable, name: string, kind: TenantKind): Promise<Tenant> {
  return (await db.query<Tenant>(tenantQueries.insert, [name, kind])).rows[0]!;
}

export async function getTenant(db: Queryable, id: string): Promise<Tenant | null> {
  return (await db.query<Tenant>(tenantQueries.byId, [id])).rows[0] ?? null;
}

export async function getTenantByName(db: Queryable, name: string): Promise<Tenant | null> {
  return (await db.query<Tenant>(tenantQueries.byName, [name])).rows[0] ?? null;
}

export async function getOperatorTenant(db: Queryable): Promise<Tenant | null> {
  return (await db.query<Tenant>(tenantQueries.operator)).rows[0] ?? null;
}

export async function listTenants(db: Queryable, after: string | null, limit: number): Promise<Tenant[]> {
  return (await db.query<Tenant>(tenantQueries.page, [after, limit])).rows;
}
