/** The OutboxStore conformance suite against the in-memory store (PgOutboxStore runs it in pg-outbox-store.test.ts). */
import { MemoryOutboxStore } from '../../provisioning-api/chain/index.js';
import { outboxStoreConformance } from './outbox-store-conformance.js';

outboxStoreConformance('MemoryOutboxStore', async () => new MemoryOutboxStore());
