/**
 * `simchain serve`: the HTTP API and the job workers on DATABASE_URL (or the embedded
 * database), bound to CHAIN_RPC_URL and SMPP_URL when set, and what `start` and `demo`
 * share with it: the embedded chain and network. (Configuration, logger, bootstrap key
 * display, signals: ./cli-runtime.ts.)
 */
import { createLogger, startBackend, type Config, type Logger, type SmppSettings } from '../provisioning-api/index.js';
import { isAbsolute, join, relative } from 'node:path';
import type { ChainSettings } from '../provisioning-api/runtime/chain.js';
import type { OtaSettings } from '../provisioning-api/runtime/ota.js';
import { startAnvil } from '../simulators/chain/index.js';
import { CliError, UsageError } from './cli-io.js';
import { cliConfig, explainStartupError, showAdminKey, untilSignal } from './cli-runtime.js';
import { ensureInventory, type InventoryOutcome } from './embedded-inventory.js';
import { startEmbeddedNetwork, type EmbeddedNetwork } from './embedded-network.js';
import type { Subcommand } from './subcommand.js';


/**
 * The chain the backend binds: CHAIN_RPC_URL with CHAIN_SIGNER_KEY when set; otherwise, for
 * `start` (embedded defaults), an anvil with its state under $SIMCHAIN_HOME/chain, so a second
 * start finds the same chain and registry, signing with the node's first dev account;
 * otherwise (`serve` without a chain configured) none.
 */
export async function chainFor(config: Config, embedded: boolean, log: Logger): Promise<{ settings?: ChainSettings; describe: string; stop(): Promise<void> }> {
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

/** Cards in the fleet `simchain start` creates: SIMCHAIN_FLEET_SIZE, default 1,000. */
export function fleetSize(env: NodeJS.ProcessEnv = process.env): number {
  const value = env.SIMCHAIN_FLEET_SIZE?.trim();
  if (!value) return 1000;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1 || n > 10_000_000) throw new CliError('SIMCHAIN_FLEET_SIZE must be an integer from 1 to 10,000,000');
  return n;
}

/** The OTA settings for an SMSC, with the SMPP_* figures of the configuration. */
export function otaSettings(config: Config, smsc: SmppSettings): OtaSettings {
  return { smsc, sourceAddr: config.smppSourceAddr, binds: config.smppBinds, window: config.smppWindow, porTimeoutSeconds: config.otaPorTimeoutSeconds };
}

interface Network {
  ota?: OtaSettings;
  embedded: EmbeddedNetwork | null;
  describe: string;
  stop(): Promise<void>;
}

/**
 * The SMSC the backend sends OTA through: SMPP_URL when set; otherwise, for `start`, the
 * SMSC simulator and the handset fleet in this process (bin/embedded-network.ts); otherwise
 * (`serve` without SMPP_URL) none, and no OTA is sent.
 */
async function networkFor(config: Config, embedded: boolean, size: number): Promise<Network> {
  if (config.smpp !== null) {
    const s = config.smpp;
    return {
      ota: otaSettings(config, s),
      embedded: null,
      describe: `${s.tls ? 'smpps' : 'smpp'}://${s.host}:${s.port} as ${s.systemId} (SMPP_URL)`,
      stop: async () => undefined,
    };
  }
  if (!embedded) return { embedded: null, describe: 'none (set SMPP_URL): no OTA is sent', stop: async () => undefined };
  const network = await startEmbeddedNetwork({ home: config.home, cards: size });
  if (!network.generated && process.env.SIMCHAIN_FLEET_SIZE && network.fleet.size !== size) {
    process.stderr.write(`note: SIMCHAIN_FLEET_SIZE applies when the fleet is created; this home's fleet has ${network.fleet.size.toLocaleString('en-US')} cards\n`);
  }
  return {
    ota: otaSettings(config, network.smpp),
    embedded: network,
    describe: `SMSC simulator at smpp://${network.smpp.host}:${network.smpp.port} (operator account ${network.smpp.systemId}; credentials in ${network.accountsFile})`,
    stop: () => network.stop(),
  };
}

