/**
 * A signing key's outbox on PostgreSQL, as a service process runs it: the key's lease first,
 * then the outbox engine on the lease's store, resuming what a previous holder left
 * unfinished and adopting what other processes plan for the key. If the lease is lost the
 * outbox closes (its waiters get CLOSED): another process sends for the key now.
 */
import { computeAddress } from 'ethers';
import type { Pool } from '../db/pool.js';
import { TxOutbox, type TxOutboxOptions } from './outbox.js';
import { SignerLease } from './signer-lease.js';

export interface SignerOutboxOptions extends Omit<TxOutboxOptions, 'store'> {
  pool: Pick<Pool, 'connect'>;
  /** Wait this long for another process's lease on the key (a standby waits long); default 0. */
  leaseWaitMs?: number;
  /** Poll interval while waiting for the lease (default 250 ms). */
  leaseRetryMs?: number;
  /** See SignerLeaseOptions.reacquireMs. */
  leaseReacquireMs?: number;
  /** Default 1 s here: other processes plan entries for the key in the database. */
  adoptIntervalMs?: number | null;
}

export interface SignerOutbox {
  outbox: TxOutbox;
  lease: SignerLease;
  /** Closes the outbox, then lets go of the lease. */
  close(): Promise<void>;
}

export async function openSignerOutbox(options: SignerOutboxOptions): Promise<SignerOutbox> {
  const { pool, leaseWaitMs, leaseRetryMs, leaseReacquireMs, ...engine } = options;
  let outbox: TxOutbox | undefined;
  const lease = await SignerLease.acquire({
    pool,
    chainId: options.connection.chainId,
    signer: computeAddress(options.privateKey),
    waitMs: leaseWaitMs ?? 0,
    ...(leaseRetryMs === undefined ? {} : { retryMs: leaseRetryMs }),
    ...(leaseReacquireMs === undefined ? {} : { reacquireMs: leaseReacquireMs }),
    onLost: () => void outbox?.close(),
  });
  try {
    outbox = await TxOutbox.open({ ...engine, adoptIntervalMs: options.adoptIntervalMs === undefined ? 1_000 : options.adoptIntervalMs, store: lease.store });
  } catch (e) {
    await lease.release();
    throw e;
  }
  const opened = outbox;
  return {
    outbox: opened,
    lease,
    close: async () => {
      await opened.close();
      await lease.release();
    },
  };
}
