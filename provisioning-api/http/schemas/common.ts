/**
 * Shared schemas. Written once: fastify validates requests and serializes responses with
 * them (a response carries only the properties named here, so a secret added to a record by
 * mistake is still never sent), TypeBox gives the handlers their types, and @fastify/swagger
 * publishes them as the OpenAPI document.
 */
import { Type, type Static } from '@fastify/type-provider-typebox';
import { API_ERRORS, type ApiErrorCode } from '../../domain/errors.js';

export const Uuid = Type.String({ format: 'uuid' });
export const Timestamp = Type.String({ format: 'date-time' });
export const NullableTimestamp = Type.Union([Timestamp, Type.Null()]);
/** E.118: 89, then 17 or 18 digits (the last a Luhn check digit). */
export const Iccid = Type.String({ pattern: '^89[0-9]{17,18}$', description: 'ICCID (ITU-T E.118), 19 or 20 digits' });

export const Limit = Type.Integer({ minimum: 1, maximum: 1000, default: 100, description: 'Page size' });
export const Cursor = Type.String({ maxLength: 200, description: 'Opaque cursor from the previous page\'s nextCursor' });

/** RFC 9457 problem details, with the stable `code` of the API error registry. */
export const Problem = Type.Object(
  {
    type: Type.String({ description: 'urn:simchain:problem:<code>' }),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.Optional(Type.String()),
    instance: Type.Optional(Type.String()),
    code: Type.Enum(Object.keys(API_ERRORS) as ApiErrorCode[], { description: 'Stable error code' }),
  },
  { additionalProperties: true, $id: 'Problem', title: 'Problem' },
);
export type ProblemBody = Static<typeof Problem>;

export const ProblemRef = Type.Ref('Problem');

/** The error responses every authenticated route may give. */
export function errorResponses(...statuses: number[]): Record<number, typeof ProblemRef> {
  const out: Record<number, typeof ProblemRef> = {};
  for (const s of [400, 401, 403, 429, ...statuses]) out[s] = ProblemRef;
  return out;
}
