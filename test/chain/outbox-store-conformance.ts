/**
 * What every OutboxStore must do for the outbox engine (see outbox-store.ts), as one suite to
 * run against each implementation: the in-memory one (outbox-store.test.ts) and the PostgreSQL
 * one (pg-outbox-store.test.ts).
 */
import t from 'tap';
import { applyOutboxEvent, planEntry, type OutboxEntry, type OutboxStore } from '../../provisioning-api/chain/index.js';

const SIGNER = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266';
const OTHER = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';

function entry(id: string, now: number, signer = SIGNER, chainId = 31337n): OutboxEntry {
  return planEntry({ id, chainId, signer, intent: { to: OTHER, data: '0x01', value: 5n, gasLimit: null }, now });
}

function sign(e: OutboxEntry, nonce: number): OutboxEntry {
  const hash = `0x${nonce.toString(16).padStart(64, '0')}`;
  return applyOutboxEvent(
    e,
    { type: 'signed', nonce, attempt: { hash, raw: '0x02', gasLimit: 21_000n, maxFeePerGas: 3n, maxPriorityFeePerGas: 1n, gasPrice: null, signedAt: 1 } },
    e.updatedAt + 1,
  );
}

export function outboxStoreConformance(name: string, makeStore: () => Promise<OutboxStore>): void {
  t.test(`${name}: insert is idempotent on id`, async (t) => {
    const store = await makeStore();
    const first = entry('a', 1);
    t.same(await store.insert(first), first);
    const second = { ...entry('a', 2), intent: { ...first.intent, value: 6n } };
    t.same(await store.insert(second), first, 'the first entry stays and is returned');
    t.same(await store.get('a'), first);
    t.equal(await store.get('nope'), undefined);
  });

  t.test(`${name}: update is a compare-and-set on version`, async (t) => {
    const store = await makeStore();
    const planned = await store.insert(entry('b', 1));
    const sent = sign(planned, 0);
    t.equal(await store.update(sent), true);
    t.same(await store.get('b'), sent, 'bigints and nulls come back as they went in');
    t.equal(await store.update(sent), false, 'the same version twice');
    t.equal(await store.update(sign(planned, 1)), false, 'a stale writer loses');
    t.equal(await store.update({ ...sent, id: 'missing', version: 2 }), false, 'no such entry');
  });

  t.test(`${name}: unfinished and highestNonce per signer and chain`, async (t) => {
    const store = await makeStore();
    t.equal(await store.highestNonce(31337n, SIGNER), undefined);
    const p1 = await store.insert(entry('p1', 10));
    const p2 = await store.insert(entry('p2', 5));
    const s3 = sign(await store.insert(entry('s3', 1)), 3);
    await store.update(s3);
    const s1 = sign(await store.insert(entry('s1', 2)), 1);
    await store.update(s1);
    const done = sign(await store.insert(entry('done', 3)), 0);
    await store.update(done);
    await store.update(applyOutboxEvent(done, { type: 'replaced' }, 9));
    const refused = sign(await store.insert(entry('refused', 4)), 9);
    await store.update(refused);
    await store.update(applyOutboxEvent(refused, { type: 'refused', failure: { code: 'INSUFFICIENT_FUNDS', message: 'x', revert: null } }, 9));
    await store.insert(entry('other-signer', 1, OTHER));
    await store.update(sign((await store.get('other-signer'))!, 50));
    await store.insert(entry('other-chain', 1, SIGNER, 1n));
    await store.update(sign((await store.get('other-chain'))!, 60));

    t.same(
      (await store.unfinished(31337n, SIGNER)).map((e) => e.id),
      ['s1', 's3', p2.id, p1.id],
      'by nonce, then planned by creation; final entries and other signers and chains left out',
    );
    t.equal(await store.highestNonce(31337n, SIGNER), 3, 'a final entry counts, a refused one (nonce null) does not');
    t.equal(await store.highestNonce(31337n, OTHER), 50);
    t.equal(await store.highestNonce(1n, SIGNER), 60);
  });
}
