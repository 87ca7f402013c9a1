/**
 * Imports over real HTTP, where streaming is the point: the file is sent as a chunked
 * request body (no Content-Length), answered 202 with the import, loaded by the workers
 * (GET shows the progress and the end); the same file again answers 200 with the same
 * import; a bad file 422 with its lines; anything but a file 415.
 */
import { Readable } from 'node:stream';
import t from 'tap';
import { bearer, testApp, vendorFile } from '../helpers/app.js';

let h: Awaited<ReturnType<typeof testApp>>;
let base: string;
t.before(async () => {
  h = await testApp({ workers: true });
  base = await h.app.listen({ host: '127.0.0.1', port: 0 });
});

/** POST a body as a stream of small chunks. */
function upload(text: string, token: string | undefined, contentType = 'text/csv') {
  const chunks = Array.from({ length: Math.ceil(text.length / 8192) }, (_, i) => text.slice(i * 8192, (i + 1) * 8192));
  return fetch(`${base}/v1/sim-imports?fileName=batch.csv`, {
    method: 'POST',
    headers: { ...bearer(token), 'content-type': contentType },
    body: Readable.toWeb(Readable.from(chunks)) as ReadableStream,
    duplex: 'half',
  } as RequestInit);
}

t.test('202, progress, completion; the same file again is the same import', async (t) => {
  const file = vendorFile({ count: 20_000, networkSecrets: true, attestationSerial: true });
  const ops = h.operator.tokens['carrier-ops'];
  const res = await upload(file, ops);
  t.equal(res.status, 202);
  const staged = (await res.json()) as { id: string; state: string; rowCount: number; droppedColumns: string[]; fileName: string; jobId: string };
  t.equal(res.headers.get('location'), `/v1/sim-imports/${staged.id}`);
  t.match(staged, { rowCount: 20_000, droppedColumns: ['KI', 'OPC'], fileName: 'batch.csv' });
  t.ok(['staged', 'loading', 'completed'].includes(staged.state));
  let current = staged as { state: string; loadedCount?: number };
  const states = new Set<string>();
  const end = Date.now() + 60_000;
  while (current.state !== 'completed' && current.state !== 'rejected' && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 50));
    current = (await (await fetch(`${base}/v1/sim-imports/${staged.id}`, { headers: bearer(h.operator.tokens.auditor) })).json()) as typeof current;
    states.add(current.state);
  }
  t.equal(current.state, 'completed', `went through ${[...states].join(', ')}`);
  t.equal(current.loadedCount, 20_000);
  const job = await h.waitForJob(staged.jobId);
  t.match(job, { kind: 'sim-import.load', state: 'succeeded', result: { state: 'completed', loaded: 20_000 } });

  const again = await upload(file, ops);
  t.equal(again.status, 200);
  t.equal(((await again.json()) as { id: string }).id, staged.id);
  const count = (await h.db.pool.query(`SELECT count(*)::int AS n FROM sims`)).rows[0].n;
  t.equal(count, 20_000, 'no duplicates');
  const list = (await (await fetch(`${base}/v1/sim-imports`, { headers: bearer(ops) })).json()) as { items: { id: string }[] };
  t.same(list.items.map((i) => i.id), [staged.id]);
});

t.test('a bad file: 422 with the lines, nothing written', async (t) => {
  const lines = vendorFile({ count: 500, firstSerial: 50_000 }).split('\n');
  lines[250] = lines[250]!.replace(/,aes,/, ',aes-512,');
  const res = await upload(lines.join('\n'), h.operator.tokens['operator-admin']);
  t.equal(res.status, 422);
  t.equal(res.headers.get('content-type'), 'application/problem+json; charset=utf-8');
  const body = (await res.json()) as { code: string; problems: { line: number; code: string }[]; problemCount: number; rowCount: number };
  t.match(body, { code: 'IMPORT_REJECTED', problemCount: 1, rowCount: 500 });
  t.same(body.problems.map((p) => [p.line, p.code]), [[251, 'UNKNOWN_ALGORITHM']]);
  t.equal((await h.db.pool.query(`SELECT count(*)::int AS n FROM sim_imports`)).rows[0].n, 1, 'only the earlier import');
});

t.test('415 for a body that is not a file; 401 before the body is read', async (t) => {
  const json = await fetch(`${base}/v1/sim-imports`, {
    method: 'POST', headers: { ...bearer(h.operator.tokens['operator-admin']), 'content-type': 'application/json' }, body: '{"rows":[]}',
  });
  t.equal(json.status, 415);
  t.equal(((await json.json()) as { code: string }).code, 'UNSUPPORTED_MEDIA_TYPE');
  const xml = await fetch(`${base}/v1/sim-imports`, { method: 'POST', headers: { ...bearer(h.operator.tokens['operator-admin']), 'content-type': 'application/xml' }, body: '<a/>' });
  t.equal(xml.status, 415);
  const noKey = await fetch(`${base}/v1/sim-imports`, { method: 'POST', headers: { 'content-type': 'text/csv' }, body: vendorFile({ count: 5, firstSerial: 60_000 }) });
  t.equal(noKey.status, 401);
});
