/**
 * The embedded network's inventory in the backend: the generated vendor file imported (the
 * fast path of `simchain import`, provisioning-api/import/direct.ts) and its vendor CA
 * configured, so its cards can be provisioned. Idempotent: the file is known by its SHA-256,
 * so a second start finds the first start's import and imports nothing; an import a crash
 * interrupted left nothing and is done again; a CA already configured is left alone.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import {
  getOperatorTenant,
  getSimImport,
  getSimImportByHash,
  getVendorCa,
  setVendorCa,
  importDirect,
  type Pool,
  type Services,
  type SimImport,
} from '../provisioning-api/index.js';
import { CliError } from './cli-io.js';

/** What of the backend the import needs (startBackend's `beforeHttp` gives these). */
export interface BackendParts {
  pool: Pool;
  services: Services;
}

export interface InventoryOutcome {
  importId: string;
  rowCount: number;
  /** True when this call imported the file; false when an earlier one had. */
  imported: boolean;
  /** Seconds this call spent importing (0 when it found the import). */
  seconds: number;
}

async function sha256Of(file: string): Promise<Buffer> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest();
}

function rejected(file: string, imp: Pick<SimImport, 'problemCount' | 'problems'>): CliError {
  const first = imp.problems[0];
  return new CliError(`${file} was rejected: ${imp.problemCount} problem(s)${first ? `, first at line ${first.line}: ${first.message}` : ''}`);
}

/** An import staged by an upload (not this path) is loaded by the workers: wait for it. */
async function untilLoaded(backend: BackendParts, importId: string): Promise<SimImport> {
  for (;;) {
    const imp = (await getSimImport(backend.pool, importId))!;
    if (imp.state === 'completed' || imp.state === 'rejected') return imp;
    backend.services.queue.nudge('sim-import.load');
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function importFile(backend: BackendParts, file: string, sha256: Buffer, onProgress?: (rows: number) => void): Promise<SimImport> {
  const { pool } = backend;
  const operator = await getOperatorTenant(pool);
  if (!operator) throw new CliError('the database has no operator tenant');
  const outcome = await importDirect({
    pool,
    keyring: backend.services.keyring,
    tenantId: operator.id,
    fileName: basename(file),
    open: () => createReadStream(file, { highWaterMark: 1 << 16 }),
    sha256,
    enqueueLoad: (client, jobId) => backend.services.queue.enqueue(client, 'sim-import.load', jobId),
    ...(onProgress ? { onProgress: (_bytes: number, rows: number) => onProgress(rows) } : {}),
  });
  if (outcome.outcome === 'rejected') throw rejected(file, outcome);
  return untilLoaded(backend, outcome.importId);
}

/** Import `file` unless it was, and make sure its import has the vendor CA `caPem`. */
export async function ensureInventory(backend: BackendParts, file: string, caPem: string, onProgress?: (rows: number) => void): Promise<InventoryOutcome> {
  const started = performance.now();
  const sha256 = await sha256Of(file);
  let imp = await getSimImportByHash(backend.pool, sha256);
  const imported = imp === null;
  imp = imp === null ? await importFile(backend, file, sha256, onProgress) : await untilLoaded(backend, imp.id);
  if (imp.state === 'rejected') throw rejected(file, imp);
  const seconds = imported ? (performance.now() - started) / 1000 : 0;
  if (!(await getVendorCa(backend.pool, imp.id))) await setVendorCa(backend.pool, imp.id, Buffer.from(new X509Certificate(caPem).raw));
  return { importId: imp.id, rowCount: imp.rowCount, imported, seconds };
}
