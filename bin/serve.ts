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
import { join } from 'node:path';
import type { ChainSettings } from '../provisioning-api/runtime/chain.js';
import { startAnvil } from '../simulators/chain/index.js';
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


/**
 * The chain the backend binds: CHAIN_RPC_URL with CHAIN_SIGNER_KEY when set; otherwise, for
 * `start` (embedded defaults), an anvil with its state under $SIMCHAIN_HOME/chain, so a second
 * start finds the same chain and registry, signing with the node's first dev account;
 * otherwise (`serve` without a chain configured) none.
 */
async function chainFor(config: Config, embedded: boolean, log: Logger): Promise<{ settings?: ChainSettings; describe: string; stop(): Promise<void> }> {
  if (config.chainRpcUrl !== null && config.chainSignerKey !== null) {
    return {
      settings: { rpcUrl: config.chainRpcUrl, signerKey: config.chainSignerKey, confirmations: config.chainConfirmations },
      describe: config.chainRpcUrl,
      stop: async () => undefined,
    };
  }
  if (!embedded) return { describe: 'none (set CHAIN_RPC_URL and CHAIN_SIGNER_KEY)', stop: async () => undefined };
  const anvil = await startAnvil({ stateDir: join(config.home, 'chain'), log: (line) => log.debug({ anvil: line }, 'anvil') });
  return {
    settings: { rpcUrl: anvil.rpcUrl, signerKey: anvil.accounts[0]!.privateKey, confirmations: config.chainConfirmations },
    describe: `embedded anvil at ${anvil.rpcUrl} (state in ${anvil.statePath})`,
    stop: () => anvil.stop(),
  };
}

export async function serveUntilSignal(argv: string[], what: string): Promise<number> {
  if (argv.length > 0) throw new UsageError(`unexpected argument '${argv[0]}'`);
  const config = cliConfig();
  const log = createLogger({ level: config.logLevel });
  const chain = await chainFor(config, what === 'start', log);
  let backend;
  try {
    backend = await startBackend({ config, log, workers: true, http: true, onAdminKey: showAdminKey, ...(chain.settings ? { chain: chain.settings } : {}) });
  } catch (e) {
    await chain.stop();
    explainStartupError(e);
  }
  process.stdout.write(`simchain ${what} listening on ${backend.httpUrl} (OpenAPI ${backend.httpUrl}/docs)\n`);
  process.stdout.write(`chain: ${chain.describe}${backend.chain ? `, DeviceRegistry ${backend.chain.registry}` : ''}\n`);
  const signal = await untilSignal();
  log.info({ signal }, 'stopping');
  await backend.stop();
  await chain.stop();
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
  CHAIN_RPC_URL         EVM chain to bind (with CHAIN_SIGNER_KEY); unset: no chain
  CHAIN_SIGNER_KEY      hex private key of the operator's signer on that chain
  CHAIN_CONFIRMATIONS   blocks deep before a transaction or event counts (default 1)
  LOG_LEVEL             pino level (default info)
`,
  run: (argv) => serveUntilSignal(argv, 'serve'),
};
