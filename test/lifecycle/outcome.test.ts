/**
 * What a lifecycle action's OTA message and chain transaction say, judged without I/O: the
 * card's PoR and status words (with GET STATUS answers from a real card model), the registry's
 * reverts that mean "already there", the compensation table and the check delays.
 */
import t from 'tap';
import { encodeCompactResponse, getStatusApdu, lockApdu, terminateApdu } from '../../sim-applet/index.js';
import { planEntry, type OutboxEntry } from '../../provisioning-api/chain/index.js';
import { checkDelaySeconds, deviceStatusOf, judgeCard, judgeChain, resendDelaySeconds, type ObservedOtaMessage } from '../../provisioning-api/lifecycle/index.js';
import { CARD_LIFECYCLE_AFTER, compensationOf } from '../../provisioning-api/domain/sim-lifecycle.js';
import { operationalCard, ota, plain } from '../helpers/applet.js';

const por = (sw: number, data: Uint8Array = new Uint8Array(0)): ObservedOtaMessage => ({
  state: 'por-received', porStatus: 0, porData: encodeCompactResponse({ executed: 1, sw, data }), lastError: null,
});

function statusOfCard(lifecycle: 'operational' | 'locked' | 'terminated'): Uint8Array {
  const { card } = operationalCard({ identity: false });
  if (lifecycle === 'locked') ota(card, [lockApdu()]);
  if (lifecycle === 'terminated') ota(card, [terminateApdu()]);
  return plain(card, getStatusApdu()).data;
}

t.test('the card: PoR, status words, probes', async (t) => {
  for (const state of ['queued', 'submitted', 'delivered'] as const) {
    t.same(judgeCard({ state, porStatus: null, porData: null, lastError: null }, 'command', 'LOCK', 'locked'), { kind: 'wait' }, `${state}: wait`);
  }
  t.same(judgeCard(por(0x9000), 'command', 'LOCK', 'locked'), { kind: 'confirmed', how: 'LOCK answered 9000 (OK)' });
  t.match(judgeCard(por(0x6985), 'command', 'LOCK', 'locked'), { kind: 'probe', purpose: 'probe-refused' }, '6985: ask the card why');
  t.match(judgeCard(por(0x6982), 'command', 'LOCK', 'locked'), { kind: 'refused', reason: /6982/ }, 'any other SW is a refusal');
  t.match(judgeCard({ state: 'por-error', porStatus: 0x06, porData: null, lastError: null }, 'command', 'LOCK', 'locked'),
    { kind: 'refused', reason: /0x06 \(undefined-security-error\)/ }, 'a PoR error is reported as what it is');
  t.match(judgeCard({ state: 'expired', porStatus: null, porData: null, lastError: 'no PoR before expires_at' }, 'command', 'LOCK', 'locked'),
    { kind: 'probe', purpose: 'probe-lost', why: /expired: no PoR/ }, 'a lost PoR: the command may have run, probe first');
  t.match(judgeCard({ state: 'failed', porStatus: null, porData: null, lastError: 'refused' }, 'probe-lost', 'LOCK', 'locked'),
    { kind: 'resend-probe' }, 'a lost probe is sent again');
  t.match(judgeCard({ state: 'por-received', porStatus: 0, porData: null, lastError: null }, 'command', 'LOCK', 'locked'),
    { kind: 'probe', purpose: 'probe-lost' }, 'a PoR without the response says nothing');

  const locked = statusOfCard('locked');
  const operational = statusOfCard('operational');
  t.match(judgeCard(por(0x9000, locked), 'probe-refused', 'LOCK', 'locked'), { kind: 'confirmed', how: 'GET STATUS: the card is locked' },
    'LOCK refused by a card already locked: done');
  t.match(judgeCard(por(0x9000, locked), 'probe-lost', 'LOCK', 'locked'), { kind: 'confirmed' });
  t.match(judgeCard(por(0x9000, operational), 'probe-lost', 'LOCK', 'locked'), { kind: 'send-command' }, 'the lost LOCK never ran: send it');
  t.match(judgeCard(por(0x9000, operational), 'probe-refused', 'UNLOCK', 'operational'), { kind: 'confirmed' });
  t.match(judgeCard(por(0x9000, statusOfCard('terminated')), 'probe-refused', 'LOCK', 'locked'),
    { kind: 'refused', reason: /the card is terminated: LOCK is not allowed/ });
  t.match(judgeCard(por(0x9000, Uint8Array.of(1, 2, 3)), 'probe-refused', 'LOCK', 'locked'), { kind: 'refused', reason: /not a status template/ });
  t.match(judgeCard(por(0x6d00), 'probe-lost', 'LOCK', 'locked'), { kind: 'refused', reason: /GET STATUS with 6D00/ });
});

