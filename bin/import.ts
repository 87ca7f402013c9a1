/**
 * `simchain import FILE`: import a vendor inventory file straight into the database, with a
 * progress bar. The rows go into the inventory in one transaction (no staging table: see
 * provisioning-api/import/direct.ts); a file with duplicates is read a second time, staged,
 * to list every offending line. The same file again resolves to its first import; an
 * import staged by the API (or by a diagnosis) and not loaded yet is loaded; a killed
 * import left nothing, and running the command again imports the file. Prints the outcome
 * as one JSON object on stdout; progress and problems go to stderr.
 */
import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
// Modules, not the package's index: this command needs none of the HTTP API, chain or SMPP code.
import { getJob } from '../provisioning-api/db/repositories/jobs.js';
import { anyImportOfSize, getSimImport, getSimImportByHash, type SimImport } from '../provisioning-api/db/repositories/sim-imports.js';
import { importDirect } from '../provisioning-api/import/direct.js';
import { startBackend, type Backend } from '../provisioning-api/runtime/backend.js';
import { runImportLoadJob } from '../provisioning-api/services/imports.js';
import { CliError, UsageError, writeJson } from './cli-io.js';
import { cliConfig, cliLogger, explainStartupError } from './cli-runtime.js';
import type { Subcommand } from './subcommand.js';

/** One progress line: redrawn in place on a terminal, printed every tenth otherwise. */
class ProgressBar {
  private lastTenth = -1;
  private readonly tty = process.stderr.isTTY === true;
  private readonly started = Date.now();

  constructor(private readonly phase: string, private readonly total: number) {}

  update(done: number, rows: number): void {
    const fraction = this.total > 0 ? Math.min(1, done / this.total) : 1;
    const tenth = Math.floor(fraction * 10);
    const seconds = (Date.now() - this.started) / 1000;
    const rate = seconds > 0 ? Math.round(rows / seconds) : 0;
    const line = `${this.phase.padEnd(8)} [${'#'.repeat(Math.round(fraction * 30)).padEnd(30, '.')}] ${(fraction * 100).toFixed(0).padStart(3)}% ${rows.toLocaleString('en-US')} rows ${rate.toLocaleString('en-US')} rows/s`;
    if (this.tty) process.stderr.write(`\r${line}`);
    else if (tenth !== this.lastTenth) process.stderr.write(`${line}\n`);
    this.lastTenth = tenth;
  }

  done(): void {
    if (this.tty) process.stderr.write('\n');
  }
}

async function sha256Of(file: string): Promise<Buffer> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest();
}

function summary(imp: SimImport): Record<string, unknown> {
  return {
    importId: imp.id, state: imp.state, rowCount: imp.rowCount, loadedCount: imp.loadedCount,
    droppedColumns: imp.droppedColumns, problemCount: imp.problemCount, problems: imp.problems,
  };
}

async function load(backend: Backend, jobId: string, rows: number): Promise<void> {
  const bar = new ProgressBar('loading', rows);
  bar.update(0, 0);
  await runImportLoadJob(backend.services, jobId, { onProgress: (loaded) => bar.update(loaded, loaded) });
  bar.done();
}

