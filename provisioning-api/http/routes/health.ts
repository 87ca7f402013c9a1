/** GET /healthz: 200 once the API and every part it depends on are ready, else 503. */
import { Type } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Pool } from '../../db/pool.js';
import { ApiError } from '../../domain/errors.js';
import { ProblemRef } from '../schemas/common.js';

/** One part's readiness: resolves to null when ready, or what is wrong. */
export interface HealthCheck {
  name: string;
  check(): Promise<string | null>;
}

export const healthRoutes: FastifyPluginAsyncTypebox<{ pool: Pool; checks: HealthCheck[] }> = async (app, { pool, checks }) => {
  const database: HealthCheck = {
    name: 'database',
    check: async () => {
      await pool.query('SELECT 1');
      return null;
    },
  };
  app.get('/healthz', {
    config: { public: true },
    schema: {
      tags: ['health'],
      summary: 'Readiness of the API and its components',
      security: [],
      response: {
        200: Type.Object({ status: Type.Literal('ok'), components: Type.Record(Type.String(), Type.String()) }),
        503: ProblemRef,
      },
    },
  }, async () => {
    const components: Record<string, string> = {};
    let ready = true;
    for (const c of [database, ...checks]) {
      const problem = await c.check().catch((e: unknown) => (e instanceof Error ? e.message : String(e)));
      components[c.name] = problem ?? 'ok';
      if (problem !== null) ready = false;
    }
    if (!ready) throw new ApiError('NOT_READY', 'a component is not ready', { components });
    return { status: 'ok' as const, components };
  });
};
