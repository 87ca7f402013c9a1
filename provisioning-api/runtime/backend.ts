/**
 * The backend as one composition: database (DATABASE_URL, or the embedded PostgreSQL under
 * SIMCHAIN_HOME), schema (migrations, pg-boss, the bootstrap admin key), pool, job queue,
 * workers, HTTP API. `simchain start`, `serve`, `migrate` and `import` take the parts they need.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../db/embedded.js';
import { migrate } from '../db/migrate.js';
import { createPool, type Pool } from '../db/pool.js';
import type { App } from '../http/app.js';
import { startJobQueue, type JobQueue } from '../jobs/queue.js';
import type { Logger } from '../logging.js';
import type { ProvisionerOptions } from '../provisioning/engine.js';
import { loadMasterKeyring, type MasterKeyring } from '../secrets/master-key.js';
import { bootstrap } from '../services/api-keys.js';
import type { Services } from '../services/context.js';
import { Composition, type Component } from './composition.js';
import type { ChainRuntime, ChainSettings } from './chain.js';
import type { OtaSettings } from './ota.js';
import type { OtaGateway } from '../smpp/ota-gateway.js';

export interface BackendOptions {
  config: Config;
  log: Logger;
  /** Run migrations and the bootstrap. Default true. */
  migrate?: boolean;
  workers?: boolean;
  /** How the provisioning workers sweep for stalled work (tests shorten it); their retries come from `config`. */
  provisioning?: Pick<ProvisionerOptions, 'stalledCheckMs' | 'stalledSeconds'>;
  http?: boolean;
  /** Called once, on the install's first start, with the bootstrap admin key and its file. */
  onAdminKey?: (token: string, file: string) => void;
  /** The chain to bind (node URL and signer); none: the backend runs without one. */
  chain?: ChainSettings;
  /** The SMSC to send OTA through; none: no OTA is sent (commands stay queued). */
  ota?: OtaSettings;
  /**
   * Runs once the workers are up, before the HTTP API listens, so /healthz answers 200 only
   * after it (`simchain start` imports its embedded fleet's inventory here).
   */
  beforeHttp?: (parts: { pool: Pool; services: Services }) => Promise<void>;
}

export interface Backend {
  databaseUrl: string;
  pool: Pool;
  services: Services;
  app: App | null;
  /** http://host:port when serving. */
  httpUrl: string | null;
  /** The chain adapter when a chain is configured. */
  chain: ChainRuntime | null;
  /** The OTA gateway when an SMSC is configured. */
  ota: OtaGateway | null;
  stop(): Promise<void>;
}

/** The master keyring, warning when it is the generated key file (embedded defaults). */
export function masterKeyring(config: Config, log: Logger): MasterKeyring {
  const loaded = loadMasterKeyring(process.env, config.home);
  if (loaded.source === 'file') {
    log.warn({ file: loaded.file, generated: loaded.generated }, 'SIMCHAIN_MASTER_KEY is not set: OTA keys are encrypted under a key file on this machine; set SIMCHAIN_MASTER_KEY in production');
  }
  return loaded.keyring;
}

export function writeAdminKey(home: string, token: string): string {
  const file = join(home, 'admin.key');
  writeFileSync(file, token + '\n', { mode: 0o600 });
  return file;
}

export async function startBackend(options: BackendOptions): Promise<Backend> {
  const { config, log } = options;
  mkdirSync(config.home, { recursive: true });
  const composition = new Composition((m) => log.error({}, m));
  let embedded: EmbeddedDatabase | null = null;
  let databaseUrl = config.databaseUrl ?? '';
  let pool: Pool | null = null;
  let queue: JobQueue | null = null;
  let app: App | null = null;
  let httpUrl: string | null = null;
  let services: Services | null = null;
  let chain: ChainRuntime | null = null;
  let ota: OtaGateway | null = null;
  let keyring: MasterKeyring | null = null;
  let stopWorkers: () => Promise<void> = async () => undefined;

  const components: Component[] = [
    {
      name: 'database',
      async start() {
        if (config.databaseUrl !== null) return;
        embedded = await startEmbeddedPostgres({ home: config.home, log: (m) => log.debug({}, m) });
        databaseUrl = embedded.url;
        log.info({ home: config.home, owner: embedded.owner }, 'embedded PostgreSQL ready');
      },
      async stop() {
        await embedded?.stop();
      },
    },
    {
      name: 'schema',
      async start() {
        if (options.migrate === false) return;
        const { applied } = await migrate(databaseUrl, (line) => log.info({}, line));
        if (applied.length > 0) log.info({ applied }, 'migrations applied');
      },
      async stop() {},
    },
    {
      name: 'pool',
      async start() {
        pool = createPool(databaseUrl, { onError: (e) => log.warn({ err: e }, 'database connection lost') });
        if (options.migrate !== false) {
          const { adminToken } = await bootstrap(pool, config.operatorName);
          if (adminToken !== null) options.onAdminKey?.(adminToken, writeAdminKey(config.home, adminToken));
        }
      },
      async stop() {
        await pool?.end();
      },
    },
    {
      name: 'queue',
      async start() {
        queue = await startJobQueue(databaseUrl, { onError: (e) => log.error({ err: e }, 'job queue error') });
        keyring = masterKeyring(config, log);
        services = { pool: pool!, queue, keyring, log, ota: null, chain: null };
      },
      async stop() {
        await queue?.stop();
      },
    },
    // The chain, the SMPP client, the workers and the HTTP API are loaded only by the
    // processes that run them: `simchain import` and `migrate` start in a fraction of the time.
    ...(options.chain
      ? [(await import('./chain.js')).chainComponent({ settings: options.chain, home: config.home, pool: () => pool!, log, onReady: (c) => (chain = services!.chain = c) })]
      : []),
    ...(options.ota
      ? [(await import('./ota.js')).otaComponent({ settings: options.ota, pool: () => pool!, keyring: () => keyring!, log, onReady: (g) => (ota = services!.ota = g) })]
      : []),
    {
      name: 'workers',
      async start() {
        if (options.workers) {
          const { startWorkers } = await import('../jobs/workers.js');
          stopWorkers = await startWorkers(services!, { provisioning: { ...options.provisioning, retryBaseSeconds: config.otaRetryBaseSeconds, maxAttempts: config.otaMaxAttempts } });
        }
      },
      async stop() {
        await stopWorkers();
      },
    },
    {
      name: 'before-http',
      async start() {
        await options.beforeHttp?.({ pool: pool!, services: services! });
      },
      async stop() {},
    },
    {
      name: 'http',
      async start() {
        if (!options.http) return;
        const { buildApp } = await import('../http/app.js');
        app = await buildApp({ services: services!, logger: log, rateLimitPerMinute: config.rateLimitPerMinute, health: composition.checks() });
        const address = await app.listen({ host: config.host, port: config.port });
        httpUrl = address;
      },
      async stop() {
        await app?.close();
      },
    },
  ];
  await composition.start(components);
  return {
    databaseUrl,
    pool: pool!,
    services: services!,
    app,
    httpUrl,
    chain,
    ota,
    stop: () => composition.stop(),
  };
}
