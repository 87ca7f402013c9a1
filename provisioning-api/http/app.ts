/**
 * The HTTP API: fastify 5 with TypeBox schemas as the single source of validation, types
 * and OpenAPI; API-key auth with per-route roles; RFC 9457 errors; rate limits; pino logs
 * with secrets redacted.
 */
import rateLimit from '@fastify/rate-limit';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { ApiError } from '../domain/errors.js';
import type { Services } from '../services/context.js';
import { authPlugin } from './plugins/auth.js';
import { docsPlugin } from './plugins/docs.js';
import { errorsPlugin } from './plugins/errors.js';
import { healthRoutes, type HealthCheck } from './routes/health.js';
import { jobRoutes } from './routes/jobs.js';
import { simImportRoutes } from './routes/sim-imports.js';
import { simRoutes } from './routes/sims.js';
import { otaCommandRoutes } from './routes/ota-commands.js';
import { otaKeysetRoutes } from './routes/ota-keysets.js';
import { tenantRoutes } from './routes/tenants.js';
import { vendorCaRoutes } from './routes/vendor-ca.js';
import { provisioningRoutes } from './routes/provisioning.js';
import { Problem } from './schemas/common.js';
import { SHARED_SCHEMAS } from './schemas/resources.js';

export interface AppOptions {
  services: Services;
  /** A pino logger (see logging.ts: secrets redacted); none by default. */
  logger?: FastifyBaseLogger;
  rateLimitPerMinute?: number;
  /** Readiness of the parts the API depends on; the database is always checked. */
  health?: HealthCheck[];
}

export type App = FastifyInstance;

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    // Imports can take a while to upload; everything else is small.
    requestTimeout: 0,
    bodyLimit: 1 << 20,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.addSchema(Problem);
  for (const schema of SHARED_SCHEMAS) app.addSchema(schema);
  await app.register(errorsPlugin);
  await app.register(docsPlugin);
  await app.register(rateLimit, {
    global: true,
    max: options.rateLimitPerMinute ?? 600,
    timeWindow: '1 minute',
    // Per API key (its public prefix) when one is sent, else per address.
    keyGenerator: (request) => /^Bearer\s+sck_([0-9a-f]{12})_/i.exec(request.headers.authorization ?? '')?.[1] ?? request.ip,
    errorResponseBuilder: (_request, context) => new ApiError('RATE_LIMITED', `more than ${context.max} requests in ${context.after}`),
  });
  await app.register(authPlugin, { pool: options.services.pool });
  await app.register(healthRoutes, { pool: options.services.pool, checks: options.health ?? [] });
  await app.register(tenantRoutes, { services: options.services });
  await app.register(simImportRoutes, { services: options.services });
  await app.register(vendorCaRoutes, { services: options.services });
  await app.register(simRoutes, { services: options.services });
  await app.register(otaCommandRoutes, { services: options.services });
  await app.register(otaKeysetRoutes, { services: options.services });
  await app.register(jobRoutes, { services: options.services });
  await app.register(provisioningRoutes, { services: options.services });
  return app;
}
