/** What the application's operations need: the database, the queue, the keyring, a logger. */
import type { Pool } from '../db/pool.js';
import type { JobQueue } from '../jobs/queue.js';
import type { MasterKeyring } from '../secrets/master-key.js';
import type { OtaGateway } from '../smpp/ota-gateway.js';
import type { ChainRuntime } from '../runtime/chain.js';

export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface Services {
  pool: Pool;
  queue: JobQueue;
  keyring: MasterKeyring;
  log: Logger;
  /** OTA over SMPP, when an SMSC is configured (set once the gateway is bound). */
  ota?: OtaGateway | null;
  /** The chain adapter, when a chain is configured (set once the registry is ready). */
  chain?: ChainRuntime | null;
}
