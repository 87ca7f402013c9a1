/**
 * The PostgreSQL outbox store: the OutboxStore conformance suite, then what the database adds:
 * the compare-and-set follows the one state machine (outbox-state.ts), a nonce belongs to one
 * entry, producers plan inside their own transaction, and the lease's session commits durably.
 */
import t from 'tap';
import {
  applyOutboxEvent,
  isChainError,
  OUTBOX_STATES,
  OUTBOX_TRANSITIONS,
  PgOutboxStore,
  planEntry,
  planTransaction,
  SignerLease,
  type OutboxEntry,
} from '../../provisioning-api/chain/index.js';
import { canMoveOutbox, CHAIN_TX_STATES, createPool, withTransaction } from '../../provisioning-api/index.js';
import { testDatabase } from '../helpers/database.js';
import { outboxStoreConformance } from './outbox-store-conformance.js';

const db = await testDatabase();
const SIGNER = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266';
const TO = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';

outboxStoreConformance('PgOutboxStore', async () => {
  await db.pool.query('TRUNCATE chain_outbox');
  return new PgOutboxStore(db.pool);
});

t.beforeEach(async () => {
  await db.pool.query('TRUNCATE chain_outbox');
});
const store = new PgOutboxStore(db.pool);
let n = 0;
const planned = (): Promise<OutboxEntry> =>
  store.insert(planEntry({ id: `e${++n}`, chainId: 31337n, signer: SIGNER, intent: { to: TO, data: '0x', value: 1n, gasLimit: null }, now: n }));
const attempt = (nonce: number, fee = 3n) => ({
  hash: `0x${(nonce * 1000 + Number(fee)).toString(16).padStart(64, '0')}`,
  raw: '0x02',
  gasLimit: 21_000n,
  maxFeePerGas: fee,
  maxPriorityFeePerGas: 1n,
  gasPrice: null,
  signedAt: 1,
});
const receipt = (hash: string) => ({ hash, blockNumber: 5, blockHash: `0x${'ab'.repeat(32)}`, status: 1 as const, gasUsed: 21_000n, effectiveGasPrice: 3n, contractAddress: null });

t.test('one definition of the chain states: the domain and the table follow outbox-state.ts', async (t) => {
  t.equal(CHAIN_TX_STATES, OUTBOX_STATES, 'the domain exports the chain machine itself, not a copy');
  for (const from of OUTBOX_STATES) {
    for (const to of OUTBOX_STATES) t.equal(canMoveOutbox('chain.tx', from, to), OUTBOX_TRANSITIONS[from].includes(to), `${from} → ${to}`);
  }
  for (const state of OUTBOX_STATES) {
    const nonce = state === 'planned' ? null : 1;
    await db.pool.query(
      `INSERT INTO chain_outbox (id, chain_id, signer, state, nonce, version, entry, created_at, updated_at) VALUES ($1, 1, $2, $3, $4, 1, '{}', now(), now())`,
      [`raw-${state}`, SIGNER.toLowerCase(), state, nonce === null ? null : nonce + OUTBOX_STATES.indexOf(state)],
    );
  }
  await t.rejects(
    db.pool.query(`INSERT INTO chain_outbox (id, chain_id, signer, state, version, entry, created_at, updated_at) VALUES ('raw-x', 1, $1, 'queued', 1, '{}', now(), now())`, [SIGNER.toLowerCase()]),
    { code: '23514' },
    'the table refuses a state the machine does not have',
  );
  await t.rejects(
    db.pool.query(`INSERT INTO chain_outbox (id, chain_id, signer, state, version, entry, created_at, updated_at) VALUES ('raw-y', 1, $1, 'sent', 1, '{}', now(), now())`, [SIGNER.toLowerCase()]),
    { code: '23514' },
    'a sent entry holds a nonce',
  );
  await db.pool.query(`DELETE FROM chain_outbox WHERE id LIKE 'raw-%'`);
});

