/**
 * The transaction outbox engine: one per signing key. It records each transaction before it
 * exists anywhere else, so a process that dies at any point resumes without losing or
 * doubling one:
 *
 * 1. `submit(id, intent)` stores a planned entry (idempotent on `id`).
 * 2. In the signer's nonce queue: simulate (a reverting call is refused and takes no nonce),
 *    price, sign, store the signed bytes as `sent`, then broadcast. Recording first means a
 *    crash after the broadcast finds the exact bytes to send again (same hash: the node
 *    answers "already known" or mines it once).
 * 3. A tracker polls `eth_getTransactionReceipt` (never `tx.wait()`, which hangs on anvil:
 *    PITFALLS.md, Chain) once per new block, re-broadcasts what the node may have dropped
 *    (a restarted node forgets its pool), bumps fees of stuck attempts, notices a nonce taken
 *    by another transaction, decodes reverts, and confirms at the configured depth.
 *
 * `open()` resumes every unfinished entry of the key from the store; with `adoptIntervalMs` it
 * also picks up, while open, entries that other processes planned for the key (plan.ts).
 */
import { Wallet, keccak256, type TransactionReceipt } from 'ethers';
import { ChainError, isAlreadyKnown, toChainError } from './errors.js';
import { NonceQueue } from './nonce-queue.js';
import {
  applyOutboxEvent,
  confirmationsAt,
  entryError,
  isFinal,
  type MinedReceipt,
  type OutboxEntry,
  type OutboxEvent,
  type OutboxFailure,
  type TxAttempt,
  type TxIntent,
} from './outbox-state.js';
import type { OutboxStore } from './outbox-store.js';
import { hasReached, planTransaction, type TxRequest, type WaitUntil } from './plan.js';
import type { ChainConnection } from './provider.js';
import { decodeRevert } from './revert.js';

export interface TxOutboxOptions {
  connection: ChainConnection;
  /** The signing key (hex). One outbox per key in the whole deployment: it owns the key's nonces. */
  privateKey: string;
  store: OutboxStore;
  /** Blocks deep (the mining block counts as one) before an entry is confirmed. Default 1. */
  confirmations?: number;
  /** Tracker poll interval. Default 250 ms. */
  pollIntervalMs?: number;
  /** Broadcast a sent attempt again after this long without a receipt. Default 10 s. */
  rebroadcastAfterMs?: number;
  /** Replace a sent attempt with 25 % higher fees after this long without a receipt; null: never. Default 120 s. */
  bumpAfterMs?: number | null;
  /** Never offer more than this per gas (EIP-1559 max fee, or legacy gas price). */
  maxFeePerGasCap?: bigint;
  /** Headroom added to gas estimates, in percent. Default 20. */
  gasMarginPercent?: number;
  /**
   * Read the store this often for entries of this key planned by other processes, and send
   * them; null (default): only what this process submits and what open() found.
   */
  adoptIntervalMs?: number | null;
  now?: () => number;
}

export type { TxRequest, WaitUntil } from './plan.js';

export interface SubmitOptions {
  /** Resolve once the entry is at least this far. Default 'confirmed'. */
  until?: WaitUntil;
  /** Reject with TIMEOUT after this long (the entry goes on being tracked). Default 120 s. */
  timeoutMs?: number;
}

interface Tracked {
  entry: OutboxEntry;
  /** Serialises every change of this entry (tracker, submit, bump). */
  lock: Promise<void>;
  /** Head at the last receipt check; -1 forces a check. */
  checkedHead: number;
  lastBroadcastAt: number;
  lastError: ChainError | undefined;
  /** A planned entry whose signing failed waits until then (backing off), then tries again. */
  retryAt: number;
  failures: number;
}

interface Waiter {
  until: WaitUntil;
  resolve(entry: OutboxEntry): void;
  reject(error: ChainError): void;
  timer: NodeJS.Timeout;
}

type Fees = Pick<TxAttempt, 'maxFeePerGas' | 'maxPriorityFeePerGas' | 'gasPrice'>;

