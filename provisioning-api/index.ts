/**
 * The public face of provisioning-api: what bin/ (the composition root) and the tests use.
 */
export * from './config.js';
export { createLogger, REDACTED_LOG_PATHS, type Logger } from './logging.js';
export { createPool, withTransaction, type Pool, type PoolClient, type Queryable } from './db/pool.js';
export { migrate, MIGRATIONS_DIR, type MigrateOptions } from './db/migrate.js';
export { startEmbeddedPostgres, type EmbeddedDatabase } from './db/embedded.js';
export { rewrapDataKeys, loadDataKey } from './db/repositories/data-keys.js';
export { getOperatorTenant, getTenantByName, insertTenant, type Tenant } from './db/repositories/tenants.js';
export { getSim, setSimState, type Sim } from './db/repositories/sims.js';
export { getSimImport, getSimImportByHash, getVendorCa, setVendorCa, type SimImport } from './db/repositories/sim-imports.js';
export { getJob, type Job } from './db/repositories/jobs.js';
export {
  enqueueOutbox, claimOutbox, moveOutbox, outboxForJob, outboxForSubject, OutboxTransitionError,
  type OutboxMessage, type NewOutboxMessage,
} from './db/repositories/outbox.js';
export * from './domain/sim-lifecycle.js';
export * from './domain/roles.js';
export * from './domain/errors.js';
export * from './domain/jobs.js';
export * from './domain/outbox.js';
export { MasterKeyring, MasterKeyError, parseMasterKeyring, loadMasterKeyring, formatMasterKeyring } from './secrets/master-key.js';
export { openKeysets, KeysetCipherError } from './secrets/keyset-cipher.js';
export { receiveImport, type ReceiveOutcome, type ReceiveOptions } from './import/receive.js';
export { loadImport, type LoadOutcome } from './import/load.js';
export { attachLoadTable, createLoadTable, INVENTORY_IDENTIFIERS_LOCK, type AttachOutcome } from './import/inventory-partition.js';
export { importDirect, type DirectImportOutcome, type DirectImportOptions } from './import/direct.js';
export { startJobQueue, JobQueue, QUEUES } from './jobs/queue.js';
export { startWorkers } from './jobs/workers.js';
export { buildApp, type App, type AppOptions } from './http/app.js';
export { createApiKey, bootstrap } from './services/api-keys.js';
export { runImportLoadJob } from './services/imports.js';
export { runSimActionJob, requestSimAction } from './services/sim-actions.js';
export { runAllocationJob } from './services/allocations.js';
export type { Services } from './services/context.js';
export { startBackend, masterKeyring, writeAdminKey, type Backend, type BackendOptions } from './runtime/backend.js';
export { Composition, type Component } from './runtime/composition.js';
