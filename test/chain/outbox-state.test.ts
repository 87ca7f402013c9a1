/**
 * The outbox's pure state machine: each transition, each refusal, and properties over random
 * event sequences (final states absorb, versions count every change, a nonce once taken stays
 * unless the node refused the only attempt, the table of transitions is the truth).
 */
import t from 'tap';
import fc from 'fast-check';
import {
  ChainError,
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
  type MinedReceipt,
  type OutboxEntry,
  type OutboxEvent,
  type TxAttempt,
} from '../../provisioning-api/chain/index.js';

const intent = { to: '0x5FbDB2315678afecb367f032d93F642f64180aa3', data: '0xabcdef', value: 0n, gasLimit: null };
const planned = planEntry({ id: 'anchor:1', chainId: 31337n, signer: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266', intent, now: 1000 });

const attempt = (n: number): TxAttempt => ({
  hash: `0x${n.toString(16).padStart(64, '0')}`,
  raw: `0x02${n.toString(16).padStart(8, '0')}`,
  gasLimit: 100_000n,
  maxFeePerGas: 3_000_000_000n + BigInt(n),
  maxPriorityFeePerGas: 1_000_000_000n,
  gasPrice: null,
  signedAt: 1000 + n,
});

const receipt = (hash: string, status: 0 | 1, blockNumber = 10): MinedReceipt => ({
  hash,
  blockNumber,
  blockHash: `0x${'bb'.repeat(32)}`,
  status,
  gasUsed: 80_000n,
  effectiveGasPrice: 2_000_000_000n,
  contractAddress: null,
});

const failure = { code: 'REVERTED' as const, message: 'reverted', revert: { kind: 'custom' as const, name: 'EmptyRoot', signature: 'EmptyRoot()', selector: '0x53ce4ece', args: {} } };

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof ChainError ? e.code : 'not a ChainError';
  }
  return undefined;
}

t.test('the happy path: planned → sent → mined → confirmed', async (t) => {
  const sent = applyOutboxEvent(planned, { type: 'signed', nonce: 7, attempt: attempt(1) }, 2000);
  t.match(sent, { state: 'sent', nonce: 7, version: 2, updatedAt: 2000, createdAt: 1000 });
  t.equal(planned.state, 'planned', 'the input is not modified');
  const bumped = applyOutboxEvent(sent, { type: 'bumped', attempt: attempt(2) }, 3000);
  t.equal(bumped.attempts.length, 2);
  t.equal(bumped.state, 'sent');
  const mined = applyOutboxEvent(bumped, { type: 'included', receipt: receipt(attempt(1).hash, 1) }, 4000);
  t.equal(mined.state, 'mined', 'any attempt may be the one mined');
  t.equal(code(() => applyOutboxEvent(mined, { type: 'confirmed', head: 11, depth: 3 }, 5000)), 'INVALID_TRANSITION', 'not deep enough');
  const confirmed = applyOutboxEvent(mined, { type: 'confirmed', head: 12, depth: 3 }, 5000);
  t.match(confirmed, { state: 'confirmed', version: 5 });
  t.ok(isFinal(confirmed.state));
});

t.test('reorg, revert, refusal, replacement', async (t) => {
  const sent = applyOutboxEvent(planned, { type: 'signed', nonce: 0, attempt: attempt(1) }, 2);
  const mined = applyOutboxEvent(sent, { type: 'included', receipt: receipt(attempt(1).hash, 1) }, 3);
  const back = applyOutboxEvent(mined, { type: 'reorged' }, 4);
  t.match(back, { state: 'sent', receipt: null, nonce: 0 }, 'a reorg sends it back to waiting, same nonce');

  const reverted = applyOutboxEvent(sent, { type: 'reverted', receipt: receipt(attempt(1).hash, 0), failure }, 3);
  t.match(reverted, { state: 'failed', nonce: 0, failure }, 'a mined revert keeps its nonce: it was spent');

  const refusedPlan = applyOutboxEvent(planned, { type: 'refused', failure }, 2);
  t.match(refusedPlan, { state: 'failed', nonce: null });
  const refusedSend = applyOutboxEvent(sent, { type: 'refused', failure: { ...failure, code: 'INSUFFICIENT_FUNDS' } }, 3);
  t.match(refusedSend, { state: 'failed', nonce: null }, 'a refused first attempt gives its nonce back');
  const bumped = applyOutboxEvent(sent, { type: 'bumped', attempt: attempt(2) }, 3);
  t.equal(code(() => applyOutboxEvent(bumped, { type: 'refused', failure }, 4)), 'INVALID_TRANSITION', 'not after a bump: an older attempt may still be mined');

  const replaced = applyOutboxEvent(sent, { type: 'replaced' }, 3);
  t.match(replaced, { state: 'replaced', failure: { code: 'REPLACED' } });
  t.equal(entryError(replaced).code, 'REPLACED');
  t.equal(entryError(reverted).code, 'REVERTED');
  t.match(entryError(reverted).revert, { name: 'EmptyRoot' });
});