export class TxOutbox {
  readonly address: string;
  readonly chainId: bigint;
  private readonly wallet: Wallet;
  private readonly nonces: NonceQueue;
  private readonly tracked = new Map<string, Tracked>();
  private readonly waiters = new Map<string, Set<Waiter>>();
  private readonly confirmations: number;
  private readonly pollIntervalMs: number;
  private readonly rebroadcastAfterMs: number;
  private readonly bumpAfterMs: number | null;
  private readonly gasMarginPercent: number;
  private readonly now: () => number;
  private loop: Promise<void> | undefined;
  private sleeping: { timer: NodeJS.Timeout; wake(): void } | undefined;
  private adopter: NodeJS.Timeout | undefined;
  private adopting: Promise<void> | undefined;
  private closed = false;

  private constructor(private readonly options: TxOutboxOptions) {
    this.wallet = new Wallet(options.privateKey);
    this.address = this.wallet.address;
    this.chainId = options.connection.chainId;
    this.confirmations = options.confirmations ?? 1;
    if (!Number.isInteger(this.confirmations) || this.confirmations < 1) {
      throw new ChainError('INVALID_ARGUMENT', 'confirmations must be a whole number of at least 1');
    }
    this.pollIntervalMs = options.pollIntervalMs ?? 250;
    this.rebroadcastAfterMs = options.rebroadcastAfterMs ?? 10_000;
    this.bumpAfterMs = options.bumpAfterMs === undefined ? 120_000 : options.bumpAfterMs;
    this.gasMarginPercent = options.gasMarginPercent ?? 20;
    this.now = options.now ?? Date.now;
    this.nonces = new NonceQueue(() => this.nonceFromSources());
  }

  private get provider() {
    return this.options.connection.provider;
  }

  private get store(): OutboxStore {
    return this.options.store;
  }

  /**
   * An outbox for the key, resuming its unfinished entries: sent ones are broadcast again in
   * nonce order before anything new is signed, planned ones are signed.
   */
  static async open(options: TxOutboxOptions): Promise<TxOutbox> {
    const outbox = new TxOutbox(options);
    const unfinished = await outbox.store.unfinished(outbox.chainId, outbox.address);
    for (const entry of unfinished) outbox.track(entry);
    for (const t of outbox.tracked.values()) {
      if (t.entry.state === 'sent') await outbox.rebroadcast(t);
    }
    outbox.wake();
    const every = options.adoptIntervalMs ?? null;
    if (every !== null) outbox.adopter = setInterval(() => outbox.adopt(), every);
    return outbox;
  }

  /** The entries this outbox is driving right now. */
  inFlight(): OutboxEntry[] {
    return [...this.tracked.values()].map((t) => t.entry);
  }

  /**
   * Records the transaction under `id` (again: the same id returns the same entry, and a
   * different transaction under a used id is OUTBOX_CONFLICT) and waits for it.
   */
  async submit(id: string, request: TxRequest, options: SubmitOptions = {}): Promise<OutboxEntry> {
    this.assertOpen();
    const stored = await planTransaction(this.store, { id, chainId: this.chainId, signer: this.address, request, now: this.now() });
    if (!isFinal(stored.state) && !this.tracked.has(id)) {
      const t = this.track(stored);
      if (stored.state === 'planned') void this.exclusive(t, () => this.sign(t));
      this.wake();
    }
    return this.wait(id, options.until ?? 'confirmed', options.timeoutMs ?? 120_000);
  }

  /** Waits until the entry is at least `until`; rejects with its error if it failed or was replaced. */
  async wait(id: string, until: WaitUntil = 'confirmed', timeoutMs = 120_000): Promise<OutboxEntry> {
    const entry = this.tracked.get(id)?.entry ?? (await this.store.get(id));
    if (entry === undefined) throw new ChainError('NOT_FOUND', `no outbox entry ${id}`, { details: { id } });
    if (hasReached(entry.state, until)) return entry;
    if (isFinal(entry.state)) throw entryError(entry);
    if (!this.tracked.has(id)) {
      if (entry.signer !== this.address || entry.chainId !== this.chainId) {
        throw new ChainError('INVALID_ARGUMENT', `outbox entry ${id} belongs to ${entry.signer}`, { details: { id } });
      }
      this.track(entry);
      this.wake();
    }
    this.assertOpen();
    return new Promise<OutboxEntry>((resolve, reject) => {
      const set = this.waiters.get(id) ?? new Set<Waiter>();
      this.waiters.set(id, set);
      const waiter: Waiter = {
        until,
        resolve,
        reject,
        timer: setTimeout(() => {
          set.delete(waiter);
          const t = this.tracked.get(id);
          reject(
            new ChainError('TIMEOUT', `outbox entry ${id} not ${until} within ${timeoutMs} ms`, {
              details: { id, state: t?.entry.state, hash: t?.entry.attempts.at(-1)?.hash ?? null, lastError: t?.lastError?.message },
              cause: t?.lastError,
            }),
          );
        }, timeoutMs),
      };
      set.add(waiter);
    });
  }

