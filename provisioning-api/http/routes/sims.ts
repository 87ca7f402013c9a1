/** The inventory: listing, one SIM, lifecycle actions (202 + job), allocation to tenants. */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { getSim, listSims } from '../../db/repositories/sims.js';
import { ApiError } from '../../domain/errors.js';
import { ANY_ROLE, canAccessTenant, OPERATOR_STAFF, SIM_OPERATORS, type Role } from '../../domain/roles.js';
import type { RequestableAction } from '../../domain/sim-lifecycle.js';
import { requestAllocation } from '../../services/allocations.js';
import type { Services } from '../../services/context.js';
import { requestSimAction } from '../../services/sim-actions.js';
import { principalOf } from '../plugins/auth.js';
import { decodeCursor, encodeCursor, presentJob, presentSim } from '../present.js';
import { Cursor, errorResponses, Iccid, Limit, Uuid } from '../schemas/common.js';
import { page, SimState } from '../schemas/resources.js';

const ACTIONS: { action: RequestableAction; roles: readonly Role[]; summary: string }[] = [
  { action: 'suspend', roles: SIM_OPERATORS, summary: 'Suspend a SIM: the card is locked and its on-chain identity suspended' },
  { action: 'resume', roles: SIM_OPERATORS, summary: 'Resume a suspended SIM' },
  { action: 'terminate', roles: OPERATOR_STAFF, summary: 'Terminate a SIM for good: its identity is revoked' },
];

export const simRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const { pool } = services;

  app.get('/v1/sims', {
    config: { roles: ANY_ROLE },
    schema: {
      tags: ['sims'],
      summary: 'List SIMs, by ICCID, with filters and cursor pagination',
      description: 'Roles: all; a customer sees only its own SIMs.',
      querystring: Type.Object({
        state: Type.Optional(SimState),
        tenantId: Type.Optional(Uuid),
        importId: Type.Optional(Uuid),
        limit: Limit,
        cursor: Type.Optional(Cursor),
      }),
      response: { 200: page(Type.Ref('Sim')), ...errorResponses(404) },
    },
  }, async (request) => {
    const principal = principalOf(request);
    const q = request.query;
    let tenantId = q.tenantId;
    if (principal.tenantKind !== 'operator') {
      if (tenantId !== undefined && tenantId !== principal.tenantId) throw new ApiError('TENANT_NOT_FOUND', `no tenant ${tenantId}`);
      tenantId = principal.tenantId;
    }
    const after = decodeCursor(q.cursor, 1)?.[0];
    const rows = await listSims(pool, {
      limit: q.limit + 1,
      ...(tenantId === undefined ? {} : { tenantId }),
      ...(q.state === undefined ? {} : { state: q.state }),
      ...(q.importId === undefined ? {} : { importId: q.importId }),
      ...(after === undefined ? {} : { after }),
    });
    const items = rows.slice(0, q.limit);
    return { items: items.map(presentSim), nextCursor: rows.length > items.length ? encodeCursor([items.at(-1)!.iccid]) : null };
  });

  app.get('/v1/sims/:iccid', {
    config: { roles: ANY_ROLE },
    schema: {
      tags: ['sims'],
      summary: 'A SIM (its OTA keys are never returned)',
      description: 'Roles: all; a customer sees only its own SIMs.',
      params: Type.Object({ iccid: Iccid }),
      response: { 200: Type.Ref('Sim'), ...errorResponses(404) },
    },
  }, async (request) => {
    const sim = await getSim(pool, request.params.iccid);
    if (!sim || !canAccessTenant(principalOf(request), sim.tenantId)) throw new ApiError('SIM_NOT_FOUND', `no SIM ${request.params.iccid}`);
    return presentSim(sim);
  });

  for (const { action, roles, summary } of ACTIONS) {
    app.post(`/v1/sims/:iccid/${action}`, {
      config: { roles },
      schema: {
        tags: ['sims'],
        summary,
        description: `Roles: ${roles.join(', ')}; a customer acts only on its own SIMs. Answers 202 with the job that carries it out; the SIM shows it as its pendingAction meanwhile. 409 with the current state when the lifecycle forbids it.`,
        params: Type.Object({ iccid: Iccid }),
        response: { 202: Type.Ref('Job'), ...errorResponses(404, 409) },
      },
    }, async (request, reply) => {
      const job = await requestSimAction(services, principalOf(request), request.params.iccid, action);
      return reply.code(202).header('location', `/v1/jobs/${job.id}`).send(presentJob(job));
    });
  }

  app.post('/v1/sim-allocations', {
    config: { roles: OPERATOR_STAFF, operatorOnly: true },
    schema: {
      tags: ['sims'],
      summary: 'Assign SIMs to a tenant (or back to the operator\'s pool): a bulk job',
      description:
        'Roles: operator-admin, carrier-ops. Select SIMs with exactly one of `iccids` (up to 10,000), `importId`, or an inclusive ICCID `range`. ' +
        'SIMs in the operator\'s pool move to the tenant; SIMs of another customer are reported as conflicts; terminated SIMs stay.',
      body: Type.Object({
        tenantId: Uuid,
        iccids: Type.Optional(Type.Array(Iccid, { minItems: 1, maxItems: 10_000 })),
        importId: Type.Optional(Uuid),
        range: Type.Optional(Type.Object({ from: Iccid, to: Iccid }, { additionalProperties: false })),
      }, { additionalProperties: false }),
      response: { 202: Type.Ref('Job'), ...errorResponses(404) },
    },
  }, async (request, reply) => {
    const b = request.body;
    const job = await requestAllocation(services, principalOf(request), {
      tenantId: b.tenantId,
      ...(b.iccids === undefined ? {} : { iccids: b.iccids }),
      ...(b.importId === undefined ? {} : { importId: b.importId }),
      ...(b.range === undefined ? {} : { range: b.range }),
    });
    return reply.code(202).header('location', `/v1/jobs/${job.id}`).send(presentJob(job));
  });
};
