/**
 * The job queue: pg-boss 10 on the application's database (schema `pgboss`), so a job
 * survives any process and any worker may run it. Jobs are sent inside the transaction
 * that records them (pg-boss's `db` option), so a job exists exactly when its row does.
 * pg-boss carries only our job id; the `jobs` table is what the API shows.
 */
import PgBoss from 'pg-boss';
import type { PoolClient } from '../db/pool.js';
import type { JobKind } from '../domain/jobs.js';

export const QUEUES = {
  lifecycle: 'sim-lifecycle',
  allocate: 'sim-allocate',
  importLoad: 'sim-import-load',
  provisioningKeygen: 'provisioning-keygen',
  provisioningAnchor: 'provisioning-anchor',
  provisioningIdentity: 'provisioning-identity',
  lifecycleEffects: 'sim-lifecycle-effects',
  keysetRotation: 'sim-keyset-rotation',
} as const;
export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

export function queueFor(kind: JobKind): QueueName {
  switch (kind) {
    case 'sim.suspend':
    case 'sim.resume':
    case 'sim.terminate':
      return QUEUES.lifecycle;
    case 'sim.allocate':
      return QUEUES.allocate;
    case 'sim-import.load':
      return QUEUES.importLoad;
    case 'sim.rotate-keyset':
      return QUEUES.keysetRotation;
  }
}

/** Retry policy per queue: a crashed worker's job expires and is retried by another. */
const QUEUE_OPTIONS: Record<QueueName, Omit<PgBoss.Queue, 'name'>> = {
  [QUEUES.lifecycle]: { retryLimit: 5, retryDelay: 2, retryBackoff: true, expireInSeconds: 60 },
  [QUEUES.allocate]: { retryLimit: 5, retryDelay: 5, retryBackoff: true, expireInSeconds: 15 * 60 },
  // A million-row load takes tens of seconds; expiry bounds how long a crashed worker's load waits.
  [QUEUES.importLoad]: { retryLimit: 5, retryDelay: 5, retryBackoff: true, expireInSeconds: 30 * 60 },
  // A keyset rotation's run waits for a PoR a few seconds at most, then schedules its next run (startAfter).
  [QUEUES.keysetRotation]: { retryLimit: 20, retryDelay: 2, retryBackoff: true, expireInSeconds: 120 },
  // Provisioning steps: a chunk of SIMs' OTA commands written and handed to the gateway (seconds);
  // the anchoring waits for its transaction's confirmation, retried until it comes.
  [QUEUES.provisioningKeygen]: { retryLimit: 20, retryDelay: 2, retryBackoff: true, expireInSeconds: 120 },
  [QUEUES.provisioningAnchor]: { retryLimit: 200, retryDelay: 2, retryBackoff: true, expireInSeconds: 15 * 60 },
  [QUEUES.provisioningIdentity]: { retryLimit: 20, retryDelay: 2, retryBackoff: true, expireInSeconds: 120 },
  // Checks of a lifecycle action's card and chain effects: each schedules the next (startAfter)
  // until both are confirmed; a throw (the database gone) is retried.
  [QUEUES.lifecycleEffects]: { retryLimit: 20, retryDelay: 1, retryBackoff: true, expireInSeconds: 60 },
};

export interface WorkerOptions {
  batchSize?: number;
  pollingIntervalSeconds?: number;
}

export class JobQueue {
  private readonly workerIds = new Map<QueueName, string[]>();

  constructor(readonly boss: PgBoss) {}

  /** Send job `jobId` of `kind` inside `client`'s transaction. */
  async enqueue(client: PoolClient, kind: JobKind, jobId: string): Promise<void> {
    const name = queueFor(kind);
    const db = { executeSql: (text: string, values: unknown[]) => client.query(text, values) };
    await this.boss.send(name, { jobId }, { ...QUEUE_OPTIONS[name], singletonKey: jobId, db });
  }

  /**
   * Send a job with `data` to queue `name`, inside `client`'s transaction when one is given.
   * `startAfter` delays it (seconds); `singletonKey` names it for logs and dedup.
   */
  async sendTo(client: PoolClient | null, name: QueueName, data: object, options: { startAfter?: number; singletonKey?: string } = {}): Promise<void> {
    const db = client ? { db: { executeSql: (text: string, values: unknown[]) => client.query(text, values) } } : {};
    await this.boss.send(name, data, { ...QUEUE_OPTIONS[name], ...(options.startAfter ? { startAfter: options.startAfter } : {}), ...(options.singletonKey ? { singletonKey: options.singletonKey } : {}), ...db });
  }

  /** Send many jobs to queue `name` at once inside `client`'s transaction. */
  async sendManyTo(client: PoolClient, name: QueueName, data: object[]): Promise<void> {
    if (data.length === 0) return;
    const db = { executeSql: (text: string, values: unknown[]) => client.query(text, values) };
    const options = QUEUE_OPTIONS[name];
    for (let i = 0; i < data.length; i += 1000) {
      await this.boss.insert(data.slice(i, i + 1000).map((d) => ({ name, data: d, ...options })), { db });
    }
  }

  /** Run `handler` for each job of queue `name` with the job's data. */
  async workData<T extends object>(name: QueueName, handler: (data: T) => Promise<void>, options: WorkerOptions = {}): Promise<void> {
    const batchSize = options.batchSize ?? 10;
    let id = '';
    id = await this.boss.work<T>(
      name,
      { batchSize, pollingIntervalSeconds: options.pollingIntervalSeconds ?? 1 },
      async (jobs) => {
        for (const job of jobs) await handler(job.data);
        // pg-boss waits out its polling interval after every fetch; a full batch means more
        // may be waiting, so the worker looks again at once (a 4-job batch every 0.5 s held
        // a provisioning step to 2,000 SIMs/s whatever the machine could do).
        if (jobs.length >= batchSize) this.boss.notifyWorker(id);
      },
    );
    this.workerIds.set(name, [...(this.workerIds.get(name) ?? []), id]);
  }

  /** Wake this process's workers of queue `name`. */
  nudgeQueue(name: QueueName): void {
    for (const id of this.workerIds.get(name) ?? []) this.boss.notifyWorker(id);
  }

  /** Wake this process's workers for `kind` (after the enqueuing transaction commits). */
  nudge(kind: JobKind): void {
    for (const id of this.workerIds.get(queueFor(kind)) ?? []) this.boss.notifyWorker(id);
  }

  /**
   * Run `handler` for each job of queue `name`. Each job records its own outcome in `jobs`;
   * a throw (the database gone) makes pg-boss retry the batch, and every handler is idempotent.
   */
  work(name: QueueName, handler: (jobId: string) => Promise<void>, options: WorkerOptions = {}): Promise<void> {
    return this.workData<{ jobId: string }>(name, (data) => handler(data.jobId), options);
  }

  async stop(): Promise<void> {
    await this.boss.stop({ graceful: true, wait: true, timeout: 10_000 });
  }
}

export async function startJobQueue(databaseUrl: string, options: { onError?: (e: Error) => void } = {}): Promise<JobQueue> {
  const boss = new PgBoss({
    connectionString: databaseUrl,
    application_name: 'simchain-jobs',
    max: 4,
    schedule: false,
  });
  boss.on('error', (e) => options.onError?.(e));
  await boss.start();
  for (const name of Object.values(QUEUES)) {
    if (!(await boss.getQueue(name))) await boss.createQueue(name, { name, ...QUEUE_OPTIONS[name] });
  }
  return new JobQueue(boss);
}