async function importFile(backend: Backend, file: string, size: number): Promise<SimImport> {
  const { pool } = backend;
  // A file of the size of an earlier import is hashed first: if it is that import, it is
  // recognised without reading it into the database again, and otherwise its import is
  // recorded by the hash before its first row. Any other file cannot be an import already:
  // it is hashed as it is read (a 1 GB file saves a read of its own before the first row).
  const sha256 = (await anyImportOfSize(pool, size)) ? await sha256Of(file) : undefined;
  const known = sha256 ? await getSimImportByHash(pool, sha256) : null;
  if (known) {
    if (known.state === 'staged' || known.state === 'loading') {
      process.stderr.write(`resuming import ${known.id}\n`);
      if (known.jobId) await load(backend, known.jobId, known.rowCount);
    } else {
      process.stderr.write(`this file was imported before as ${known.id}\n`);
    }
    return (await getSimImport(pool, known.id))!;
  }
  const operator = (await pool.query<{ id: string }>(`SELECT id FROM tenants WHERE kind = 'operator'`)).rows[0]!;
  let bar = new ProgressBar('importing', size);
  const outcome = await importDirect({
    pool,
    keyring: backend.services.keyring,
    tenantId: operator.id,
    fileName: basename(file),
    // 1 MB reads: the rows are read from the bytes (no string per chunk), and each chunk's
    // unfinished last line is the only copy made.
    open: () => createReadStream(file, { highWaterMark: 1 << 20 }),
    sha256,
    enqueueLoad: (client, jobId) => backend.services.queue.enqueue(client, 'sim-import.load', jobId),
    onProgress: (bytes, rows) => bar.update(bytes, rows),
    onDiagnose: () => {
      bar.done();
      process.stderr.write('duplicate identifiers: nothing was imported; reading the file again to list every line\n');
      bar = new ProgressBar('checking', size);
    },
  });
  bar.done();
  if (outcome.outcome === 'rejected') {
    for (const p of outcome.problems) process.stderr.write(`line ${p.line}${p.column ? ` ${p.column}` : ''}: ${p.message} [${p.code}]\n`);
    if (outcome.problemCount > outcome.problems.length) process.stderr.write(`... and ${outcome.problemCount - outcome.problems.length} more\n`);
    writeJson({ importId: null, state: 'rejected', rowCount: outcome.rowCount, problemCount: outcome.problemCount, problems: outcome.problems });
    throw new CliError(`${file} was rejected: ${outcome.problemCount} problem(s); nothing was imported`);
  }
  if (outcome.outcome === 'staged') await load(backend, outcome.jobId, outcome.rowCount);
  const imported = (await getSimImport(pool, outcome.importId))!;
  if (outcome.outcome === 'existing') process.stderr.write(`this file was imported meanwhile as ${imported.id}\n`);
  if (imported.state === 'staged' || imported.state === 'loading') {
    const job = imported.jobId ? await getJob(pool, imported.jobId) : null;
    if (job) await load(backend, job.id, imported.rowCount);
  }
  return (await getSimImport(pool, outcome.importId))!;
}

export const command: Subcommand = {
  name: 'import',
  summary: 'import a vendor inventory file (CSV or out file) into the SIM inventory',
  help: `usage: simchain import FILE

Streams FILE (the card vendor's output: CSV with a header row, or the out-file form with
*HEADER DESCRIPTION and var_out:) into the inventory of DATABASE_URL (or the embedded
database under SIMCHAIN_HOME), in one transaction. OTA keys are encrypted under
SIMCHAIN_MASTER_KEY before they reach the database; KI and OPC are dropped unread. A file
with any bad row is rejected whole, with the line of each problem, and nothing is written.
Importing the same file again gives the same import; an import interrupted by a crash left
nothing, and running the command again imports the file (an import staged through the API
and not loaded yet is loaded).

Prints {"importId","state","rowCount","loadedCount","droppedColumns",...} on stdout.
Exit status: 0 imported (or already), 1 rejected or failed, 2 usage.
`,
  async run(argv) {
    const { positionals } = (() => {
      try {
        return parseArgs({ args: argv, allowPositionals: true, options: {} });
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
    })();
    if (positionals.length !== 1) throw new UsageError('usage: simchain import FILE');
    const file = positionals[0]!;
    let size: number;
    try {
      const stat = statSync(file);
      if (!stat.isFile()) throw new CliError(`${file} is not a file`);
      size = stat.size;
    } catch (e) {
      if (e instanceof CliError) throw e;
      throw new CliError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    const config = cliConfig();
    const backend = await startBackend({ config, log: cliLogger(), onAdminKey: (t, f) => {
      // stdout carries the result: the one-time key goes to stderr here.
      process.stderr.write(`bootstrap admin API key (shown once; also saved in ${f}): ${t}\n`);
    } }).catch(explainStartupError);
    try {
      const imported = await importFile(backend, file, size);
      writeJson(summary(imported));
      if (imported.state === 'rejected') {
        for (const p of imported.problems) process.stderr.write(`line ${p.line}${p.column ? ` ${p.column}` : ''}: ${p.message} [${p.code}]\n`);
        throw new CliError(`${file} was rejected: ${imported.problemCount} problem(s); nothing was imported`);
      }
      process.stderr.write(`imported ${imported.loadedCount.toLocaleString('en-US')} SIMs (import ${imported.id})\n`);
      return 0;
    } finally {
      await backend.stop();
    }
  },
};
