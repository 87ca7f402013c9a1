/**
 * API keys and the bootstrap of a fresh install: the operator tenant and its first
 * operator-admin key, created once (under an advisory lock, so concurrent starts agree).
 */
import { withTransaction, type Pool, type Queryable } from '../db/pool.js';
import { countApiKeys, insertApiKey, type ApiKey } from '../db/repositories/api-keys.js';
import { getOperatorTenant, insertTenant, type Tenant } from '../db/repositories/tenants.js';
import { ApiError } from '../domain/errors.js';
import { roleFitsTenant, type Role } from '../domain/roles.js';
import { generateApiKey } from '../secrets/api-keys.js';

export async function createApiKey(db: Queryable, tenant: Tenant, role: Role, name: string): Promise<{ key: ApiKey; token: string }> {
  if (!roleFitsTenant(role, tenant.kind)) {
    throw new ApiError('ROLE_NOT_ALLOWED_FOR_TENANT', `a ${tenant.kind} tenant's key cannot have the role ${role}`, { role, tenantKind: tenant.kind });
  }
  const fresh = generateApiKey();
  const key = await insertApiKey(db, { tenantId: tenant.id, role, name, prefix: fresh.prefix, secretSha256: fresh.sha256 });
  return { key, token: fresh.token };
}

/** Arbitrary constant naming the bootstrap's advisory lock. */
const BOOTSTRAP_LOCK = 0x51_4d_43_48;

export interface Bootstrap {
  operator: Tenant;
  /** The first admin key's token, when this call created it: show it once. */
  adminToken: string | null;
}

export async function bootstrap(pool: Pool, operatorName: string): Promise<Bootstrap> {
  return withTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [BOOTSTRAP_LOCK]);
    const operator = (await getOperatorTenant(client)) ?? (await insertTenant(client, operatorName, 'operator'));
    if ((await countApiKeys(client, operator.id)) > 0) return { operator, adminToken: null };
    const { token } = await createApiKey(client, operator, 'operator-admin', 'bootstrap admin');
    return { operator, adminToken: token };
  });
}
