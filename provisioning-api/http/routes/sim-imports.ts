/**
 * Inventory imports. POST streams the request body (the vendor file) straight through the
 * importer: it is never held whole in memory. A file with a bad row is refused with 422 and
 * every problem's line; a good one is staged and answered 202 with the import, whose load
 * job then moves it into the inventory (GET shows the progress). The same file again
 * answers 200 with the first import.
 */
import type { Readable } from 'node:stream';
import { Type, type FastifyPluginAsyncTypebox, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { getSimImport, listSimImports } from '../../db/repositories/sim-imports.js';
import { ApiError } from '../../domain/errors.js';
import { canAccessTenant, OPERATOR_READERS, OPERATOR_STAFF } from '../../domain/roles.js';
import { receiveImport } from '../../import/receive.js';
import type { Services } from '../../services/context.js';
import { principalOf } from '../plugins/auth.js';
import { decodeCursor, encodeCursor, presentImport } from '../present.js';
import { Cursor, errorResponses, Limit, Uuid } from '../schemas/common.js';
import { page } from '../schemas/resources.js';

const MEDIA_TYPES = ['text/csv', 'text/plain', 'application/octet-stream'];

export const simImportRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const { pool } = services;

  app.register(async (plain) => {
    const scope = plain.withTypeProvider<TypeBoxTypeProvider>();
    // In this scope only: the body stays a stream for the importer.
    scope.removeContentTypeParser(['text/plain']);
    scope.addContentTypeParser(MEDIA_TYPES, (_request, payload, done) => done(null, payload));

    scope.post('/v1/sim-imports', {
      config: {
        roles: OPERATOR_STAFF,
        operatorOnly: true,
        rawBody: { mediaTypes: MEDIA_TYPES, description: 'The vendor file: CSV with a header row, or the out-file form (see the README)' },
      },
      schema: {
        tags: ['sim-imports'],
        summary: 'Import a vendor inventory file (streamed)',
        description:
          'Roles: operator-admin, carrier-ops. 202 with the staged import (its load job completes it); ' +
          '200 with the existing import when this exact file was imported before; 422 IMPORT_REJECTED with line numbers ' +
          'when any row is bad (nothing is written). Network secrets (KI, OPC) are dropped unread; OTA keys are encrypted before they reach the database.',
        querystring: Type.Object({ fileName: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })) }),
        response: { 200: Type.Ref('SimImport'), 202: Type.Ref('SimImport'), ...errorResponses(415, 422) },
      },
    }, async (request, reply) => {
      const body = request.body as Readable | undefined;
      if (!body || typeof (body as Partial<Readable>)[Symbol.asyncIterator] !== 'function') {
        throw new ApiError('UNSUPPORTED_MEDIA_TYPE', `send the file as ${MEDIA_TYPES.join(', ')}`);
      }
      const principal = principalOf(request);
      const outcome = await receiveImport({
        pool,
        keyring: services.keyring,
        tenantId: principal.tenantId,
        createdBy: principal.keyId,
        fileName: request.query.fileName ?? null,
        source: body,
        enqueueLoad: (client, jobId) => services.queue.enqueue(client, 'sim-import.load', jobId),
      });
      if (outcome.outcome === 'rejected') {
        throw new ApiError('IMPORT_REJECTED', `${outcome.problemCount} problem(s) in the file`, {
          rowCount: outcome.rowCount, problemCount: outcome.problemCount, problems: outcome.problems,
        });
      }
      if (outcome.outcome === 'staged') services.queue.nudge('sim-import.load');
      const imported = (await getSimImport(pool, outcome.importId))!;
      request.log.info({ importId: imported.id, rows: imported.rowCount, outcome: outcome.outcome }, 'inventory file received');
      return reply
        .code(outcome.outcome === 'staged' ? 202 : 200)
        .header('location', `/v1/sim-imports/${imported.id}`)
        .send(presentImport(imported));
    });
  });

  app.get('/v1/sim-imports', {
    config: { roles: OPERATOR_READERS, operatorOnly: true },
    schema: {
      tags: ['sim-imports'],
      summary: 'List imports, newest first',
      description: 'Roles: operator-admin, carrier-ops, auditor (operator).',
      querystring: Type.Object({ limit: Limit, cursor: Type.Optional(Cursor) }),
      response: { 200: page(Type.Ref('SimImport')), ...errorResponses() },
    },
  }, async (request) => {
    const cursor = decodeCursor(request.query.cursor, 2);
    const before = cursor ? { createdAt: new Date(cursor[0]!), id: cursor[1]! } : undefined;
    if (before && Number.isNaN(before.createdAt.getTime())) throw new ApiError('INVALID_CURSOR');
    const rows = await listSimImports(pool, {
      limit: request.query.limit + 1,
      ...(before ? { before } : {}),
    });
    const items = rows.slice(0, request.query.limit);
    const last = items.at(-1);
    return { items: items.map(presentImport), nextCursor: rows.length > items.length && last ? encodeCursor([last.createdAt.toISOString(), last.id]) : null };
  });

  app.get('/v1/sim-imports/:importId', {
    config: { roles: OPERATOR_READERS, operatorOnly: true },
    schema: {
      tags: ['sim-imports'],
      summary: 'An import and its progress',
      description: 'Roles: operator-admin, carrier-ops, auditor (operator).',
      params: Type.Object({ importId: Uuid }),
      response: { 200: Type.Ref('SimImport'), ...errorResponses(404) },
    },
  }, async (request) => {
    const imported = await getSimImport(pool, request.params.importId);
    if (!imported || !canAccessTenant(principalOf(request), imported.tenantId)) {
      throw new ApiError('IMPORT_NOT_FOUND', `no import ${request.params.importId}`);
    }
    return presentImport(imported);
  });
};
