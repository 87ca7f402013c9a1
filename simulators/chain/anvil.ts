/**
 * The local chain: anvil, the binary shipped inside the npm package `@foundry-rs/anvil`
 * (its platform package), started on a free loopback port. Tests start one per file; `simchain
 * start` runs one as the embedded default with its state kept in a file, so a restart resumes
 * the same chain.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { getAddress } from 'ethers';

export interface AnvilAccount {
  address: string;
  privateKey: string;
}

export type AnvilMining =
  /** A block per transaction, mined as it arrives (anvil's default). */
  | 'auto'
  /** No block until `evm_mine` is called: keeps transactions pending, for tests. */
  | 'manual'
  | { intervalSeconds: number };

export interface AnvilOptions {
  /** Port on 127.0.0.1; default 0, a free one. A restart that must keep its URL passes the old port. */
  port?: number;
  /** Keep the chain in `DIR/anvil-state.json`: loaded at start, written on stop and periodically. */
  stateDir?: string;
  /** Seconds between state dumps while running, so a crash of anvil loses at most this much (default 5). */
  stateIntervalSeconds?: number;
  chainId?: number;
  mining?: AnvilMining;
  /** Number of funded dev accounts (default 10). */
  accounts?: number;
  /** Block gas limit (anvil's default is 30,000,000). */
  blockGasLimit?: bigint;
  /** How long to wait for the node to answer JSON-RPC (default 20 s). */
  startTimeoutMs?: number;
  /** Receives every line anvil prints, after startup. */
  log?: (line: string) => void;
  /** Further anvil arguments, appended as given. */
  extraArgs?: string[];
}

export interface AnvilNode {
  readonly rpcUrl: string;
  readonly port: number;
  readonly pid: number;
  readonly chainId: number;
  /** The funded dev accounts (checksummed) with their private keys (anvil's well-known test mnemonic). */
  readonly accounts: readonly AnvilAccount[];
  /** The state file when started with `stateDir`. */
  readonly statePath: string | undefined;
  /** Resolves with the exit code (or signal name) once the process has ended. */
  readonly exited: Promise<number | string>;
  /** Ends anvil with SIGTERM so it writes its state, waits for the exit, SIGKILL after 10 s. */
  stop(): Promise<void>;
  /** Ends anvil at once with SIGKILL, as a crash would: no state is written. */
  kill(): Promise<void>;
}

export class AnvilStartError extends Error {
  override readonly name = 'AnvilStartError';
}

const LISTENING_RE = /Listening on ([\d.]+):(\d+)/;
const ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64' };

/**
 * Path of the anvil binary: `ANVIL_BIN` when set, else the one inside the platform package
 * `@foundry-rs/anvil-<os>-<arch>` (a dependency of this project: the registry here serves the
 * linux-amd64 package only, so the wrapper package `@foundry-rs/anvil` is not used).
 */
export function anvilBinaryPath(): string {
  const fromEnv = process.env.ANVIL_BIN;
  if (fromEnv) {
    if (existsSync(fromEnv)) return fromEnv;
    throw new AnvilStartError(`ANVIL_BIN=${fromEnv} does not exist`);
  }
  const require = createRequire(import.meta.url);
  const exe = process.platform === 'win32' ? 'anvil.exe' : 'anvil';
  const arch = ARCH[process.arch];
  const pkg = `@foundry-rs/anvil-${process.platform}-${arch ?? process.arch}`;
  try {
    return require.resolve(`${pkg}/bin/${exe}`);
  } catch {
    throw new AnvilStartError(`no anvil binary for ${process.platform}-${process.arch}: install ${pkg} or set ANVIL_BIN`);
  }
}

/**
 * On Linux, setpriv makes the kernel send anvil SIGTERM when its parent dies, even by
 * SIGKILL, where no exit handler of ours would run; anvil then writes its state and ends.
 */
function parentDeathWrapper(): string[] {
  if (process.platform !== 'linux') return [];
  for (const path of ['/usr/bin/setpriv', '/bin/setpriv']) {
    if (existsSync(path)) return [path, '--pdeathsig', 'TERM', '--'];
  }
  return [];
}

