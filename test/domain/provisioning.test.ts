/** The pure part of provisioning: what each OTA outcome means, backoff, progress figures. */
import t from 'tap';
import { batchProgress, batchRefOf, decideStep, MAX_ATTEMPTS, retryDelaySeconds, type OtaOutcome } from '../../provisioning-api/domain/provisioning.js';

const outcome = (o: Partial<OtaOutcome>): OtaOutcome => ({ messageState: 'por-received', porStatus: 0, sw: 0x9000, lastError: null, ...o });

t.test('a PoR OK with 9000 is success; another SW is the card refusing', async (t) => {
  t.same(decideStep(outcome({}), 1), { kind: 'ok' });
  t.match(decideStep(outcome({ sw: 0x6985 }), 1), { kind: 'fail', code: 'CARD_REFUSED', reason: /6985/ });
  t.match(decideStep(outcome({ sw: null }), 1), { kind: 'fail', code: 'MALFORMED_RESPONSE' });
});

t.test('counter low resynchronises and resends at once; security errors stop', async (t) => {
  t.match(decideStep(outcome({ messageState: 'por-error', porStatus: 0x02, sw: null }), 1), { kind: 'retry', resync: true, delaySeconds: 0, reason: /counter-low/ });
  t.match(decideStep(outcome({ messageState: 'por-error', porStatus: 0x02, sw: null }), MAX_ATTEMPTS), { kind: 'fail', code: 'COUNTER_DESYNC' });
  for (const status of [0x01, 0x03, 0x04, 0x05, 0x06, 0x09, 0x0a]) {
    t.match(decideStep(outcome({ messageState: 'por-error', porStatus: status, sw: null }), 1), { kind: 'fail', code: 'POR_SECURITY_ERROR' }, `status ${status}`);
  }
  t.match(decideStep(outcome({ messageState: 'por-error', porStatus: 0x08, sw: null }), 1), { kind: 'retry', resync: false });
  t.match(decideStep(outcome({ messageState: 'por-error', porStatus: 0x07, sw: null }), 1), { kind: 'fail', code: 'POR_ERROR', reason: /insufficient-memory/ });
});

t.test('a missing PoR is retried with growing backoff, then reported', async (t) => {
  const expired = outcome({ messageState: 'expired', porStatus: null, sw: null });
  const delays = [1, 2, 3].map((a) => (decideStep(expired, a) as { delaySeconds: number }).delaySeconds);
  t.same(delays, [5, 20, 80], 'backoff ×4 from 5 s');
  t.match(decideStep(expired, MAX_ATTEMPTS), { kind: 'fail', code: 'NO_POR' });
  t.match(decideStep(expired, 2, { maxAttempts: 2 }), { kind: 'fail', code: 'NO_POR', reason: /2 attempts/ });
  t.match(decideStep(expired, 1, { retryBaseSeconds: 1 }), { kind: 'retry', delaySeconds: 1 });
  t.match(decideStep(outcome({ messageState: 'failed', porStatus: null, sw: null, lastError: 'UNDELIV' }), MAX_ATTEMPTS), { kind: 'fail', code: 'OTA_UNDELIVERABLE', reason: /UNDELIV/ });
  t.equal(retryDelaySeconds(20), 600, 'capped at 10 minutes');
});

t.test('progress adds up and estimates the rest at the rate so far', async (t) => {
  const created = new Date('2026-01-01T00:00:00Z');
  const now = new Date('2026-01-01T00:00:10Z');
  const p = batchProgress({ done: 80, failed: 20, queued: 100 }, created, now, null);
  t.equal(p.total, 200);
  t.equal(p.finished, 100);
  t.equal(p.throughput, 10);
  t.equal(p.estimatedCompletion?.toISOString(), '2026-01-01T00:00:20.000Z');
  t.equal(p.counts['keygen-sent'], 0, 'every state is counted');
  const finished = batchProgress({ done: 200 }, created, new Date('2026-01-01T01:00:00Z'), now);
  t.equal(finished.throughput, 20, 'a finished batch keeps its rate');
  t.equal(finished.estimatedCompletion, null);
});

t.test('the on-chain batch id is the batch UUID as bytes32', async (t) => {
  t.equal(batchRefOf('0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0'), `0x${'0'.repeat(32)}0f1e2d3c4b5a69788796a5b4c3d2e1f0`);
  t.throws(() => batchRefOf('not-a-uuid'));
});
