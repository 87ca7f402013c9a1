/**
 * The outbox against a real anvil: idempotent ids, one ordered nonce queue under load,
 * receipts polled with a timeout, confirmation depth, fee bumps, a nonce taken by someone
 * else, an unfunded signer, reverts refused before a nonce and reverts mined on chain.
 */
import t from 'tap';
import { Wallet, parseEther } from 'ethers';
import {
  ChainError,
  isChainError,
  isRevertWith,
  registryCalls,
} from '../../provisioning-api/chain/index.js';
import { startChain } from '../helpers/anvil.js';

const chain = await startChain();
const provider = chain.connection.provider;
const { registryAddress: at, admin, outsider } = chain;
const accounts = chain.node.accounts;

const transfer = (to: string, value = 1n): { to: string; data: string; value: bigint } => ({ to, data: '0x', value });

async function rejection(promise: Promise<unknown>): Promise<ChainError> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof ChainError) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}

const automine = (on: boolean): Promise<unknown> => provider.send('evm_setAutomine', [on]);

t.test('an id names one transaction', async (t) => {
  const outbox = await chain.outboxFor(accounts[5]!);
  const first = await outbox.submit('pay-1', transfer(outsider.address));
  const again = await outbox.submit('pay-1', transfer(outsider.address));
  t.equal(again.receipt!.hash, first.receipt!.hash, 'the same id returns the same entry');
  t.equal(await provider.getTransactionCount(outbox.address), 1, 'and sends nothing more');
  const conflict = await rejection(outbox.submit('pay-1', transfer(outsider.address, 2n)));
  t.equal(conflict.code, 'OUTBOX_CONFLICT', 'another transaction under a used id is refused');
  const missing = await rejection(outbox.wait('no-such-id'));
  t.equal(missing.code, 'NOT_FOUND');
});

t.test('concurrent sends from one key take consecutive nonces', async (t) => {
  const outbox = await chain.outboxFor(accounts[6]!);
  const count = 40;
  const entries = await Promise.all(
    Array.from({ length: count }, (_, i) => outbox.submit(`burst-${i}`, transfer(outsider.address, BigInt(i + 1)))),
  );
  t.same(
    entries.map((e) => e.nonce),
    Array.from({ length: count }, (_, i) => i),
    'nonces follow submission order, no gap, no reuse',
  );
  t.ok(entries.every((e) => e.state === 'confirmed' && e.receipt!.status === 1), 'all confirmed');
  t.equal(await provider.getTransactionCount(outbox.address), count, 'exactly one transaction each');
  t.equal(new Set(entries.map((e) => e.receipt!.hash)).size, count);
});

t.test('confirmation depth', async (t) => {
  const outbox = await chain.outboxFor(accounts[7]!, { confirmations: 3 });
  const mined = await outbox.submit('deep', transfer(outsider.address), { until: 'mined' });
  t.equal(mined.state, 'mined', 'mined but not yet 3 deep');
  const confirmed = outbox.wait('deep', 'confirmed', 10_000);
  await provider.send('anvil_mine', ['0x2']);
  const entry = await confirmed;
  t.equal(entry.state, 'confirmed', 'confirmed once two more blocks are on top');
  t.ok((await provider.getBlockNumber()) - entry.receipt!.blockNumber + 1 >= 3);
});

t.test('receipts are polled with a timeout; the entry is still tracked after it', async (t) => {
  const outbox = await chain.outboxFor(accounts[8]!);
  await automine(false);
  t.teardown(() => automine(true));
  const sent = await outbox.submit('slow', transfer(outsider.address), { until: 'sent' });
  t.equal(sent.state, 'sent');
  const timeout = await rejection(outbox.wait('slow', 'mined', 400));
  t.equal(timeout.code, 'TIMEOUT');
  t.match(timeout.details, { id: 'slow', state: 'sent', hash: sent.attempts[0]!.hash });
  await provider.send('evm_mine', []);
  const done = await outbox.wait('slow', 'confirmed', 10_000);
  t.equal(done.receipt!.hash, sent.attempts[0]!.hash);
});

t.test('a stuck transaction is replaced with higher fees, same nonce', async (t) => {
  const outbox = await chain.outboxFor(accounts[9]!);
  await automine(false);
  t.teardown(() => automine(true));
  const sent = await outbox.submit('stuck', transfer(outsider.address), { until: 'sent' });
  const bumped = await outbox.bump('stuck');
  t.equal(bumped.attempts.length, 2);
  const [a, b] = bumped.attempts;
  t.ok(b!.maxFeePerGas! >= (a!.maxFeePerGas! * 125n) / 100n, 'max fee up by at least 25 %');
  t.ok(b!.maxPriorityFeePerGas! > a!.maxPriorityFeePerGas!, 'tip up');
  await provider.send('evm_mine', []);
  const done = await outbox.wait('stuck', 'confirmed', 10_000);
  t.equal(done.nonce, sent.nonce);
  t.equal(done.receipt!.hash, b!.hash, 'the bumped attempt was mined');
  t.equal(await provider.getTransaction(a!.hash), null, 'the first attempt is gone from the node');
  t.equal(await provider.getTransactionCount(outbox.address), sent.nonce! + 1, 'one transaction for the nonce');
});