function entry(changes: Partial<OutboxEntry>): OutboxEntry {
  const e = planEntry({ id: 'j:setStatus', chainId: 31337n, signer: '0x' + '11'.repeat(20), intent: { to: '0x' + '22'.repeat(20), data: '0x', value: 0n, gasLimit: null }, now: 0 });
  return { ...e, ...changes };
}
const receipt = { hash: '0x' + 'ab'.repeat(32), blockNumber: 7, blockHash: '0x' + 'cd'.repeat(32), status: 1 as const, gasUsed: 1n, effectiveGasPrice: 1n, contractAddress: null };
const reverted = (name: string, args: Record<string, string>) =>
  entry({ state: 'failed', failure: { code: 'REVERTED', message: 'reverted', revert: { kind: 'custom', name, signature: `${name}()`, selector: '0x00000000', args } } });

t.test('the chain: confirmed, already there, failed', async (t) => {
  t.same(judgeChain(entry({}), 'Suspended'), { kind: 'wait', state: 'planned' });
  t.same(judgeChain(entry({ state: 'mined', receipt }), 'Suspended'), { kind: 'wait', state: 'mined' }, 'mined is not yet confirmed');
  t.match(judgeChain(entry({ state: 'confirmed', receipt }), 'Suspended'), { kind: 'confirmed', txHash: receipt.hash, blockNumber: 7 });
  t.match(judgeChain(reverted('StatusUnchanged', { device: '0x', status: '1' }), 'Suspended'), { kind: 'confirmed', how: /already was Suspended/ });
  t.match(judgeChain(reverted('StatusUnchanged', { device: '0x', status: '0' }), 'Suspended'), { kind: 'failed' }, 'unchanged at another status is a failure');
  t.match(judgeChain(reverted('DeviceIsRevoked', { device: '0x' }), 'Revoked'), { kind: 'confirmed', how: /already was Revoked/ });
  t.match(judgeChain(reverted('DeviceIsRevoked', { device: '0x' }), 'Active'), { kind: 'failed', reason: /setStatus\(Active\) failed: DeviceIsRevoked/ });
  t.match(judgeChain(entry({ state: 'replaced', failure: { code: 'REPLACED', message: 'nonce 3 was used by another transaction', revert: null } }), 'Active'),
    { kind: 'failed', reason: /was replaced: nonce 3/ });
  t.match(judgeChain(undefined, 'Active'), { kind: 'failed' });
});

t.test('compensation, names and delays', async (t) => {
  t.same(compensationOf('active', 'suspend'), { ota: 'UNLOCK', chainStatus: 'active' });
  t.same(compensationOf('suspended', 'resume'), { ota: 'LOCK', chainStatus: 'suspended' });
  t.equal(compensationOf('active', 'terminate'), null, 'terminate is final on both sides');
  t.equal(compensationOf('inventory', 'terminate'), null);
  t.same(CARD_LIFECYCLE_AFTER, { LOCK: 'locked', UNLOCK: 'operational', TERMINATE: 'terminated' });
  t.equal(deviceStatusOf('suspended'), 'Suspended');
  t.same([0, 1, 2, 3, 4, 5, 6, 7, 20].map(checkDelaySeconds), [1, 1, 2, 3, 5, 7, 11, 15, 15]);
  t.same([1, 2, 3, 4, 7, 8, 30].map(resendDelaySeconds), [1, 2, 4, 8, 60, 60, 60]);
});
