/**
 * The OpenAPI document at /docs/json is valid OpenAPI 3.0 in every point a client
 * generator relies on: version and info, unique operationIds or none, every $ref resolves,
 * every path template parameter is declared in the path, every operation has responses
 * with 3-digit codes, security schemes exist, error responses are problem bodies.
 */
import t from 'tap';
import { testApp } from '../helpers/app.js';

type Json = Record<string, unknown>;

t.test('the OpenAPI document', async (t) => {
  const h = await testApp();
  const res = await h.app.inject({ method: 'GET', url: '/docs/json' });
  t.equal(res.statusCode, 200);
  const doc = res.json() as Json & { paths: Record<string, Record<string, Json>>; components: { schemas: Record<string, Json>; securitySchemes: Json } };
  t.match(doc.openapi, /^3\.0\.\d$/);
  t.match(doc.info, { title: String, version: String });
  t.ok(doc.components.securitySchemes.apiKey, 'bearer scheme');

  const refs: string[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k === '$ref' && typeof x === 'string') refs.push(x);
        else walk(x);
      }
    }
  };
  walk(doc);
  t.ok(refs.length > 10);
  for (const ref of new Set(refs)) {
    t.match(ref, /^#\/components\/schemas\/[A-Za-z0-9_.-]+$/, `local ref ${ref}`);
    t.ok(doc.components.schemas[ref.split('/').at(-1)!], `${ref} resolves`);
  }

  const operationIds = new Set<string>();
  for (const [path, ops] of Object.entries(doc.paths)) {
    const templated = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
    for (const [method, op] of Object.entries(ops)) {
      t.ok(['get', 'post', 'put', 'patch', 'delete'].includes(method), `${method} ${path}`);
      const params = (op.parameters as { in: string; name: string; required?: boolean }[] | undefined) ?? [];
      for (const name of templated) t.ok(params.some((p) => p.in === 'path' && p.name === name && p.required === true), `${method} ${path} declares {${name}}`);
      for (const p of params) t.ok(['path', 'query', 'header', 'cookie'].includes(p.in));
      const responses = op.responses as Record<string, Json>;
      t.ok(Object.keys(responses).length > 0, `${method} ${path} has responses`);
      for (const code of Object.keys(responses)) t.match(code, /^[1-5]\d\d$/);
      if (typeof op.operationId === 'string') {
        t.notOk(operationIds.has(op.operationId));
        operationIds.add(op.operationId);
      }
      if (path.startsWith('/v1/')) {
        t.ok(responses['401'] && responses['403'], `${method} ${path} documents 401 and 403`);
        t.match(String(op.description), /^Roles: /, `${method} ${path} names its roles`);
        const problem = (responses['403']!.content as Record<string, { schema: Json }>)['application/json']!.schema;
        t.equal(problem.$ref, '#/components/schemas/Problem');
      }
    }
  }
  const upload = doc.paths['/v1/sim-imports']!.post!;
  t.ok((upload.requestBody as { content: Record<string, unknown> }).content['text/csv'], 'the streamed upload documents its media types');
  t.notOk(JSON.stringify(doc).includes('"keysets"'), 'no key material in any schema');

  const ui = await h.app.inject({ method: 'GET', url: '/docs/' });
  t.equal(ui.statusCode, 200);
  t.match(ui.headers['content-type'], /html/);
});
