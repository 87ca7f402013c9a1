/** The OutboxStore conformance suite against the stores that exist in this layer's tests. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { MemoryOutboxStore } from '../../provisioning-api/chain/index.js';
import { FileOutboxStore } from './file-outbox-store.js';
import { outboxStoreConformance } from './outbox-store-conformance.js';

const dir = mkdtempSync(join(tmpdir(), 'simchain-outbox-store-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

outboxStoreConformance('MemoryOutboxStore', async () => new MemoryOutboxStore());
outboxStoreConformance('FileOutboxStore', async () => new FileOutboxStore(join(dir, `store-${++n}.json`)));
