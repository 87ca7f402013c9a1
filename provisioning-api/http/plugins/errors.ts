/**
 * Every error leaves as an RFC 9457 problem body (`application/problem+json`) with the
 * stable code of the API error registry: ApiErrors as they are, request validation as
 * VALIDATION_FAILED with the failing paths, anything unexpected as INTERNAL (logged, with
 * no detail to the caller).
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { API_ERRORS, ApiError, type ApiErrorCode } from '../../domain/errors.js';

export function problemBody(e: ApiError, instance?: string): Record<string, unknown> {
  return {
    ...e.extensions,
    type: `urn:simchain:problem:${e.code}`,
    title: e.title,
    status: e.status,
    ...(e.detail === undefined ? {} : { detail: e.detail }),
    ...(instance === undefined ? {} : { instance }),
    code: e.code,
  };
}

export function sendProblem(reply: FastifyReply, e: ApiError, request?: FastifyRequest): FastifyReply {
  return reply.code(e.status).type('application/problem+json').send(problemBody(e, request?.url));
}

/** Fastify's own error codes that are the caller's fault, and ours they map to. */
const FASTIFY_CODES: Record<string, ApiErrorCode> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'VALIDATION_FAILED',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'VALIDATION_FAILED',
  FST_ERR_CTP_INVALID_JSON_BODY: 'VALIDATION_FAILED',
};

function toApiError(error: FastifyError): ApiError | null {
  if (error instanceof ApiError) return error;
  if (error.validation) {
    return new ApiError('VALIDATION_FAILED', error.message, {
      errors: error.validation.map((v) => ({ path: `${error.validationContext ?? ''}${v.instancePath}`, message: v.message ?? '' })),
    });
  }
  const mapped = error.code ? FASTIFY_CODES[error.code] : undefined;
  if (mapped) return new ApiError(mapped, error.message);
  if (error.statusCode === 429) return new ApiError('RATE_LIMITED', error.message);
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
    const code = (Object.keys(API_ERRORS) as ApiErrorCode[]).find((c) => API_ERRORS[c].status === error.statusCode) ?? 'VALIDATION_FAILED';
    return new ApiError(code, error.message);
  }
  return null;
}

async function errors(app: FastifyInstance): Promise<void> {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const api = toApiError(error);
    if (api) return sendProblem(reply, api, request);
    request.log.error({ err: error }, 'unhandled error');
    return sendProblem(reply, new ApiError('INTERNAL'), request);
  });
  app.setNotFoundHandler((request, reply) => sendProblem(reply, new ApiError('ROUTE_NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`), request));
}

export const errorsPlugin = fp(errors, { name: 'simchain-errors' });
