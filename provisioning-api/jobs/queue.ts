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
  }
}

/** Retry policy per queue: a crashed worker's job expires and is retried by another. */
const QUEUE_OPTIONS: Record<QueueName, Omit<PgBoss.Queue, 'name'>> = {
  [QUEUES.lifecycle]: { retryLimit: 5, retryDelay: 2, retryBackoff: true, expireInSeconds: 60 },
  [QUEUES.allocate]: { retryLimit: 5, retryDelay: 5, retryBackoff: true, expireInSeconds: 15 * 60 },
  // A million-row load takes tens of seconds; expiry bounds how long a crashed worker's load waits.
  [QUEUES.importLoad]: { retryLimit: 5, retryDelay: 5, retryBackoff: true, expireInSeconds: 30 * 60 },
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

  /** Wake this process's workers for `kind` (after the enqueuing transaction commits). */
  nudge(kind: JobKind): void {
    for (const id of this.workerIds.get(queueFor(kind)) ?? []) this.boss.notifyWorker(id);
  }

  /** Run `handler` for each job of queue `name`. */
  async work(name: QueueName, handler: (jobId: string) => Promise<void>, options: WorkerOptions = {}): Promise<void> {
    const id = await this.boss.work<{ jobId: string }>(
      name,
      { batchSize: options.batchSize ?? 10, pollingIntervalSeconds: options.pollingIntervalSeconds ?? 1 },
      async (jobs) => {
        // Each job records its own outcome in `jobs`; a throw here (the database gone)
        // makes pg-boss retry the batch, and every handler is idempotent.
        for (const job of jobs) await handler(job.data.jobId);
      },
    );
    this.workerIds.set(name, [...(this.workerIds.get(name) ?? []), id]);
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
