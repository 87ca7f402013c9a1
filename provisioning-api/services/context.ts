/** What the application's operations need: the database, the queue, the keyring, a logger. */
import type { Pool } from '../db/pool.js';
import type { JobQueue } from '../jobs/queue.js';
import type { MasterKeyring } from '../secrets/master-key.js';

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
}
