/**
 * The public face of the chain adapter: provider, per-key outbox (nonces, sending, receipts,
 * confirmation, re-broadcast, fee bumps), the outbox's pure state machine and store interface,
 * its PostgreSQL store and per-key lease, typed errors with decoded reverts, DeviceRegistry
 * calls, its event reader and the indexer that follows its events into PostgreSQL.
 */
export { CHAIN_ERROR_CODES, ChainError, describeRevert, isChainError, isRevertWith, toChainError } from './errors.js';
export type { ChainErrorCode, ChainErrorOptions } from './errors.js';
export { decodeRevert } from './revert.js';
export type { DecodedRevert, JsonValue } from './revert.js';
export { connectChain, rpc } from './provider.js';
export type { ChainConnection, ConnectOptions } from './provider.js';
export { NonceQueue } from './nonce-queue.js';
export type { NonceSource } from './nonce-queue.js';
export {
  FINAL_STATES,
  OUTBOX_STATES,
  OUTBOX_TRANSITIONS,
  applyOutboxEvent,
  confirmationsAt,
  entryError,
  entryFromJson,
  entryToJson,
  isFinal,
  planEntry,
  sameIntent,
} from './outbox-state.js';
export type { MinedReceipt, OutboxEntry, OutboxEvent, OutboxFailure, OutboxState, TxAttempt, TxIntent } from './outbox-state.js';
export { unfinishedOrder } from './outbox-store.js';
export type { OutboxStore } from './outbox-store.js';
export { MemoryOutboxStore } from './memory-outbox-store.js';
export { PgOutboxStore, pgOutboxQueries, signerKey } from './pg-outbox-store.js';
export type { SqlClient } from './pg-outbox-store.js';
export { SignerLease, signerLockKey } from './signer-lease.js';
export type { SignerLeaseOptions } from './signer-lease.js';
export { openSignerOutbox } from './signer-outbox.js';
export type { SignerOutbox, SignerOutboxOptions } from './signer-outbox.js';
export { TxOutbox } from './outbox.js';
export type { SubmitOptions, TxOutboxOptions } from './outbox.js';
export { awaitEntry, hasReached, intentOf, planTransaction } from './plan.js';
export type { TxRequest, WaitUntil } from './plan.js';
export { outboxCreationSender } from './creation.js';
export { REGISTRAR_ROLE, RegistryReader, registryCalls, statusName } from './registry.js';
export type { BatchRecord } from './registry.js';
export { blockHash, nextRange, readLogs } from './event-reader.js';
export type { LogPage, ReadLogsOptions } from './event-reader.js';
export { REGISTRY_EVENT_TOPICS, decodeRegistryLog, readRegistryEvents } from './registry-events.js';
export type { LogPosition, RegistryEvent, RegistryEventBody, RegistryEventName } from './registry-events.js';
export { RegistryIndexer } from './indexer.js';
export type { IndexStep, RegistryIndexerOptions } from './indexer.js';
export { chainBatch, chainDeviceStatus, eventSubject, indexerQueries, readCursor, registryEventsOf } from './indexer-store.js';
export type { ChainBatch, ChainDeviceStatus, IndexCursor, StoredRegistryEvent } from './indexer-store.js';
