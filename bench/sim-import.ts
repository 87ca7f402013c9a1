/**
 * `npm run bench -- sim-import`: a generated vendor file of 1,000,000 SIMs (Luhn-valid
 * ICCIDs, unique IMSIs, random keys, KI/OPC columns as real files carry) imported by a real
 * `simchain import` process (parse, per-row validation, key sealing, binary COPY straight
 * into the inventory in one transaction), against COPY of the same file raw into a plain
 * table with no checks, in the same run on the same server. Prints rows/s for both, the
 * ratio, and the importer's peak RSS (VmHWM from /proc, sampled).
 *
 * Also printed, to show where the time goes: the server's own floor for these rows, the
 * rows the import wrote copied (binary, by the server itself: no client work) into a fresh
 * table shaped as `sims` (its checks), its unique and lookup indexes then built in bulk, as
 * an import's load table is before it becomes a partition of `sims`.
 * SIM_IMPORT_ROWS changes the size.
 */
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import copyStreams from 'pg-copy-streams';
import { migrate } from '../provisioning-api/index.js';
import { inventoryPartitionQueries, loadTableName } from '../provisioning-api/import/inventory-partition.js';
import { inventory } from '../sim-applet/index.js';
import type { Benchmark } from './index.js';
import { fmtRate, median } from './measure.js';
import { inheritedNodeFlags } from './node-flags.js';

const SIMCHAIN = fileURLToPath(new URL('../bin/simchain.js', import.meta.url));
const SERVER = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';

/** Key bytes from the system RNG, drawn a megabyte at a time. */
function bufferedRandom(): (n: number) => Uint8Array {
  let pool = randomBytes(1 << 20);
  let at = 0;
  return (n) => {
    if (at + n > pool.length) {
      pool = randomBytes(1 << 20);
      at = 0;
    }
    at += n;
    return pool.subarray(at - n, at);
  };
}

async function writeVendorFile(file: string, count: number): Promise<void> {
  const out = createWriteStream(file);
  let batch: string[] = [];
  for (const line of inventory.generateVendorFile({ count, format: 'csv', random: bufferedRandom(), networkSecrets: true })) {
    batch.push(line);
    if (batch.length === 10_000) {
      if (!out.write(batch.join('\n') + '\n')) await once(out, 'drain');
      batch = [];
    }
  }
  out.end(batch.join('\n') + '\n');
  await once(out, 'finish');
}

