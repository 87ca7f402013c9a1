/**
 * `simchain worker`: the job workers alone (no HTTP), to scale out or to run beside an API
 * process: the database's job queue, the chain adapter (CHAIN_RPC_URL + CHAIN_SIGNER_KEY) and
 * the SMSC (SMPP_URL) when configured; provisioning runs where both are. Any number of
 * workers share the work through PostgreSQL; one that dies leaves nothing half done.
 */
import { createLogger, startBackend } from '../provisioning-api/index.js';
import { cliConfig, explainStartupError, untilSignal } from './cli-runtime.js';
import { UsageError } from './cli-io.js';
import type { Subcommand } from './subcommand.js';

async function run(argv: string[]): Promise<number> {
  if (argv.length > 0) throw new UsageError(`unexpected argument '${argv[0]}'`);
  const config = cliConfig();
  const log = createLogger({ level: config.logLevel });
  let backend;
  try {
    backend = await startBackend({
      config, log, workers: true, http: false,
      ...(config.chainRpcUrl && config.chainSignerKey
        ? { chain: { rpcUrl: config.chainRpcUrl, signerKey: config.chainSignerKey, confirmations: config.chainConfirmations } }
        : {}),
      ...(config.smpp
        ? { ota: { smsc: config.smpp, sourceAddr: config.smppSourceAddr, binds: config.smppBinds, window: config.smppWindow, porTimeoutSeconds: config.otaPorTimeoutSeconds } }
        : {}),
    });
  } catch (e) {
    explainStartupError(e);
  }
  process.stdout.write(`simchain worker ready (chain: ${backend.chain ? backend.chain.registry : 'none'}, SMSC: ${backend.ota ? 'bound' : 'none'})\n`);
  const signal = await untilSignal();
  log.info({ signal }, 'stopping');
  await backend.stop();
  return 0;
}

export const command: Subcommand = {
  name: 'worker',
  summary: 'run the job workers only (provisioning, lifecycle, imports), no HTTP',
  help: `usage: simchain worker

Runs the job workers until SIGINT or SIGTERM, without the HTTP API. Provisioning needs both a
chain and an SMSC; without them this worker takes the other jobs only.

environment: as simchain serve (DATABASE_URL, SIMCHAIN_MASTER_KEY, CHAIN_RPC_URL,
CHAIN_SIGNER_KEY, CHAIN_CONFIRMATIONS, SMPP_URL, SMPP_SOURCE_ADDR, SMPP_BINDS, SMPP_WINDOW,
OTA_POR_TIMEOUT, OTA_RETRY_BASE, OTA_MAX_ATTEMPTS, LOG_LEVEL).
`,
  run,
};
