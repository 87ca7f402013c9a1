/**
 * One outbox per signing key in the whole deployment. Two processes signing with the same key
 * would each count nonces on their own and trample each other's transactions, so a process
 * must hold the key's lease before its outbox signs anything.
 *
 * The lease is a PostgreSQL session-level advisory lock on (chain id, signer), held by one
 * session kept for the purpose, and every write of the key's outbox goes through that session
 * (`lease.store`). That makes it a fence, not only a flag: a write can run only on a live
 * session, and a live session holds the lock; the engine broadcasts a transaction only after
 * recording it (outbox.ts), so a process whose lease ended cannot send a new one. When a
 * process dies, even by SIGKILL, its connection closes and the server drops the lock with the
 * session, so a standby takes over at once; no expiry to wait out and no clock to trust.
 *
 * If the session breaks (a restarted server, a dropped connection), the next write takes the
 * lock again on a new session; if another process got it first, the lease is lost for good
 * (LEASE_LOST) and `onLost` tells the owner to stop.
 */
import { createHash } from 'node:crypto';
import type { QueryResult, QueryResultRow } from 'pg';
import type { Pool, PoolClient } from '../db/pool.js';
import { ChainError } from './errors.js';
import { PgOutboxStore, signerKey, type SqlClient } from './pg-outbox-store.js';

export interface SignerLeaseOptions {
  /** Where the lease's session comes from; it keeps one of the pool's connections while held. */
  pool: Pick<Pool, 'connect'>;
  chainId: bigint;
  signer: string;
  /** How long to wait for a lease another process holds; default 0: SIGNER_BUSY at once. */
  waitMs?: number;
  /** Poll interval while waiting (default 250 ms). */
  retryMs?: number;
  /**
   * After the session broke, how long to keep trying to lock again before calling the lease
   * lost (default 10 s): the server may not yet have noticed that the old session is gone.
   */
  reacquireMs?: number;
  /** Called once when the lease is lost. */
  onLost?: (error: ChainError) => void;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The advisory lock key of a signer on a chain: 64 bits of a hash, namespaced. */
export function signerLockKey(chainId: bigint, signer: string): bigint {
  const digest = createHash('sha256').update(`simchain.chain-signer:${chainId}:${signerKey(signer)}`).digest();
  return BigInt.asIntN(64, digest.readBigUInt64BE(0));
}

const LOCK = 'SELECT pg_try_advisory_lock($1::bigint) AS locked';
const UNLOCK = 'SELECT pg_advisory_unlock($1::bigint)';
// pg_locks shows a one-bigint advisory lock as classid = high 32 bits, objid = low 32 bits, objsubid 1.
const HOLDER = `SELECT a.pid, a.application_name AS "applicationName", a.client_addr::text AS "clientAddr"
  FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
  WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 AND l.classid = $1::bigint::oid AND l.objid = $2::bigint::oid
    AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`;

export class SignerLease implements SqlClient {
  readonly key: bigint;
  /** The key's outbox store; every query runs on the lease's session. */
  readonly store: PgOutboxStore;
  private client: PoolClient | undefined;
  private reacquiring: Promise<PoolClient> | undefined;
  private lostError: ChainError | undefined;
  private released = false;
  private closeSession: (() => void) | undefined;
  private tail: Promise<unknown> = Promise.resolve();

  private constructor(private readonly options: SignerLeaseOptions) {
    this.key = signerLockKey(options.chainId, options.signer);
    this.store = new PgOutboxStore(this);
  }

  /** Takes the signer's lease, waiting up to `waitMs` for another holder to let go. */
  static async acquire(options: SignerLeaseOptions): Promise<SignerLease> {
    const lease = new SignerLease(options);
    lease.client = await lease.lockWithin(options.waitMs ?? 0);
    if (lease.client === undefined) throw await lease.busy();
    return lease;
  }

  get lost(): ChainError | undefined {
    return this.lostError;
  }

  /** The server process id of the lease's session (for diagnostics and tests). */
  async sessionPid(): Promise<number> {
    const { rows } = await this.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    return rows[0]!.pid;
  }