async function withDatabase<T>(fn: (url: string) => Promise<T>): Promise<T> {
  const name = `simchain_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: SERVER });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const u = new URL(SERVER);
  u.pathname = `/${name}`;
  try {
    return await fn(u.toString());
  } finally {
    await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
    await admin.end();
  }
}

/** Seconds to COPY the file's rows into a plain text table: no parsing beyond CSV, no checks. */
async function rawCopy(url: string, file: string, columns: number): Promise<number> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const table = `raw_${randomBytes(3).toString('hex')}`;
    await c.query(`CREATE TABLE ${table} (${Array.from({ length: columns }, (_, i) => `c${i} text`).join(', ')})`);
    const start = process.hrtime.bigint();
    await pipeline(createReadStream(file, { highWaterMark: 1 << 20 }), c.query(copyStreams.from(`COPY ${table} FROM STDIN (FORMAT csv, HEADER true)`)));
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    await c.query(`DROP TABLE ${table}`);
    return seconds;
  } finally {
    await c.end();
  }
}

/**
 * Seconds the server takes to put the imported rows where an import puts them, with no
 * client work: one backend reads them out (binary COPY TO), the other COPYs them into a
 * fresh table shaped as `sims` and builds its indexes in bulk, in one transaction, as an
 * import's load table (provisioning-api/import/inventory-partition.ts), then rolls back.
 */
async function inventoryFloor(url: string): Promise<number> {
  const source = new pg.Client({ connectionString: url });
  const target = new pg.Client({ connectionString: url });
  await Promise.all([source.connect(), target.connect()]);
  const columns = '(iccid, imsi, msisdn, tar, tenant_id, import_id, import_line, data_key_id, keysets, attestation_serial)';
  const table = loadTableName(randomUUID());
  try {
    await target.query('BEGIN');
    await target.query(`SET LOCAL maintenance_work_mem = '512MB'`);
    await target.query(inventoryPartitionQueries.createTable(table));
    const start = process.hrtime.bigint();
    await pipeline(
      source.query(copyStreams.to(`COPY (SELECT ${columns.slice(1, -1)} FROM sims) TO STDOUT (FORMAT binary)`)),
      target.query(copyStreams.from(`COPY ${table} ${columns} FROM STDIN (FORMAT binary)`)),
    );
    // As for this file, whose IMSIs and MSISDNs increase: no unique index on them.
    for (const sql of inventoryPartitionQueries.indexes(table, { imsi: false, msisdn: false })) await target.query(sql);
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    await target.query('ROLLBACK');
    return seconds;
  } finally {
    await Promise.all([source.end(), target.end()]);
  }
}

/**
 * Run `simchain import FILE`; returns its wall time, the time to its first progress line
 * (process start, module loading, backend start, file hash, the first rows), and its peak
 * RSS (bytes).
 */
function runImport(url: string, home: string, file: string): Promise<{ seconds: number; firstRows: number; peakRss: number; outcome: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, DATABASE_URL: url, SIMCHAIN_HOME: home, SIMCHAIN_MASTER_KEY: randomBytes(32).toString('hex'), LOG_LEVEL: 'warn' };
    const start = process.hrtime.bigint();
    const elapsed = () => Number(process.hrtime.bigint() - start) / 1e9;
    const child = spawn(process.execPath, [...inheritedNodeFlags(), SIMCHAIN, 'import', file], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let firstRows = 0;
    let peakRss = 0;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      if (firstRows === 0 && /importing .*\d rows/.test(d.toString())) firstRows = elapsed();
      process.stderr.write(d);
    });
    const sample = () => {
      try {
        const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (hwm) peakRss = Math.max(peakRss, Number(hwm[1]) * 1024);
      } catch {
        // the process is gone
      }
    };
    const timer = setInterval(sample, 50);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearInterval(timer);
      const seconds = elapsed();
      if (code !== 0) reject(new Error(`simchain import exited ${code}`));
      else resolve({ seconds, firstRows, peakRss, outcome: JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown> });
    });
  });
}

export const benchmark: Benchmark = {
  name: 'sim-import',
  summary: 'simchain import of a 1,000,000-SIM vendor file vs raw COPY of the same rows',
  async run() {
    const rows = Number(process.env.SIM_IMPORT_ROWS ?? 1_000_000);
    const dir = mkdtempSync(join(tmpdir(), 'simchain-bench-'));
    try {
      const file = join(dir, 'vendor.csv');
      await writeVendorFile(file, rows);
      const columns = readFileSync(file, { encoding: 'utf8', flag: 'r' }).slice(0, 400).split('\n')[0]!.split(',').length;
      console.log(`file: ${rows.toLocaleString('en-US')} SIMs, ${(statSync(file).size / 1e6).toFixed(0)} MB, ${columns} columns`);
      await withDatabase(async (url) => {
        await migrate(url);
        const baseline: number[] = [await rawCopy(url, file, columns)];
        const imported = await runImport(url, join(dir, 'home'), file);
        baseline.push(await rawCopy(url, file, columns));
        if (imported.outcome.state !== 'completed' || imported.outcome.loadedCount !== rows) {
          throw new Error(`import did not complete: ${JSON.stringify(imported.outcome).slice(0, 300)}`);
        }
        const floor = await inventoryFloor(url);
        const rawRate = rows / median(baseline);
        const importRate = rows / imported.seconds;
        console.log(`raw COPY (no checks)      ${fmtRate(rawRate)} rows (median of ${baseline.length}: ${baseline.map((s) => s.toFixed(1) + ' s').join(', ')})`);
        console.log(`simchain import           ${fmtRate(importRate)} rows (${imported.seconds.toFixed(1)} s, process start to exit; first rows in after ${imported.firstRows.toFixed(1)} s)`);
        console.log(`ratio import / raw COPY   ${(importRate / rawRate).toFixed(2)}   (goal >= 0.5)`);
        console.log(`importer peak RSS         ${(imported.peakRss / 2 ** 20).toFixed(0)} MB   (goal < 300 MB)`);
        console.log(`server floor: same rows into a load table and its indexes, no client work: ${fmtRate(rows / floor)} rows (${floor.toFixed(1)} s); ratio floor / raw COPY ${(rows / floor / rawRate).toFixed(2)}`);
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