t.test('refusals', async (t) => {
  const sent = applyOutboxEvent(planned, { type: 'signed', nonce: 0, attempt: attempt(1) }, 2);
  t.equal(code(() => applyOutboxEvent(sent, { type: 'signed', nonce: 1, attempt: attempt(2) }, 3)), 'INVALID_TRANSITION', 'signed twice');
  t.equal(code(() => applyOutboxEvent(planned, { type: 'signed', nonce: -1, attempt: attempt(1) }, 3)), 'INVALID_TRANSITION', 'negative nonce');
  t.equal(code(() => applyOutboxEvent(sent, { type: 'included', receipt: receipt(attempt(9).hash, 1) }, 3)), 'INVALID_TRANSITION', 'a receipt of a stranger');
  t.equal(code(() => applyOutboxEvent(sent, { type: 'included', receipt: receipt(attempt(1).hash, 0) }, 3)), 'INVALID_TRANSITION', 'included with status 0');
  t.equal(code(() => applyOutboxEvent(sent, { type: 'reverted', receipt: receipt(attempt(1).hash, 1), failure }, 3)), 'INVALID_TRANSITION', 'reverted with status 1');
  t.equal(code(() => applyOutboxEvent(planned, { type: 'included', receipt: receipt(attempt(1).hash, 1) }, 3)), 'INVALID_TRANSITION', 'mined before sent');
  t.equal(code(() => applyOutboxEvent(planned, { type: 'reorged' }, 3)), 'INVALID_TRANSITION');
});

t.test('confirmationsAt counts the mining block as one', async (t) => {
  const r = receipt('0x01', 1, 100);
  t.equal(confirmationsAt(r, 99), 0);
  t.equal(confirmationsAt(r, 100), 1);
  t.equal(confirmationsAt(r, 111), 12);
});

t.test('sameIntent ignores address and hex case only', async (t) => {
  t.ok(sameIntent(intent, { ...intent, to: intent.to.toLowerCase(), data: '0xABCDEF' }));
  t.notOk(sameIntent(intent, { ...intent, value: 1n }));
  t.notOk(sameIntent(intent, { ...intent, gasLimit: 21_000n }));
  t.notOk(sameIntent(intent, { ...intent, to: null }));
});

t.test('JSON round trip keeps bigints', async (t) => {
  const sent = applyOutboxEvent(planned, { type: 'signed', nonce: 3, attempt: attempt(1) }, 2);
  const mined = applyOutboxEvent(sent, { type: 'included', receipt: receipt(attempt(1).hash, 1) }, 3);
  const json = JSON.parse(JSON.stringify(entryToJson(mined))) as unknown;
  t.same(entryFromJson(json), mined);
  const failed = applyOutboxEvent(planned, { type: 'refused', failure }, 2);
  t.same(entryFromJson(JSON.parse(JSON.stringify(entryToJson(failed)))), failed);
});

// Random event sequences: whatever is thrown at the machine, its invariants hold.
const eventArb: fc.Arbitrary<OutboxEvent> = fc.oneof(
  fc.record({ type: fc.constant('signed' as const), nonce: fc.integer({ min: 0, max: 5 }), attempt: fc.integer({ min: 1, max: 4 }).map(attempt) }),
  fc.record({ type: fc.constant('bumped' as const), attempt: fc.integer({ min: 1, max: 4 }).map(attempt) }),
  fc.record({ type: fc.constant('included' as const), receipt: fc.integer({ min: 1, max: 4 }).map((n) => receipt(attempt(n).hash, 1)) }),
  fc.record({ type: fc.constant('reverted' as const), receipt: fc.integer({ min: 1, max: 4 }).map((n) => receipt(attempt(n).hash, 0)), failure: fc.constant(failure) }),
  fc.record({ type: fc.constant('refused' as const), failure: fc.constant(failure) }),
  fc.constant({ type: 'replaced' as const }),
  fc.constant({ type: 'reorged' as const }),
  fc.record({ type: fc.constant('confirmed' as const), head: fc.integer({ min: 0, max: 20 }), depth: fc.integer({ min: 1, max: 5 }) }),
);

t.test('properties over random event sequences', async (t) => {
  fc.assert(
    fc.property(fc.array(eventArb, { maxLength: 30 }), (events) => {
      let entry: OutboxEntry = planned;
      let changes = 0;
      for (const [i, event] of events.entries()) {
        let next: OutboxEntry;
        try {
          next = applyOutboxEvent(entry, event, 2000 + i);
        } catch (e) {
          if (!(e instanceof ChainError) || e.code !== 'INVALID_TRANSITION') throw e;
          continue;
        }
        changes++;
        if (isFinal(entry.state)) throw new Error(`left final state ${entry.state}`);
        if (!OUTBOX_TRANSITIONS[entry.state].includes(next.state)) throw new Error(`${entry.state} → ${next.state} is not in the table`);
        if (next.version !== entry.version + 1) throw new Error('version must count changes');
        if (entry.nonce !== null && next.nonce !== entry.nonce && !(event.type === 'refused')) throw new Error('a taken nonce changed');
        if ((next.state === 'mined' || next.state === 'confirmed') && next.receipt?.status !== 1) throw new Error('mined without a successful receipt');
        if (next.receipt !== null && !next.attempts.some((a) => a.hash === next.receipt!.hash)) throw new Error('a receipt of no attempt');
        entry = next;
      }
      if (entry.version !== 1 + changes) throw new Error('version drift');
    }),
    { numRuns: 2000 },
  );
  t.pass('invariants hold');
});

t.test('the table lists every state, and final states have no way out', async (t) => {
  t.same(Object.keys(OUTBOX_TRANSITIONS).sort(), [...OUTBOX_STATES].sort());
  for (const s of OUTBOX_STATES) t.equal(OUTBOX_TRANSITIONS[s].length === 0, isFinal(s), s);
});