  /** Runs on the lease's session, one query at a time (a pg client must not be given a second query while one runs). */
  query<R extends QueryResultRow = QueryResultRow>(text: string, values?: unknown[]): Promise<QueryResult<R>> {
    const run = this.tail.then(async () => (await this.session()).query<R>(text, values));
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** Lets go of the lease: the session is closed, which drops the lock with it. */
  async release(): Promise<void> {
    this.released = true;
    // A write already under way finishes first; queries queued behind it get CLOSED.
    await this.tail;
    await this.reacquiring?.catch(() => undefined);
    const client = this.client;
    this.client = undefined;
    // Unlocked before release() resolves: the session's end reaches the server only later.
    await client?.query(UNLOCK, [this.key.toString()]).catch(() => undefined);
    // Destroyed rather than returned to the pool: the session's settings were changed for the lease.
    this.closeSession?.();
  }

  private async session(): Promise<PoolClient> {
    if (this.lostError) throw this.lostError;
    if (this.released) throw new ChainError('CLOSED', `the lease on ${this.options.signer} was released`);
    if (this.client) return this.client;
    this.reacquiring ??= this.reacquire().finally(() => {
      this.reacquiring = undefined;
    });
    return this.reacquiring;
  }

  private async reacquire(): Promise<PoolClient> {
    const client = await this.lockWithin(this.options.reacquireMs ?? 10_000);
    if (client !== undefined) {
      this.client = client;
      return client;
    }
    const holder = await this.busy();
    this.lostError = new ChainError('LEASE_LOST', `the lease on ${this.options.signer} was taken by another process`, {
      details: holder.details,
    });
    this.options.onLost?.(this.lostError);
    throw this.lostError;
  }

  /** A locked session, or undefined if another session held the lock until the deadline. */
  private async lockWithin(waitMs: number): Promise<PoolClient | undefined> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const client = await this.tryLock();
      if (client !== undefined || Date.now() >= deadline || this.released) return client;
      await sleep(Math.min(this.options.retryMs ?? 250, Math.max(1, deadline - Date.now())));
    }
  }

  private async tryLock(): Promise<PoolClient | undefined> {
    const client = await this.options.pool.connect();
    let done = false;
    const close = (e?: Error): void => {
      if (done) return;
      done = true;
      client.off('error', onError);
      client.off('end', onEnd);
      client.release(e ?? true);
    };
    // A session that ends takes its lock with it: forget it, and let the pool discard it.
    // (Without an 'error' listener a checked-out client's failure would end the process.)
    const onError = (e: Error): void => {
      if (this.client === client) this.client = undefined;
      close(e);
    };
    const onEnd = (): void => onError(new Error('the lease session ended'));
    client.on('error', onError);
    client.on('end', onEnd);
    try {
      const { rows } = await client.query<{ locked: boolean }>(LOCK, [this.key.toString()]);
      if (rows[0]?.locked !== true) {
        done = true;
        client.off('error', onError);
        client.off('end', onEnd);
        client.release();
        return undefined;
      }
      // The store's update must be durable when it resolves, whatever the server's default.
      await client.query('SET synchronous_commit = on');
      if (this.released) {
        close();
        return undefined;
      }
      this.closeSession = close;
      return client;
    } catch (e) {
      close(e as Error);
      throw e;
    }
  }

  private async busy(): Promise<ChainError> {
    const unsigned = BigInt.asUintN(64, this.key);
    const holders = await this.queryOnce<{ pid: number; applicationName: string; clientAddr: string | null }>(HOLDER, [
      (unsigned >> 32n).toString(),
      (unsigned & 0xffffffffn).toString(),
    ]).catch(() => []);
    return new ChainError('SIGNER_BUSY', `another process holds the outbox of ${this.options.signer} on chain ${this.options.chainId}`, {
      details: { signer: this.options.signer, chainId: this.options.chainId.toString(), holder: holders[0] ?? null },
    });
  }

  /** A query on a pool session of its own, not the lease's. */
  private async queryOnce<R extends QueryResultRow>(text: string, values: unknown[]): Promise<R[]> {
    const client = await this.options.pool.connect();
    try {
      return (await client.query<R>(text, values)).rows;
    } finally {
      client.release();
    }
  }
}
