/**
 * The chain layer's error registry: revert data decoded (custom errors of every contract,
 * Error(string), Panic), node and transport errors classified under stable codes, and the
 * provider's refusal of a wrong chain or an absent node.
 */
import { createServer } from 'node:net';
import t from 'tap';
import { AbiCoder, id, makeError } from 'ethers';
import { DeviceRegistry__factory } from '../../contracts/index.js';
import {
  CHAIN_ERROR_CODES,
  ChainError,
  connectChain,
  decodeRevert,
  describeRevert,
  isChainError,
  isRevertWith,
  toChainError,
} from '../../provisioning-api/chain/index.js';
import { startAnvil } from '../../simulators/chain/index.js';

const coder = AbiCoder.defaultAbiCoder();
const registry = DeviceRegistry__factory.createInterface();

t.test('custom errors of the project contracts, with named arguments', async (t) => {
  const [ref, root] = [`0x${'ab'.repeat(32)}`, `0x${'cd'.repeat(32)}`];
  const data = registry.encodeErrorResult('BatchRefConflict', [ref, root, 7]);
  const r = decodeRevert(data);
  t.same(r, {
    kind: 'custom',
    name: 'BatchRefConflict',
    signature: 'BatchRefConflict(bytes32,bytes32,uint32)',
    selector: id('BatchRefConflict(bytes32,bytes32,uint32)').slice(0, 10),
    args: { batchRef: ref, root, leafCount: '7' },
  });
  t.equal(describeRevert(r), `BatchRefConflict("${ref}", "${root}", "7")`);
  t.match(decodeRevert(registry.encodeErrorResult('AccessControlUnauthorizedAccount', [`0x${'11'.repeat(20)}`, id('X')])), {
    kind: 'custom',
    name: 'AccessControlUnauthorizedAccount',
  });
  t.match(decodeRevert(registry.encodeErrorResult('EmptyRoot', [])), { kind: 'custom', name: 'EmptyRoot', args: {} });
});

t.test('Error(string), Panic(uint256), unknown and empty data', async (t) => {
  t.same(decodeRevert('0x08c379a0' + coder.encode(['string'], ['nope']).slice(2)), { kind: 'error', message: 'nope' });
  t.same(decodeRevert('0x4e487b71' + coder.encode(['uint256'], [0x11]).slice(2)), { kind: 'panic', code: 0x11, reason: 'arithmetic overflow or underflow' });
  t.same(decodeRevert('0xdeadbeef'), { kind: 'unknown', data: '0xdeadbeef' });
  t.same(decodeRevert('0x08c379a0ff'), { kind: 'unknown', data: '0x08c379a0ff' }, 'a known selector with bad data');
  t.same(decodeRevert('0x'), { kind: 'empty' });
  t.same(decodeRevert(null), { kind: 'empty' });
});

t.test('ethers errors map to stable codes', async (t) => {
  const revert = makeError('execution reverted', 'CALL_EXCEPTION', {
    action: 'estimateGas',
    data: registry.encodeErrorResult('UnknownBatch', [`0x${'03'.repeat(32)}`]),
    reason: null,
    transaction: { to: null, data: '0x' },
    invocation: null,
    revert: null,
  });
  const e = toChainError(revert, 'estimateGas', { id: 'x' });
  t.ok(isRevertWith(e, 'UnknownBatch'));
  t.match(e.details, { action: 'estimateGas', id: 'x' });
  t.equal(e.cause, revert, 'the original error is kept as cause');

  t.equal(toChainError(makeError('funds', 'INSUFFICIENT_FUNDS', { transaction: {} }), 'x').code, 'INSUFFICIENT_FUNDS');
  t.equal(toChainError(makeError('nonce', 'NONCE_EXPIRED', { transaction: {} }), 'x').code, 'REPLACED');
  t.equal(toChainError(makeError('net', 'NETWORK_ERROR', { event: 'x' }), 'x').code, 'NETWORK_ERROR');
  t.equal(toChainError(new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED') }), 'x').code, 'NETWORK_ERROR');
  t.equal(toChainError(Object.assign(new Error('could not coalesce'), { error: { message: 'intrinsic gas too low' } }), 'x').code, 'TX_REFUSED');
  t.equal(toChainError(new Error('something else'), 'x').code, 'RPC_ERROR');
  const already = new ChainError('TIMEOUT', 'slow');
  t.equal(toChainError(already, 'x'), already, 'a ChainError passes through');
  t.ok(isChainError(already, 'TIMEOUT'));
  t.notOk(isChainError(new Error('x')));
  t.equal(new Set(CHAIN_ERROR_CODES).size, CHAIN_ERROR_CODES.length, 'codes are unique');
});

t.test('connectChain: a wrong chain id and an absent node are refused', async (t) => {
  const node = await startAnvil({ chainId: 4242 });
  t.teardown(() => node.stop());
  const ok = await connectChain(node.rpcUrl, { expectedChainId: 4242n });
  t.equal(ok.chainId, 4242n);
  t.equal((await ok.provider.getNetwork()).chainId, 4242n);
  const mismatch = await connectChain(node.rpcUrl, { expectedChainId: 1n }).catch((e: unknown) => e);
  t.ok(isChainError(mismatch, 'CHAIN_MISMATCH'), String(mismatch));

  // A port nobody listens on: taken from the OS, then closed.
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  const absent = await connectChain(`http://127.0.0.1:${port}`, { readyTimeoutMs: 300 }).catch((e: unknown) => e);
  t.ok(isChainError(absent, 'NETWORK_ERROR'), String(absent));
});
