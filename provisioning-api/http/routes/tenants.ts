/** Tenants and their API keys (operator-admin manages them). */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { sqlState, UNIQUE_VIOLATION } from '../../db/pool.js';
import { getApiKey, listApiKeys, revokeApiKey } from '../../db/repositories/api-keys.js';
import { getTenant, insertTenant, listTenants } from '../../db/repositories/tenants.js';
import { ApiError } from '../../domain/errors.js';
import { ANY_ROLE, canAccessTenant, OPERATOR_READERS } from '../../domain/roles.js';
import { createApiKey } from '../../services/api-keys.js';
import type { Services } from '../../services/context.js';
import { principalOf } from '../plugins/auth.js';
import { decodeCursor, encodeCursor, presentApiKey, presentTenant } from '../present.js';
import { Cursor, errorResponses, Limit, Uuid } from '../schemas/common.js';
import { Role, page } from '../schemas/resources.js';

const TenantParams = Type.Object({ tenantId: Uuid });

export const tenantRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const { pool } = services;

  app.post('/v1/tenants', {
    config: { roles: ['operator-admin'] },
    schema: {
      tags: ['tenants'],
      summary: 'Create a customer tenant (a city, an agency)',
      description: 'Roles: operator-admin.',
      body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false }),
      response: { 201: Type.Ref('Tenant'), ...errorResponses(409) },
    },
  }, async (request, reply) => {
    try {
      const tenant = await insertTenant(pool, request.body.name, 'customer');
      return reply.code(201).send(presentTenant(tenant));
    } catch (e) {
      if (sqlState(e) === UNIQUE_VIOLATION) throw new ApiError('TENANT_EXISTS', `a tenant named ${request.body.name} exists`);
      throw e;
    }
  });

  app.get('/v1/tenants', {
    config: { roles: OPERATOR_READERS, operatorOnly: true },
    schema: {
      tags: ['tenants'],
      summary: 'List tenants',
      description: 'Roles: operator-admin, carrier-ops, auditor (operator).',
      querystring: Type.Object({ limit: Limit, cursor: Type.Optional(Cursor) }),
      response: { 200: page(Type.Ref('Tenant')), ...errorResponses() },
    },
  }, async (request) => {
    const after = decodeCursor(request.query.cursor, 1)?.[0] ?? null;
    const rows = await listTenants(pool, after, request.query.limit + 1);
    const items = rows.slice(0, request.query.limit);
    return { items: items.map(presentTenant), nextCursor: rows.length > items.length ? encodeCursor([items.at(-1)!.name]) : null };
  });

  app.get('/v1/tenants/:tenantId', {
    config: { roles: ANY_ROLE },
    schema: {
      tags: ['tenants'],
      summary: 'A tenant',
      description: 'Roles: all; a customer sees only its own tenant.',
      params: TenantParams,
      response: { 200: Type.Ref('Tenant'), ...errorResponses(404) },
    },
  }, async (request) => {
    const tenant = await getTenant(pool, request.params.tenantId);
    if (!tenant || !canAccessTenant(principalOf(request), tenant.id)) throw new ApiError('TENANT_NOT_FOUND', `no tenant ${request.params.tenantId}`);
    return presentTenant(tenant);
  });

  app.post('/v1/tenants/:tenantId/api-keys', {
    config: { roles: ['operator-admin'] },
    schema: {
      tags: ['api-keys'],
      summary: 'Create an API key for a tenant; its token is shown this once',
      description: 'Roles: operator-admin. Operator keys: operator-admin, carrier-ops, auditor; customer keys: municipal-it, emergency-services, auditor.',
      params: TenantParams,
      body: Type.Object({ role: Role, name: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false }),
      response: { 201: Type.Ref('CreatedApiKey'), ...errorResponses(404, 422) },
    },
  }, async (request, reply) => {
    const tenant = await getTenant(pool, request.params.tenantId);
    if (!tenant) throw new ApiError('TENANT_NOT_FOUND', `no tenant ${request.params.tenantId}`);
    const { key, token } = await createApiKey(pool, tenant, request.body.role, request.body.name);
    request.log.info({ keyId: key.id, tenantId: tenant.id, role: key.role }, 'api key created');
    return reply.code(201).send({ key: presentApiKey(key), token });
  });

  app.get('/v1/tenants/:tenantId/api-keys', {
    config: { roles: ['operator-admin', 'auditor'] },
    schema: {
      tags: ['api-keys'],
      summary: 'List a tenant\'s API keys (never their tokens)',
      description: 'Roles: operator-admin, auditor; a customer\'s auditor sees only its own tenant\'s keys.',
      params: TenantParams,
      response: { 200: Type.Object({ items: Type.Array(Type.Ref('ApiKey')) }), ...errorResponses(404) },
    },
  }, async (request) => {
    const tenant = await getTenant(pool, request.params.tenantId);
    if (!tenant || !canAccessTenant(principalOf(request), tenant.id)) throw new ApiError('TENANT_NOT_FOUND', `no tenant ${request.params.tenantId}`);
    return { items: (await listApiKeys(pool, tenant.id)).map(presentApiKey) };
  });

  app.post('/v1/api-keys/:keyId/revoke', {
    config: { roles: ['operator-admin'] },
    schema: {
      tags: ['api-keys'],
      summary: 'Revoke an API key (at once, for good)',
      description: 'Roles: operator-admin.',
      params: Type.Object({ keyId: Uuid }),
      response: { 200: Type.Ref('ApiKey'), ...errorResponses(404) },
    },
  }, async (request) => {
    if (!(await getApiKey(pool, request.params.keyId))) throw new ApiError('API_KEY_NOT_FOUND', `no API key ${request.params.keyId}`);
    const key = (await revokeApiKey(pool, request.params.keyId))!;
    request.log.info({ keyId: key.id }, 'api key revoked');
    return presentApiKey(key);
  });
};