t.test('automatic bumps after bumpAfterMs', async (t) => {
  const key = Wallet.createRandom();
  await admin.outbox.submit('fund-bumper', transfer(key.address, parseEther('1')));
  const outbox = await chain.outboxFor({ address: key.address, privateKey: key.privateKey }, { bumpAfterMs: 150 });
  await automine(false);
  t.teardown(() => automine(true));
  await outbox.submit('auto', transfer(outsider.address), { until: 'sent' });
  await new Promise((r) => setTimeout(r, 700));
  const inFlight = outbox.inFlight().find((e) => e.id === 'auto')!;
  t.ok(inFlight.attempts.length >= 2, `bumped ${inFlight.attempts.length - 1} times`);
  await provider.send('evm_mine', []);
  const done = await outbox.wait('auto', 'confirmed', 10_000);
  // The timer may sign one more bump between the mining and the outbox seeing the receipt:
  // what was mined is a bumped attempt the outbox recorded, and the nonce holds one transaction.
  const mined = done.attempts.findIndex((a) => a.hash === done.receipt!.hash);
  t.ok(mined >= 1, `a bumped attempt was mined (attempt ${mined + 1} of ${done.attempts.length})`);
  t.equal(await provider.getTransactionCount(outbox.address), done.nonce! + 1, 'one transaction for the nonce');
});

t.test('a nonce taken by another transaction of the same key: replaced', async (t) => {
  const key = Wallet.createRandom();
  await admin.outbox.submit('fund-replaced', transfer(key.address, parseEther('1')));
  const outbox = await chain.outboxFor({ address: key.address, privateKey: key.privateKey }, { bumpAfterMs: null });
  await automine(false);
  t.teardown(() => automine(true));
  const sent = await outbox.submit('mine', transfer(outsider.address), { until: 'sent' });
  const ours = sent.attempts[0]!;
  // Someone else with the same key (another process, a wallet) sends nonce 0 with higher fees.
  const intruder = key.connect(provider);
  await intruder.sendTransaction({
    to: admin.address,
    value: 5n,
    nonce: sent.nonce!,
    gasLimit: 21_000n,
    maxFeePerGas: ours.maxFeePerGas! * 2n,
    maxPriorityFeePerGas: ours.maxPriorityFeePerGas! * 2n,
  });
  await provider.send('evm_mine', []);
  const error = await rejection(outbox.wait('mine', 'confirmed', 10_000));
  t.equal(error.code, 'REPLACED');
  const next = await outbox.submit('after', transfer(outsider.address), { until: 'sent' });
  t.equal(next.nonce, sent.nonce! + 1, 'the next transaction takes the next nonce');
  await provider.send('evm_mine', []);
  await outbox.wait('after', 'confirmed', 10_000);
});

t.test('an unfunded signer waits, holding no nonce, until funded', async (t) => {
  const key = Wallet.createRandom();
  const outbox = await chain.outboxFor({ address: key.address, privateKey: key.privateKey });
  const timeout = await rejection(outbox.submit('poor', transfer(outsider.address), { timeoutMs: 600 }));
  t.equal(timeout.code, 'TIMEOUT');
  t.ok(isChainError(timeout.cause, 'INSUFFICIENT_FUNDS'), `the cause says why (${String((timeout.cause as Error)?.message)})`);
  t.equal(outbox.inFlight()[0]!.state, 'planned');
  t.equal(outbox.inFlight()[0]!.nonce, null);
  await admin.outbox.submit('fund-poor', transfer(key.address, parseEther('1')));
  const done = await outbox.wait('poor', 'confirmed', 20_000);
  t.equal(done.nonce, 0);
});

t.test('a call that would revert is refused before it takes a nonce', async (t) => {
  const outbox = outsider.outbox;
  const before = await provider.getTransactionCount(outbox.address);
  const error = await rejection(outbox.submit('unauthorised', registryCalls.revokeBatch(at, `0x${'01'.repeat(32)}`)));
  t.ok(isRevertWith(error, 'AccessControlUnauthorizedAccount'), error.message);
  const entry = (await rejection(outbox.wait('unauthorised'))).details;
  t.match(entry, { id: 'unauthorised', state: 'failed' });
  const ok = await outbox.submit('fine', transfer(admin.address));
  t.equal(ok.nonce, before, 'the refused call left no gap');
});

t.test('a revert mined on chain fails the entry with its decoded reason', async (t) => {
  const outbox = outsider.outbox;
  const nonce = await provider.getTransactionCount(outbox.address);
  // A fixed gas limit skips the simulation, so the transaction reaches a block and reverts there.
  const error = await rejection(outbox.submit('mined-revert', { ...registryCalls.revokeBatch(at, `0x${'01'.repeat(32)}`), gasLimit: 100_000n }));
  t.equal(error.code, 'REVERTED');
  t.ok(isRevertWith(error, 'AccessControlUnauthorizedAccount'), `decoded by replaying the call: ${error.message}`);
  const entry = (await outbox.wait('mined-revert').catch((e: ChainError) => e.details)) as Record<string, unknown>;
  t.equal(entry.state, 'failed');
  t.equal(await provider.getTransactionCount(outbox.address), nonce + 1, 'the reverted transaction spent its nonce');
});

t.test('close() ends waiting with CLOSED', async (t) => {
  const outbox = await chain.outboxFor(accounts[4]!);
  await automine(false);
  t.teardown(() => automine(true));
  // The handler is attached at once: close() rejects the waiter before it returns.
  const pending = rejection(outbox.submit('never', transfer(outsider.address)));
  await new Promise((r) => setTimeout(r, 200));
  await outbox.close();
  const error = await pending;
  t.equal(error.code, 'CLOSED');
  const late = await rejection(outbox.submit('later', transfer(outsider.address)));
  t.equal(late.code, 'CLOSED');
  await provider.send('evm_mine', []);
});
