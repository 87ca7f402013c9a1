/**
 * The JSON-RPC provider, configured against what PITFALLS.md (Chain) found with ethers v6:
 * its default provider caches identical requests for 250 ms (back-to-back sends then read a
 * stale nonce) and batches requests. Here every request goes to the node on its own, the
 * chain id is fixed once at connection, and each request times out.
 */
import { FetchRequest, JsonRpcProvider, Network } from 'ethers';
import { ChainError, toChainError } from './errors.js';

export interface ChainConnection {
  provider: JsonRpcProvider;
  chainId: bigint;
  url: string;
}

export interface ConnectOptions {
  /** Refuse a node that serves another chain. */
  expectedChainId?: bigint;
  /** How long to keep trying the first request while the node starts (default 10 s). */
  readyTimeoutMs?: number;
  /** Timeout of each request (default 30 s). */
  requestTimeoutMs?: number;
  /** Poll interval of ethers' own subscriptions, unused by this layer (default 1 s). */
  pollingIntervalMs?: number;
}

async function fetchChainId(url: string, timeoutMs: number): Promise<bigint> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const body = (await res.json()) as { result?: unknown; error?: { message?: string } };
  if (typeof body.result !== 'string') throw new Error(body.error?.message ?? `no chain id from ${url}`);
  return BigInt(body.result);
}

/** A provider for the node at `url`, after one successful `eth_chainId`. */
export async function connectChain(url: string, options: ConnectOptions = {}): Promise<ChainConnection> {
  const deadline = Date.now() + (options.readyTimeoutMs ?? 10_000);
  const requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  let chainId: bigint | undefined;
  let lastError: unknown;
  while (chainId === undefined) {
    try {
      chainId = await fetchChainId(url, Math.min(requestTimeoutMs, 5_000));
    } catch (e) {
      lastError = e;
      if (Date.now() >= deadline) {
        throw new ChainError('NETWORK_ERROR', `no chain node answers at ${url}`, { details: { url }, cause: lastError });
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  if (options.expectedChainId !== undefined && options.expectedChainId !== chainId) {
    throw new ChainError('CHAIN_MISMATCH', `the node at ${url} serves chain ${chainId}, not ${options.expectedChainId}`, {
      details: { url, chainId: chainId.toString(), expected: options.expectedChainId.toString() },
    });
  }
  const request = new FetchRequest(url);
  request.timeout = requestTimeoutMs;
  const provider = new JsonRpcProvider(request, Network.from(chainId), {
    staticNetwork: true,
    cacheTimeout: -1,
    batchMaxCount: 1,
    pollingInterval: options.pollingIntervalMs ?? 1_000,
  });
  return { provider, chainId, url };
}

/** Run one read against the node, turning any failure into a ChainError. */
export async function rpc<T>(action: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    throw toChainError(e, action);
  }
}