  /** Replaces the entry's latest attempt by one with higher fees (same nonce). */
  async bump(id: string): Promise<OutboxEntry> {
    const t = this.tracked.get(id);
    if (t === undefined) throw new ChainError('NOT_FOUND', `no outbox entry ${id} in flight`, { details: { id } });
    await this.exclusive(t, () => this.bumpFees(t));
    return t.entry;
  }

  /** Stops tracking; waiters get CLOSED. Entries stay in the store for the next open(). */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.adopter);
    await this.adopting;
    for (const [, set] of this.waiters) {
      for (const w of set) {
        clearTimeout(w.timer);
        w.reject(new ChainError('CLOSED', 'the outbox was closed'));
      }
    }
    this.waiters.clear();
    this.sleeping?.wake();
    await this.loop;
    await Promise.all([...this.tracked.values()].map((t) => t.lock));
  }

  private assertOpen(): void {
    if (this.closed) throw new ChainError('CLOSED', 'the outbox was closed');
  }

  /**
   * Adopt now rather than at the next interval: a producer of this process that has just
   * committed a planned entry for this key has it signed at once instead of up to
   * `adoptIntervalMs` later. An adoption already reading the store may have read it before
   * that commit, so this one starts after it.
   */
  async adoptNow(): Promise<void> {
    await this.adopting;
    this.adopt();
    await this.adopting;
  }

  /**
   * Track the key's unfinished entries this process does not know yet. An entry read here
   * that this process settles meanwhile comes back stale; its next write then fails the
   * compare-and-set, and the entry is re-read from the store (exclusive), so nothing is sent
   * twice.
   */
  private adopt(): void {
    if (this.closed || this.adopting !== undefined) return;
    this.adopting = this.store
      .unfinished(this.chainId, this.address)
      .then((entries) => {
        let adopted = false;
        for (const entry of entries) {
          if (this.closed || this.tracked.has(entry.id)) continue;
          const t = this.track(entry);
          if (entry.state === 'planned') void this.exclusive(t, () => this.sign(t));
          adopted = true;
        }
        if (adopted) this.wake();
      })
      .catch(() => undefined)
      .finally(() => {
        this.adopting = undefined;
      });
  }

  private async nonceFromSources(): Promise<number> {
    const [pending, highest] = await Promise.all([
      this.provider.getTransactionCount(this.address, 'pending'),
      this.store.highestNonce(this.chainId, this.address),
    ]);
    return Math.max(pending, highest === undefined ? 0 : highest + 1);
  }

  private track(entry: OutboxEntry): Tracked {
    const t: Tracked = { entry, lock: Promise.resolve(), checkedHead: -1, lastBroadcastAt: 0, lastError: undefined, retryAt: 0, failures: 0 };
    this.tracked.set(entry.id, t);
    return t;
  }

  /** Runs `fn` after every earlier change of this entry; failures are kept as lastError. */
  private exclusive(t: Tracked, fn: () => Promise<void>): Promise<void> {
    const run = t.lock.then(fn).catch(async (e: unknown) => {
      t.lastError = toChainError(e, 'outbox');
      // A failed write may or may not have landed: continue from what the store holds.
      const stored = await this.store.get(t.entry.id).catch(() => undefined);
      if (stored !== undefined && stored.version >= t.entry.version) this.settle(t, stored);
    });
    t.lock = run;
    return run;
  }

  /** Apply and store an event; `quiet` leaves telling the waiters to the caller. */
  private async save(t: Tracked, event: OutboxEvent, quiet = false): Promise<OutboxEntry> {
    const next = applyOutboxEvent(t.entry, event, this.now());
    if (!(await this.store.update(next))) {
      throw new ChainError('OUTBOX_CONFLICT', `outbox entry ${next.id} was changed by another writer`, {
        details: { id: next.id, version: next.version },
      });
    }
    if (quiet) t.entry = next;
    else this.settle(t, next);
    return next;
  }

  /** Adopt a new version of the entry and tell its waiters. */
  private settle(t: Tracked, entry: OutboxEntry): void {
    t.entry = entry;
    if (isFinal(entry.state)) this.tracked.delete(entry.id);
    this.notify(entry);
  }

  private notify(entry: OutboxEntry): void {
    const set = this.waiters.get(entry.id);
    if (set === undefined) return;
    for (const w of [...set]) {
      const reached = hasReached(entry.state, w.until);
      if (!reached && !isFinal(entry.state)) continue;
      set.delete(w);
      clearTimeout(w.timer);
      if (reached) w.resolve(entry);
      else w.reject(entryError(entry));
    }
    if (set.size === 0) this.waiters.delete(entry.id);
  }

  // --- signing -------------------------------------------------------------------------

  private async sign(t: Tracked): Promise<void> {
    if (t.entry.state !== 'planned' || this.now() < t.retryAt) return;
    try {
      await this.signInQueue(t);
      t.failures = 0;
    } catch (e) {
      t.failures++;
      t.retryAt = this.now() + Math.min(30_000, 250 * 2 ** Math.min(t.failures, 7));
      throw e;
    }
  }

  private async signInQueue(t: Tracked): Promise<void> {
    // Inside the queue: nonces follow the order of submission. A throw hands the nonce back
    // (the queue reads it again); the entry is then failed, or still planned and retried.
    await this.nonces.run(async (nonce) => {
      const intent = t.entry.intent;
      let gasLimit = intent.gasLimit;
      if (gasLimit === null) {
        try {
          const estimate = await this.provider.estimateGas({ from: this.address, to: intent.to, data: intent.data, value: intent.value });
          gasLimit = (estimate * BigInt(100 + this.gasMarginPercent)) / 100n;
        } catch (e) {
          const error = toChainError(e, 'estimateGas', { id: t.entry.id });
          if (error.code === 'REVERTED') await this.save(t, { type: 'refused', failure: failureOf(error) });
          throw error;
        }
      }
      const fees = await this.currentFees();
      // An unfunded signer waits planned, holding no nonce, until it is funded.
      const cost = gasLimit * (fees.maxFeePerGas ?? fees.gasPrice!) + intent.value;
      const balance = await this.provider.getBalance(this.address, 'pending');
      if (balance < cost) {
        throw new ChainError('INSUFFICIENT_FUNDS', `${this.address} holds ${balance} wei, the transaction may cost ${cost}`, {
          details: { id: t.entry.id, balance: balance.toString(), cost: cost.toString() },
        });
      }
      const attempt = await this.signAttempt(intent, nonce, gasLimit, fees);
      // Waiters for 'sent' hear of it once the node has the transaction, not before.
      const sent = await this.save(t, { type: 'signed', nonce, attempt }, true);
      // From here the nonce is the entry's, unless the node refuses the transaction outright.
      const refusal = await this.broadcastFirst(t, attempt);
      if (refusal !== undefined) {
        await this.save(t, { type: 'refused', failure: failureOf(refusal) });
        throw refusal;
      }
      this.notify(sent);
    });
  }

  private async signAttempt(intent: TxIntent, nonce: number, gasLimit: bigint, fees: Fees): Promise<TxAttempt> {
    const common = { chainId: this.chainId, nonce, to: intent.to, data: intent.data, value: intent.value, gasLimit };
    const raw =
      fees.maxFeePerGas !== null
        ? await this.wallet.signTransaction({ ...common, type: 2, maxFeePerGas: fees.maxFeePerGas, maxPriorityFeePerGas: fees.maxPriorityFeePerGas })
        : await this.wallet.signTransaction({ ...common, type: 0, gasPrice: fees.gasPrice });
    return { hash: keccak256(raw), raw, gasLimit, ...fees, signedAt: this.now() };
  }

  private async currentFees(): Promise<Fees> {
    const f = await this.provider.getFeeData();
    const cap = this.options.maxFeePerGasCap;
    const capped = (v: bigint): bigint => (cap !== undefined && v > cap ? cap : v);
    if (f.maxFeePerGas !== null && f.maxPriorityFeePerGas !== null) {
      const max = capped(f.maxFeePerGas);
      return { maxFeePerGas: max, maxPriorityFeePerGas: f.maxPriorityFeePerGas > max ? max : f.maxPriorityFeePerGas, gasPrice: null };
    }
    if (f.gasPrice === null) throw new ChainError('RPC_ERROR', 'the node reports no gas price');
    return { maxFeePerGas: null, maxPriorityFeePerGas: null, gasPrice: capped(f.gasPrice) };
  }

  /** 25 % over the last attempt (nodes want at least 10 %), or today's fees if higher. */
  private async bumpFees(t: Tracked): Promise<void> {
    if (t.entry.state !== 'sent') return;
    const last = t.entry.attempts.at(-1)!;
    const now = await this.currentFees();
    const up = (old: bigint | null, fresh: bigint | null): bigint | null => {
      if (old === null) return fresh;
      const raised = (old * 125n + 99n) / 100n;
      const v = fresh !== null && fresh > raised ? fresh : raised;
      const cap = this.options.maxFeePerGasCap;
      return cap !== undefined && v > cap ? cap : v;
    };
    const fees: Fees = {
      maxFeePerGas: up(last.maxFeePerGas, now.maxFeePerGas),
      maxPriorityFeePerGas: up(last.maxPriorityFeePerGas, now.maxPriorityFeePerGas),
      gasPrice: up(last.gasPrice, now.gasPrice),
    };
    if (fees.maxFeePerGas === last.maxFeePerGas && fees.gasPrice === last.gasPrice) return; // at the cap
    const attempt = await this.signAttempt(t.entry.intent, t.entry.nonce!, last.gasLimit, fees);
    await this.save(t, { type: 'bumped', attempt });
    await this.rebroadcast(t);
  }

  // --- broadcasting --------------------------------------------------------------------

  /** Broadcast the first attempt; a definite refusal by the node is returned, anything else is retried later. */
  private async broadcastFirst(t: Tracked, attempt: TxAttempt): Promise<ChainError | undefined> {
    t.lastBroadcastAt = this.now();
    try {
      await this.provider.send('eth_sendRawTransaction', [attempt.raw]);
      return undefined;
    } catch (e) {
      if (isAlreadyKnown(e)) return undefined;
      const error = toChainError(e, 'broadcast', { id: t.entry.id, hash: attempt.hash });
      if (error.code === 'INSUFFICIENT_FUNDS' || error.code === 'TX_REFUSED') return error;
      t.lastError = error;
      return undefined;
    }
  }

  /** Send the latest attempt again; every answer but a transport failure means the node knows the nonce's fate. */
  private async rebroadcast(t: Tracked): Promise<void> {
    const attempt = t.entry.attempts.at(-1);
    if (attempt === undefined) return;
    t.lastBroadcastAt = this.now();
    try {
      await this.provider.send('eth_sendRawTransaction', [attempt.raw]);
    } catch (e) {
      if (isAlreadyKnown(e)) return;
      const error = toChainError(e, 'rebroadcast', { id: t.entry.id, hash: attempt.hash });
      // "nonce too low" only says the nonce is spent: the receipt check tells by whom.
      if (error.code !== 'REPLACED') t.lastError = error;
    }
  }

  // --- tracking ------------------------------------------------------------------------

  private wake(): void {
    if (this.closed) return;
    if (this.sleeping) {
      this.sleeping.wake();
      return;
    }
    this.loop ??= this.run().finally(() => {
      this.loop = undefined;
      if (this.tracked.size > 0 && !this.closed) this.wake();
    });
  }

  private async run(): Promise<void> {
    while (!this.closed && this.tracked.size > 0) {
      await this.tick();
      if (this.closed || this.tracked.size === 0) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.sleeping = undefined;
          resolve();
        }, this.pollIntervalMs);
        this.sleeping = {
          timer,
          wake: () => {
            clearTimeout(timer);
            this.sleeping = undefined;
            resolve();
          },
        };
      });
    }
  }

  private async tick(): Promise<void> {
    let head: number;
    try {
      head = await this.provider.getBlockNumber();
    } catch (e) {
      const error = toChainError(e, 'getBlockNumber');
      for (const t of this.tracked.values()) t.lastError = error;
      return;
    }
    const byNonce = [...this.tracked.values()].sort((a, b) => (a.entry.nonce ?? Infinity) - (b.entry.nonce ?? Infinity));
    for (const t of byNonce) {
      if (this.closed) return;
      await this.exclusive(t, () => this.advance(t, head));
    }
  }

  private async advance(t: Tracked, head: number): Promise<void> {
    switch (t.entry.state) {
      case 'planned':
        return this.sign(t);
      case 'sent':
        return this.checkSent(t, head);
      case 'mined':
        return this.checkMined(t, head);
      default:
        return;
    }
  }

  private async findReceipt(t: Tracked): Promise<TransactionReceipt | null> {
    // Newest first: after a bump the latest attempt is the likely one.
    for (const attempt of [...t.entry.attempts].reverse()) {
      const r = await this.provider.getTransactionReceipt(attempt.hash);
      if (r !== null) return r;
    }
    return null;
  }

  private async checkSent(t: Tracked, head: number): Promise<void> {
    const now = this.now();
    const rebroadcastDue = now - t.lastBroadcastAt >= this.rebroadcastAfterMs;
    const last = t.entry.attempts.at(-1)!;
    const bumpDue = this.bumpAfterMs !== null && now - last.signedAt >= this.bumpAfterMs;
    if (head === t.checkedHead && !rebroadcastDue && !bumpDue) return;
    let receipt = await this.findReceipt(t);
    if (receipt === null) {
      const mined = await this.provider.getTransactionCount(this.address, 'latest');
      // Looked again after the count: a receipt that appeared in between is not a replacement.
      if (mined > t.entry.nonce!) receipt = await this.findReceipt(t);
      if (receipt === null && mined > t.entry.nonce!) {
        await this.save(t, { type: 'replaced' });
        return;
      }
    }
    t.checkedHead = head;
    if (receipt === null) {
      if (bumpDue) await this.bumpFees(t);
      else if (rebroadcastDue) await this.rebroadcast(t);
      return;
    }
    const mined = toMinedReceipt(receipt);
    if (mined.status === 1) {
      await this.save(t, { type: 'included', receipt: mined });
      await this.checkMined(t, Math.max(head, mined.blockNumber));
    } else {
      await this.save(t, { type: 'reverted', receipt: mined, failure: await this.revertFailure(t.entry, mined) });
    }
  }

  private async checkMined(t: Tracked, head: number): Promise<void> {
    const receipt = t.entry.receipt!;
    if (confirmationsAt(receipt, head) < this.confirmations) return;
    // Before calling it final, make sure the block is still the canonical one.
    const now = await this.provider.getTransactionReceipt(receipt.hash);
    if (now === null || now.blockHash !== receipt.blockHash) {
      t.checkedHead = -1;
      await this.save(t, { type: 'reorged' });
      return;
    }
    await this.save(t, { type: 'confirmed', head, depth: this.confirmations });
  }

  /** A mined revert carries no reason: replay the call on the state before its block. */
  private async revertFailure(entry: OutboxEntry, receipt: MinedReceipt): Promise<OutboxFailure> {
    const { to, data, value } = entry.intent;
    try {
      await this.provider.call({ from: this.address, to, data, value, blockTag: receipt.blockNumber - 1 });
    } catch (e) {
      const error = toChainError(e, 'replay');
      if (error.code === 'REVERTED') return failureOf(error);
    }
    return { code: 'REVERTED', message: `transaction ${receipt.hash} reverted`, revert: { kind: 'empty' } };
  }
}

function failureOf(error: ChainError): OutboxFailure {
  return { code: error.code, message: error.shortMessage, revert: error.revert ?? null };
}

function toMinedReceipt(r: TransactionReceipt): MinedReceipt {
  return {
    hash: r.hash,
    blockNumber: r.blockNumber,
    blockHash: r.blockHash,
    status: r.status === 1 ? 1 : 0,
    gasUsed: r.gasUsed,
    effectiveGasPrice: r.gasPrice,
    contractAddress: r.contractAddress,
  };
}
