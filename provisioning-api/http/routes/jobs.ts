/** GET /v1/jobs/{jobId}: where an asynchronous request stands. */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { getJob } from '../../db/repositories/jobs.js';
import { ApiError } from '../../domain/errors.js';
import { ANY_ROLE, canAccessTenant } from '../../domain/roles.js';
import type { Services } from '../../services/context.js';
import { principalOf } from '../plugins/auth.js';
import { presentJob } from '../present.js';
import { errorResponses, Uuid } from '../schemas/common.js';

export const jobRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  app.get('/v1/jobs/:jobId', {
    config: { roles: ANY_ROLE },
    schema: {
      tags: ['jobs'],
      summary: 'A job',
      description: 'Roles: all; a customer sees only its own tenant\'s jobs.',
      params: Type.Object({ jobId: Uuid }),
      response: { 200: Type.Ref('Job'), ...errorResponses(404) },
    },
  }, async (request) => {
    const job = await getJob(services.pool, request.params.jobId);
    if (!job || !canAccessTenant(principalOf(request), job.tenantId)) throw new ApiError('JOB_NOT_FOUND', `no job ${request.params.jobId}`);
    return presentJob(job);
  });
};
