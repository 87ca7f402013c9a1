/**
 * The OpenAPI 3 document at /docs/json and its UI at /docs, generated from the route schemas.
 * Streamed-body routes declare `config.rawBody`, which becomes their requestBody here (their
 * body is a stream, so it has no schema for the validator).
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

declare module 'fastify' {
  interface FastifyContextConfig {
    rawBody?: { mediaTypes: string[]; description: string };
  }
}

async function docs(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'simchain provisioning API',
        version: '1.0.0',
        description:
          'IoT SIM inventory, lifecycle and jobs. Authenticate with `Authorization: Bearer <API key>`. ' +
          'Each operation lists the roles it admits; errors are RFC 9457 problem bodies with a stable `code`. ' +
          'State changes are asynchronous: they answer 202 with a job to poll at /v1/jobs/{jobId}.',
      },
      components: {
        securitySchemes: {
          apiKey: { type: 'http', scheme: 'bearer', description: 'An API key (sck_...), shown once when created' },
        },
      },
      security: [{ apiKey: [] }],
    },
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
    transform: ({ schema, url, route }) => {
      const raw = route.config?.rawBody;
      if (!raw) return { schema, url };
      return { schema: { ...schema, consumes: raw.mediaTypes, body: { type: 'string', format: 'binary', description: raw.description } }, url };
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
}

export const docsPlugin = fp(docs, { name: 'simchain-docs' });