function buildArgs(options: AnvilOptions, configOut: string, statePath: string | undefined): string[] {
  const args = ['--host', '127.0.0.1', '--port', String(options.port ?? 0), '--config-out', configOut, '--color', 'never'];
  if (options.chainId !== undefined) args.push('--chain-id', String(options.chainId));
  if (options.accounts !== undefined) args.push('--accounts', String(options.accounts));
  if (options.blockGasLimit !== undefined) args.push('--gas-limit', options.blockGasLimit.toString());
  const mining = options.mining ?? 'auto';
  if (mining === 'manual') args.push('--no-mining');
  else if (mining !== 'auto') args.push('--block-time', String(mining.intervalSeconds));
  if (statePath !== undefined) {
    args.push('--state', statePath, '--state-interval', String(options.stateIntervalSeconds ?? 5));
  }
  args.push(...(options.extraArgs ?? []));
  return args;
}

async function rpcReady(url: string, deadline: number): Promise<number> {
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
        signal: AbortSignal.timeout(2000),
      });
      const body = (await res.json()) as { result?: string };
      if (typeof body.result === 'string') return Number(BigInt(body.result));
    } catch (e) {
      lastError = e;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new AnvilStartError(`anvil at ${url} did not answer eth_chainId: ${String(lastError)}`);
}

function exitOf(child: ChildProcess): Promise<number | string> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode ?? child.signalCode ?? -1);
    else child.once('exit', (code, signal) => resolve(code ?? signal ?? -1));
  });
}

/** Starts anvil on a free port of 127.0.0.1 and resolves once it answers JSON-RPC. */
export async function startAnvil(options: AnvilOptions = {}): Promise<AnvilNode> {
  const binary = anvilBinaryPath();
  const statePath = options.stateDir === undefined ? undefined : join(options.stateDir, 'anvil-state.json');
  if (options.stateDir !== undefined) mkdirSync(options.stateDir, { recursive: true });
  const configOut = join(tmpdir(), `simchain-anvil-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}.json`);
  const [command, ...prefix] = [...parentDeathWrapper(), binary];
  const child = spawn(command!, [...prefix, ...buildArgs(options, configOut, statePath)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = exitOf(child);
  // A parent that exits normally (or on an uncaught error) takes anvil with it.
  const onParentExit = (): void => {
    child.kill('SIGTERM');
  };
  process.once('exit', onParentExit);
  void exited.then(() => process.off('exit', onParentExit));

  const recent: string[] = [];
  let port: number | undefined;
  const listening = new Promise<number>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      if (port === undefined) {
        recent.push(line);
        if (recent.length > 40) recent.shift();
        const m = LISTENING_RE.exec(line);
        if (m) {
          port = Number(m[2]);
          resolve(port);
        }
      } else {
        options.log?.(line);
      }
    });
    // Reading stderr too keeps anvil from blocking on a full pipe.
    createInterface({ input: child.stderr! }).on('line', (line) => {
      if (port === undefined) recent.push(line);
      else options.log?.(line);
    });
    child.once('error', reject);
    void exited.then((code) =>
      reject(new AnvilStartError(`anvil exited (${code}) before listening:\n${recent.slice(-10).join('\n')}`)),
    );
  });

  const timeoutMs = options.startTimeoutMs ?? 20_000;
  const deadline = Date.now() + timeoutMs;
  let timer: NodeJS.Timeout | undefined;
  try {
    const boundPort = await Promise.race([
      listening,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new AnvilStartError(`anvil did not listen within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    const rpcUrl = `http://127.0.0.1:${boundPort}`;
    const chainId = await rpcReady(rpcUrl, deadline);
    const config = JSON.parse(readFileSync(configOut, 'utf8')) as { available_accounts: string[]; private_keys: string[] };
    const accounts = config.available_accounts.map((address, i) => ({ address: getAddress(address), privateKey: config.private_keys[i]! }));
    const stopWith = async (signal: NodeJS.Signals): Promise<void> => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
        const hard = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(hard);
      }
    };
    return {
      rpcUrl,
      port: boundPort,
      pid: child.pid!,
      chainId,
      accounts,
      statePath,
      exited,
      stop: () => stopWith('SIGTERM'),
      kill: () => stopWith('SIGKILL'),
    };
  } catch (e) {
    child.kill('SIGKILL');
    await exited;
    throw e;
  } finally {
    clearTimeout(timer);
    rmSync(configOut, { force: true });
  }
}
