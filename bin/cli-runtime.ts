/**
 * What the backend's subcommands share (configuration, a logger on stderr, the one-time
 * display of the bootstrap key, startup errors the user can fix, signals), importing only
 * the modules these need: `simchain import` and `migrate` start without loading the HTTP
 * API, the chain or the SMPP client.
 */
import { ConfigError, loadConfig, type Config } from '../provisioning-api/config.js';
import { createLogger, type Logger } from '../provisioning-api/logging.js';
import { MasterKeyError } from '../provisioning-api/secrets/master-key.js';
import { CliError } from './cli-io.js';

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

