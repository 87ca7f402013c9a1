/**
 * GET /v1/sims/{iccid}/ota-commands: each OTA command sent to a SIM with its SMS parts, their
 * delivery receipts and the PoR (TS 102 225 status code and name, CC check, the last status
 * word): Twilio's SmsCommand resource, extended with what OTA adds. Keys, packet bytes and
 * response data are never returned.
 */
import { Type, type FastifyPluginAsyncTypebox, type Static } from '@fastify/type-provider-typebox';
import { decodeCompactResponse, porStatusName } from '../../../sim-applet/index.js';
import { otaCommandsForSim, submissionsOf, type OtaCommandRow } from '../../db/repositories/ota-commands.js';
import type { OtaSubmission } from '../../db/repositories/ota-messages.js';
import { getSim } from '../../db/repositories/sims.js';
import { ApiError } from '../../domain/errors.js';
import { ANY_ROLE, canAccessTenant } from '../../domain/roles.js';
import type { Services } from '../../services/context.js';
import { principalOf } from '../plugins/auth.js';
import { decodeCursor, encodeCursor } from '../present.js';
import { Cursor, errorResponses, Iccid, Limit } from '../schemas/common.js';
import { page, type OtaCommand } from '../schemas/resources.js';

export const otaCommandRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const { pool } = services;

  app.get('/v1/sims/:iccid/ota-commands', {
    config: { roles: ANY_ROLE },
    schema: {
      tags: ['sims'],
      summary: 'The OTA commands sent to a SIM, newest first: SMS parts, delivery receipts, PoR status',
      description: 'Roles: all; a customer sees only its own SIMs\' commands. Cursor pagination.',
      params: Type.Object({ iccid: Iccid }),
      querystring: Type.Object({ limit: Limit, cursor: Type.Optional(Cursor) }),
      response: { 200: page(Type.Ref('OtaCommand')), ...errorResponses(404) },
    },
  }, async (request) => {
    const { iccid } = request.params;
    const sim = await getSim(pool, iccid);
    if (!sim || !canAccessTenant(principalOf(request), sim.tenantId)) throw new ApiError('SIM_NOT_FOUND', `no SIM ${iccid}`);
    const before = decodeCursor(request.query.cursor, 1)?.[0];
    if (before !== undefined && !/^[0-9]{1,19}$/.test(before)) throw new ApiError('INVALID_CURSOR', 'the cursor is not one this API issued');
    const limit = request.query.limit;
    const rows = await otaCommandsForSim(pool, iccid, { limit: limit + 1, ...(before === undefined ? {} : { before }) });
    const items = rows.slice(0, limit);
    const parts = await submissionsOf(pool, items.map((r) => r.id));
    return {
      items: items.map((r) => presentOtaCommand(r, parts.get(r.id) ?? [])),
      nextCursor: rows.length > items.length ? encodeCursor([items.at(-1)!.id]) : null,
    };
  });
};

export function presentOtaCommand(m: OtaCommandRow, parts: readonly OtaSubmission[]): Static<typeof OtaCommand> {
  return {
    id: m.id, iccid: m.iccid, msisdn: m.msisdn, tar: m.tar, state: m.state, keysetIndex: m.keysetIndex, counter: m.cntr, spi: m.spi,
    partCount: m.partCount, deliveredParts: m.deliveredParts, attempts: m.attempts,
    parts: parts.map((p) => ({
      part: p.part, attempt: p.attempt, smppMessageId: p.smppMessageId, submittedAt: p.submittedAt.toISOString(),
      receipt: p.receiptStat === null ? null : { stat: p.receiptStat, err: p.receiptErr, at: (p.receiptAt ?? p.submittedAt).toISOString() },
    })),
    por: m.porStatus === null ? null : presentPor(m),
    lastError: m.lastError, jobId: m.jobId,
    queuedAt: m.queuedAt.toISOString(), submittedAt: m.submittedAt?.toISOString() ?? null, deliveredAt: m.deliveredAt?.toISOString() ?? null,
    porAt: m.porAt?.toISOString() ?? null, finishedAt: m.finishedAt?.toISOString() ?? null, expiresAt: m.expiresAt.toISOString(),
  };
}

function presentPor(m: OtaCommandRow): NonNullable<Static<typeof OtaCommand>['por']> {
  const status = m.porStatus!;
  // TS 102 226 §5.1.2 compact response: executed(1) SW(2) data; present only on a verified PoR.
  const response = m.porData && m.porData.length >= 3 ? decodeCompactResponse(m.porData) : null;
  return {
    status, statusName: porStatusName(status), ccValid: m.porCcValid,
    executed: response?.executed ?? null,
    sw: response ? response.sw.toString(16).padStart(4, '0') : null,
    dataLength: response?.data.length ?? 0,
  };
}