/** A path as the user would type it: relative when under the working directory. */
function shortPath(path: string): string {
  const r = relative(process.cwd(), path);
  return r !== '' && !r.startsWith('..') && !isAbsolute(r) ? r : path;
}

function tryNext(url: string, home: string, importId: string): string {
  const auth = `-H "Authorization: Bearer $(cat ${shortPath(join(home, 'admin.key'))})"`;
  return [
    'try next:',
    `  curl ${auth} '${url}/v1/sims?limit=5'`,
    `  curl ${auth} -H 'content-type: application/json' -d '{"importId":"${importId}"}' ${url}/v1/provisioning-batches`,
    '  node --max-semi-space-size=64 bin/simchain.js demo     # 10,000 SIMs provisioned end to end, then proven on chain',
  ].join('\n');
}

export async function serveUntilSignal(argv: string[], what: string): Promise<number> {
  if (argv.length > 0) throw new UsageError(`unexpected argument '${argv[0]}'`);
  const config = cliConfig();
  const log = createLogger({ level: config.logLevel });
  const embedded = what === 'start';
  const size = embedded ? fleetSize() : 0;
  const chain = await chainFor(config, embedded, log);
  let network: Network;
  try {
    network = await networkFor(config, embedded, size);
  } catch (e) {
    await chain.stop();
    throw e;
  }
  const fleet = network.embedded;
  let inventory: InventoryOutcome | null = null;
  let backend;
  try {
    backend = await startBackend({
      config, log, workers: true, http: true, onAdminKey: showAdminKey,
      ...(chain.settings ? { chain: chain.settings } : {}),
      ...(network.ota ? { ota: network.ota } : {}),
      // The fleet's cards are in the inventory, with their vendor CA, before /healthz says ready.
      ...(fleet ? { beforeHttp: async (parts) => void (inventory = await ensureInventory(parts, fleet.vendorFile, fleet.vendorCaPem)) } : {}),
    });
  } catch (e) {
    await network.stop();
    await chain.stop();
    explainStartupError(e);
  }
  const url = backend.httpUrl!;
  process.stdout.write(`simchain ${what} listening on ${url} (OpenAPI ${url}/docs)\n`);
  process.stdout.write(`chain: ${chain.describe}${backend.chain ? `, DeviceRegistry ${backend.chain.registry}` : ''}\n`);
  process.stdout.write(`smsc: ${network.describe}\n`);
  const imported = inventory as InventoryOutcome | null;
  if (fleet && imported) {
    process.stdout.write(
      `fleet: ${fleet.fleet.size.toLocaleString('en-US')} cards, inventory imported as ${imported.importId}` +
        `${imported.imported ? '' : ' (by an earlier start)'}; vendor file ${shortPath(fleet.vendorFile)}, cards in ${shortPath(join(config.home, 'fleet'))}\n`,
    );
    process.stdout.write(`\n${tryNext(url, config.home, imported.importId)}\n`);
  }
  const signal = await untilSignal();
  log.info({ signal }, 'stopping');
  await backend.stop();
  await network.stop();
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
  SMPP_URL              the operator's SMSC, smpp://SYSTEM_ID:PASSWORD@HOST:PORT (smpps:// for
                        TLS); unset: no OTA is sent (provisioning waits)
  SMPP_SOURCE_ADDR, SMPP_BINDS, SMPP_WINDOW   originating address, binds, window per bind
  OTA_POR_TIMEOUT, OTA_RETRY_BASE, OTA_MAX_ATTEMPTS   seconds to wait for a PoR, resend
                        backoff, sends before a SIM is reported failed
  LOG_LEVEL             pino level (default info)
`,
  run: (argv) => serveUntilSignal(argv, 'serve'),
};
