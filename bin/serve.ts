/**
 * `simchain serve`: the HTTP API and the job workers on DATABASE_URL (or the embedded
 * database). Also what the backend's other subcommands (start, migrate, import, admin)
 * share: configuration, a logger, the one-time display of the bootstrap key, signals.
 */
import {
  ConfigError,
  createLogger,
  loadConfig,
  MasterKeyError,
  startBackend,
  type Config,
  type Logger,
} from '../provisioning-api/index.js';
import { CliError, UsageError } from './cli-io.js';
import type { Subcommand } from './subcommand.js';

export function cliConfig(): Config {
  try {
    return loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) throw new CliError(e.message);
    throw e;
  }
}

/** Logs on stderr: commands keep stdout for their result. */
export function cliLogger(fallbackLevel = 'warn'): Logger {
  return createLogger({ level: process.env.LOG_LEVEL ?? fallbackLevel, stderr: true });
}

/** Print the bootstrap admin key, once, as the first start creates it. */
export function showAdminKey(token: string, file: string): void {
  process.stdout.write(
    `bootstrap admin API key (shown once; also saved in ${file}, mode 0600):\n  ${token}\n` +
      `use it as: Authorization: Bearer ${token.slice(0, 17)}...\n`,
  );
}

/** Turn startup errors the user can fix into CliErrors. */
export function explainStartupError(e: unknown): never {
  if (e instanceof MasterKeyError || e instanceof ConfigError) throw new CliError(e.message);
  const code = (e as { code?: string } | null)?.code;
  if (code === 'ECONNREFUSED') throw new CliError(`cannot reach the database: ${(e as Error).message} (check DATABASE_URL)`);
  if (code === 'EADDRINUSE') throw new CliError(`the port is in use: ${(e as Error).message} (set PORT)`);
  if (code === '28P01' || code === '3D000') throw new CliError(`database: ${(e as Error).message} (check DATABASE_URL)`);
  throw e;
}

/** Resolve when SIGINT or SIGTERM arrives. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals) => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(signal);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}


export async function serveUntilSignal(argv: string[], what: string): Promise<number> {
  if (argv.length > 0) throw new UsageError(`unexpected argument '${argv[0]}'`);
  const config = cliConfig();
  const log = createLogger({ level: config.logLevel });
  const backend = await startBackend({ config, log, workers: true, http: true, onAdminKey: showAdminKey }).catch(explainStartupError);
  process.stdout.write(`simchain ${what} listening on ${backend.httpUrl} (OpenAPI ${backend.httpUrl}/docs)\n`);
  const signal = await untilSignal();
  log.info({ signal }, 'stopping');
  await backend.stop();
  return 0;
}

export const command: Subcommand = {
  name: 'serve',
  summary: 'run the provisioning API and its job workers',
  help: `usage: simchain serve

Runs the HTTP API (OpenAPI at /docs) and the job workers until SIGINT or SIGTERM.
Applies pending migrations first.

environment:
  DATABASE_URL          PostgreSQL to use (default: the embedded one under SIMCHAIN_HOME)
  PORT, HOST            where to listen (default 3000 on 127.0.0.1)
  SIMCHAIN_HOME         local state (default .simchain)
  SIMCHAIN_MASTER_KEY   master key(s) for OTA keys at rest (default: a generated key file)
  SIMCHAIN_RATE_LIMIT   requests per minute per API key (default 600)
  LOG_LEVEL             pino level (default info)
`,
  run: (argv) => serveUntilSignal(argv, 'serve'),
};
