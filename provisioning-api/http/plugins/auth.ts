/**
 * Authentication and authorization. Every route declares `config.roles` (or
 * `config.public: true`); a route without either fails at startup. On each request, before
 * the body is read: the Bearer token is looked up by its prefix and its hash compared
 * (401 if missing, unknown or revoked), then the key's role is checked against the route's
 * (403), and `config.operatorOnly` routes refuse customers' keys (403). Tenant checks are the handlers' (a customer gets 404 for another tenant's resource).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Pool } from '../../db/pool.js';
import { getCredential, touchApiKey } from '../../db/repositories/api-keys.js';
import { ApiError } from '../../domain/errors.js';
import type { Principal, Role } from '../../domain/roles.js';
import { hashesEqual, parseApiKey } from '../../secrets/api-keys.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Roles admitted to the route. */
    roles?: readonly Role[];
    /** No API key needed (health, docs). */
    public?: boolean;
    /** Only the operator's keys (the `auditor` role exists on both sides). */
    operatorOnly?: boolean;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
}

/** The caller of an authenticated route (set by the auth hook). */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new ApiError('UNAUTHENTICATED');
  return request.principal;
}

async function authenticate(pool: Pool, header: string | undefined): Promise<Principal> {
  const m = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m) throw new ApiError('UNAUTHENTICATED', 'send an API key as Authorization: Bearer <token>');
  const parsed = parseApiKey(m[1]!);
  const credential = parsed && (await getCredential(pool, parsed.prefix));
  if (!parsed || !credential || !hashesEqual(credential.secretSha256, parsed.sha256)) {
    throw new ApiError('UNAUTHENTICATED', 'the API key is not valid');
  }
  if (credential.revokedAt !== null) throw new ApiError('UNAUTHENTICATED', 'the API key was revoked');
  void touchApiKey(pool, credential.id).catch(() => undefined);
  return { keyId: credential.id, tenantId: credential.tenantId, tenantKind: credential.tenantKind, role: credential.role };
}

async function auth(app: FastifyInstance, options: { pool: Pool }): Promise<void> {
  app.decorateRequest('principal', null);
  app.addHook('onRoute', (route) => {
    const config = route.config as { roles?: readonly Role[]; public?: boolean } | undefined;
    if (route.url.startsWith('/docs')) return;
    if (!config?.public && !(config?.roles && config.roles.length > 0)) {
      throw new Error(`route ${route.method} ${route.url} declares neither roles nor public`);
    }
  });
  app.addHook('onRequest', async (request) => {
    const config = request.routeOptions.config;
    if (config.public || request.routeOptions.url === undefined || request.routeOptions.url.startsWith('/docs')) return;
    const principal = await authenticate(options.pool, request.headers.authorization);
    request.principal = principal;
    if (!config.roles?.includes(principal.role)) {
      throw new ApiError('FORBIDDEN', `the role ${principal.role} may not ${request.method} ${request.routeOptions.url}`, {
        role: principal.role, allowedRoles: config.roles ?? [],
      });
    }
    if (config.operatorOnly && principal.tenantKind !== 'operator') {
      throw new ApiError('FORBIDDEN', `only the operator's keys may ${request.method} ${request.routeOptions.url}`, { role: principal.role });
    }
  });
}

export const authPlugin = fp(auth, { name: 'simchain-auth' });
