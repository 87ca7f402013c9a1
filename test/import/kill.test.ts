/**
 * A real `simchain import` process killed (SIGKILL) in the middle of an import leaves no
 * partial import, and running the command again completes it: killed while reading (the
 * staging transaction dies with the process: nothing is left), and killed while loading
 * (the import stays staged with no SIM loaded; the next run loads it, same import).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { testDatabase, type TestDatabase } from '../helpers/database.js';
import { vendorFile } from '../helpers/app.js';

const SIMCHAIN = fileURLToPath(new URL('../../bin/simchain.js', import.meta.url));
const ROWS = 60_000;

const home = mkdtempSync(join(tmpdir(), 'simchain-kill-'));
t.teardown(() => rmSync(home, { recursive: true, force: true }));
const file = join(home, 'inventory.csv');
writeFileSync(file, vendorFile({ count: ROWS, networkSecrets: true }));
let db: TestDatabase;
let env: NodeJS.ProcessEnv;
t.before(async () => {
  db = await testDatabase();
  env = { ...process.env, DATABASE_URL: db.url, SIMCHAIN_HOME: home, SIMCHAIN_MASTER_KEY: randomBytes(32).toString('hex'), LOG_LEVEL: 'warn' };
});

/** Run `simchain import FILE`; kill it with SIGKILL as soon as a stderr line matches `killWhen`. */
function runImport(killWhen?: RegExp): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; killedAt?: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SIMCHAIN, 'import', file], { env, stdio: ['ignore', 'pipe', 'pipe'] });
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
  return (await db.pool.query<{ sims: number; imports: number; staged: number; importId: string | null }>(`SELECT
    (SELECT count(*) FROM sims)::int AS sims, (SELECT count(*) FROM sim_imports)::int AS imports,
    (SELECT count(*) FROM sim_imports WHERE state = 'staged')::int AS staged, (SELECT id FROM sim_imports LIMIT 1) AS "importId"`)).rows[0]!;
}

t.test('killed while reading: nothing is left', async (t) => {
  const run = await runImport(/^reading .*\s([1-8]\d|\d)% /);
  t.equal(run.signal, 'SIGKILL', `killed at: ${run.killedAt}`);
  t.match(run.killedAt ?? '', /reading/);
  const s = await state();
  t.same({ sims: s.sims, imports: s.imports }, { sims: 0, imports: 0 }, 'no partial import');
  const staging = (await db.pool.query(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'sim_import_staging'`)).rows[0].n;
  t.equal(staging, 0, 'no staging table');
});

t.test('killed while loading: staged, no SIM; run again: completed, same import', async (t) => {
  const run = await runImport(/^loading /);
  t.equal(run.signal, 'SIGKILL', `killed at: ${run.killedAt}`);
  const killed = await state();
  t.equal(killed.sims, 0, 'no SIM of a half-loaded import is visible');
  t.same({ imports: killed.imports, staged: killed.staged }, { imports: 1, staged: 1 });

  const again = await runImport();
  t.equal(again.code, 0, again.stderr);
  t.match(again.stderr, /resuming import/);
  const outcome = JSON.parse(again.stdout.trim()) as { importId: string; state: string; loadedCount: number; droppedColumns: string[] };
  t.equal(outcome.importId, killed.importId, 'the same import');
  t.equal(outcome.state, 'completed');
  t.equal(outcome.loadedCount, ROWS);
  t.same(outcome.droppedColumns, ['KI', 'OPC']);
  const done = await state();
  t.same({ sims: done.sims, imports: done.imports, staged: done.staged }, { sims: ROWS, imports: 1, staged: 0 });

  const third = await runImport();
  t.equal(third.code, 0);
  t.match(third.stderr, /imported before/);
  t.equal((await state()).sims, ROWS, 'no duplicates');
});