t.test('the compare-and-set allows exactly the machine’s edges, including the two the generic outbox lacked', async (t) => {
  const p = await planned();
  t.equal(await store.update({ ...p, state: 'confirmed', version: 2 }), false, 'planned → confirmed is no edge');
  t.equal(await store.update({ ...p, state: 'mined', nonce: 0, version: 2 }), false, 'planned → mined is no edge');
  const sent = applyOutboxEvent(p, { type: 'signed', nonce: 0, attempt: attempt(0) }, 10);
  t.equal(await store.update(sent), true);
  const bumped = applyOutboxEvent(sent, { type: 'bumped', attempt: attempt(0, 4n) }, 11);
  t.equal(await store.update(bumped), true, 'sent → sent: a fee bump');
  const mined = applyOutboxEvent(bumped, { type: 'included', receipt: receipt(bumped.attempts[1]!.hash) }, 12);
  t.equal(await store.update(mined), true);
  const reorged = applyOutboxEvent(mined, { type: 'reorged' }, 13);
  t.equal(await store.update(reorged), true, 'mined → sent: a reorg');
  t.same(await store.get(p.id), reorged);
  t.equal(await store.update({ ...reorged, state: 'planned', nonce: null, version: reorged.version + 1 }), false, 'sent → planned is no edge');
});

t.test('a nonce belongs to one entry: a second writer cannot record it, so never sends it', async (t) => {
  const a = await planned();
  const b = await planned();
  t.equal(await store.update(applyOutboxEvent(a, { type: 'signed', nonce: 7, attempt: attempt(7) }, 20)), true);
  const error = await store.update(applyOutboxEvent(b, { type: 'signed', nonce: 7, attempt: attempt(7, 5n) }, 21)).catch((e: unknown) => e);
  t.ok(isChainError(error, 'OUTBOX_CONFLICT'), String(error));
  t.match((error as { details: unknown }).details, { id: b.id, nonce: 7, holder: a.id });
  t.equal((await store.get(b.id))?.state, 'planned', 'the loser is still planned, holding no nonce');
  t.equal(await store.highestNonce(31337n, SIGNER.toLowerCase()), 7, 'signers match whatever their case');
});

t.test('a producer plans inside the transaction that decides it', async (t) => {
  const request = { to: TO, data: '0xabcd' };
  await t.rejects(
    withTransaction(db.pool, async (c) => {
      await planTransaction(new PgOutboxStore(c), { id: 'anchor:rolled-back', chainId: 31337n, signer: SIGNER, request });
      throw new Error('the decision was rolled back');
    }),
  );
  t.equal(await store.get('anchor:rolled-back'), undefined, 'no decision, no transaction');
  const entry = await withTransaction(db.pool, (c) => planTransaction(new PgOutboxStore(c), { id: 'anchor:kept', chainId: 31337n, signer: SIGNER.toLowerCase(), request }));
  t.equal(entry.signer, SIGNER, 'recorded under the checksummed signer');
  t.same(await store.get('anchor:kept'), entry);
  t.same(await planTransaction(store, { id: 'anchor:kept', chainId: 31337n, signer: SIGNER, request }), entry, 'planning again is idempotent');
  const conflict = await planTransaction(store, { id: 'anchor:kept', chainId: 31337n, signer: SIGNER, request: { ...request, value: 1n } }).catch((e: unknown) => e);
  t.ok(isChainError(conflict, 'OUTBOX_CONFLICT'), 'another transaction under a used id is refused');
});

t.test('the lease session commits durably even where the database default does not', async (t) => {
  await db.pool.query(`ALTER DATABASE ${db.name} SET synchronous_commit = off`);
  // A new pool: its sessions start with the database's new default.
  const pool = createPool(db.url, { max: 3 });
  t.teardown(() => pool.end());
  t.equal((await pool.query<{ s: string }>(`SELECT current_setting('synchronous_commit') AS s`)).rows[0]!.s, 'off');
  const lease = await SignerLease.acquire({ pool, chainId: 31337n, signer: SIGNER });
  t.teardown(() => lease.release());
  t.equal((await lease.query<{ s: string }>(`SELECT current_setting('synchronous_commit') AS s`)).rows[0]!.s, 'on', 'the outbox writes through a durable session');
});
