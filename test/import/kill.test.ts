/**
 * A real `simchain import` process killed (SIGKILL) in the middle of an import leaves no
 * partial import, and running the command again completes it:
 *
 * - killed while importing (its one transaction dies with the process): nothing is left,
 *   and the next run imports the file;
 * - killed once every row was sent, while the server finishes: nothing or everything,
 *   never a part;
 * - killed while loading an import staged by the API (the server that received it died
 *   before its load): the import stays staged with no SIM loaded; the next run loads it,
 *   same import, and a third run finds it imported, with no duplicates.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { parseMasterKeyring, receiveImport } from '../../provisioning-api/index.js';
import { testDatabase, type TestDatabase } from '../helpers/database.js';
import { vendorFile } from '../helpers/app.js';

const SIMCHAIN = fileURLToPath(new URL('../../bin/simchain.js', import.meta.url));
const ROWS = 60_000;

const home = mkdtempSync(join(tmpdir(), 'simchain-kill-'));
t.teardown(() => rmSync(home, { recursive: true, force: true }));
const file = join(home, 'inventory.csv');
writeFileSync(file, vendorFile({ count: ROWS, networkSecrets: true }));
const uploaded = join(home, 'uploaded.csv');
writeFileSync(uploaded, vendorFile({ count: ROWS, networkSecrets: true, firstSerial: 1_000_000 }));
const masterKey = randomBytes(32).toString('hex');
let db: TestDatabase;
let env: NodeJS.ProcessEnv;
t.before(async () => {
  db = await testDatabase();
  env = { ...process.env, DATABASE_URL: db.url, SIMCHAIN_HOME: home, SIMCHAIN_MASTER_KEY: masterKey, LOG_LEVEL: 'warn' };
});

/** Run `simchain import PATH`; kill it with SIGKILL as soon as a stderr line matches `killWhen`. */
function runImport(path: string, killWhen?: RegExp): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; killedAt?: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SIMCHAIN, 'import', path], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let killedAt: string | undefined;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      const line = stderr.split('\n').find((l) => killWhen?.test(l));
      if (killWhen && line && killedAt === undefined) {
        killedAt = line;
        child.kill('SIGKILL');
      }
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, ...(killedAt ? { killedAt } : {}) }));
  });
}

async function state() {
  return (await db.pool.query<{ sims: number; imports: number; staged: number; keys: number; staging: number; importId: string | null }>(`SELECT
    (SELECT count(*) FROM sims)::int AS sims, (SELECT count(*) FROM sim_imports)::int AS imports,
    (SELECT count(*) FROM sim_imports WHERE state = 'staged')::int AS staged, (SELECT count(*) FROM data_keys)::int AS keys,
    (SELECT count(*) FROM pg_tables WHERE schemaname = 'sim_import_staging')::int AS staging,
    (SELECT id FROM sim_imports ORDER BY created_at DESC LIMIT 1) AS "importId"`)).rows[0]!;
}

t.test('killed while importing: nothing is left; run again: imported', async (t) => {
  const run = await runImport(file, /^importing .*\s([1-8]\d|\d)% /);
  t.equal(run.signal, 'SIGKILL', `killed at: ${run.killedAt}`);
  t.match(run.killedAt ?? '', /importing/);
  t.same(await state(), { sims: 0, imports: 0, staged: 0, keys: 0, staging: 0, importId: null }, 'no partial import, no data key, no staging table');

  const again = await runImport(file);
  t.equal(again.code, 0, again.stderr);
  const outcome = JSON.parse(again.stdout.trim()) as { importId: string; state: string; loadedCount: number; droppedColumns: string[] };
  t.match(outcome, { state: 'completed', loadedCount: ROWS, droppedColumns: ['KI', 'OPC'] });
  t.match(await state(), { sims: ROWS, imports: 1, staged: 0, keys: 1, staging: 0 });
});

t.test('killed once every row was sent: all or nothing, never a part', async (t) => {
  await db.pool.query('TRUNCATE sims, sim_imports, sim_import_progress, data_keys CASCADE');
  const run = await runImport(file, /^importing .*100% /);
  const s = await state();
  t.ok((s.sims === 0 && s.imports === 0 && s.keys === 0) || (s.sims === ROWS && s.imports === 1), `killed at: ${run.killedAt}; found ${JSON.stringify(s)}`);
  const again = await runImport(file);
  t.equal(again.code, 0, again.stderr);
  t.match(await state(), { sims: ROWS, imports: 1, staged: 0, staging: 0 }, 'imported once');
});

t.test('killed while loading a staged import: staged, no SIM; run again: completed, same import', async (t) => {
  const before = await state();
  const staged = await receiveImport({
    pool: db.pool, keyring: parseMasterKeyring(masterKey), tenantId: (await db.pool.query(`SELECT id FROM tenants WHERE kind = 'operator'`)).rows[0].id,
    fileName: 'uploaded.csv', source: [readFileSync(uploaded)],
  });
  if (staged.outcome !== 'staged') throw new Error(staged.outcome);

  const run = await runImport(uploaded, /^loading /);
  t.equal(run.signal, 'SIGKILL', `killed at: ${run.killedAt}`);
  t.match(run.stderr, /resuming import/);
  const killed = await state();
  t.equal(killed.sims, before.sims, 'no SIM of a half-loaded import is visible');
  t.same({ imports: killed.imports, staged: killed.staged }, { imports: before.imports + 1, staged: 1 });

  const again = await runImport(uploaded);
  t.equal(again.code, 0, again.stderr);
  t.match(again.stderr, /resuming import/);
  const outcome = JSON.parse(again.stdout.trim()) as { importId: string; state: string; loadedCount: number; droppedColumns: string[] };
  t.equal(outcome.importId, staged.importId, 'the same import');
  t.equal(outcome.state, 'completed');
  t.equal(outcome.loadedCount, ROWS);
  t.same(outcome.droppedColumns, ['KI', 'OPC']);
  const done = await state();
  t.same({ sims: done.sims, imports: done.imports, staged: done.staged, staging: done.staging }, { sims: before.sims + ROWS, imports: before.imports + 1, staged: 0, staging: 0 });

  const third = await runImport(uploaded);
  t.equal(third.code, 0);
  t.match(third.stderr, /imported before/);
  t.equal((await state()).sims, before.sims + ROWS, 'no duplicates');
});
