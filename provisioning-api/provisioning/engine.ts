/**
 * The provisioning workers of one process (any number of processes may run them against the
 * same database): pg-boss workers for the per-chunk OTA steps and the per-batch anchoring,
 * and a collector that turns settled OTA messages into the SIMs' next states. The collector
 * runs on the gateway's "settled" events (fast path, this process's PoRs) and on a timer
 * (PoRs another process recorded, expiries, work left by a crashed process).
 *
 * Resilience: pg-boss hands a job whose worker died to another only when the job expires
 * (minutes). So a sweeper here also picks up, directly, waiting SIMs nobody sent for a while
 * and batches ready to anchor or waiting for their anchoring: every step is idempotent and
 * locks what it changes, so doing it twice (the sweeper and a late job) changes nothing.
 *
 * Flow control: a chunk job waits while this process has more commands in flight than its
 * window, so OTA messages are not written far ahead of what the SMSC bind can carry (a row's
 * lease must outlast its wait to be submitted).
 */
import { vendorAuthority, type VendorAuthority } from '../../sim-applet/index.js';
import { isChainError } from '../chain/errors.js';
import { getVendorCa } from '../db/repositories/sim-imports.js';
import { QUEUES } from '../jobs/queue.js';
import type { OtaSettled } from '../smpp/ota-gateway.js';
import type { Services } from '../services/context.js';
import { MAX_ATTEMPTS } from '../domain/provisioning.js';
import { runAnchorJob } from './anchor.js';
import { AttestationPool, attestInline, defaultAttestWorkers } from './attest-pool.js';
import { CHUNK } from './batches.js';
import { collectSettled, completeIfPushed, dispatchStep, keygenOpen, type StepJob, type StepName } from './steps.js';

export interface ProvisionerOptions {
  /** OTA commands in flight from this process before chunk jobs wait. Default 4,000. */
  window?: number;
  /** Collector sweep period. Default 1,000 ms. */
  sweepMs?: number;
  /** Backoff before the first resend of a command without PoR (then ×4). Default 5 s. */
  retryBaseSeconds?: number;
  /** Sends of one command before the SIM fails. Default MAX_ATTEMPTS. */
  maxAttempts?: number;
  /** How often the sweeper looks for stalled work (default 3,000 ms), and what counts as stalled (default 20 s untouched). */
  stalledCheckMs?: number;
  stalledSeconds?: number;
  /** Worker threads checking attestations (attest-pool.ts); 0 checks them on the event loop. Default defaultAttestWorkers(). */
  attestWorkers?: number;
}

export class Provisioner {
  private readonly inFlight = new Set<string>();
  private readonly settledIds: string[] = [];
  private readonly cas = new Map<string, { at: number; der: Promise<VendorAuthority | null> }>();
  private timer: NodeJS.Timeout | null = null;
  private collecting: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private waiters: Array<() => void> = [];
  private lastSweep = 0;
  private sweeperTimer: NodeJS.Timeout | null = null;
  private sweeping: Promise<void> | null = null;
  private attestPool: AttestationPool | null = null;
  readonly counts = { dispatched: 0, keyed: 0, done: 0, failed: 0, retried: 0 };

  constructor(private readonly svc: Services, private readonly options: ProvisionerOptions = {}) {}

  async start(): Promise<void> {
    const { svc } = this;
    const ota = svc.ota!;
    const workers = this.options.attestWorkers ?? defaultAttestWorkers();
    if (workers > 0) {
      this.attestPool = new AttestationPool(workers);
      this.attestPool.warm();
    }
    ota.on('settled', (s: OtaSettled) => {
      if (!this.inFlight.has(s.id)) return;
      this.settledIds.push(s.id);
      this.kick();
    });
    await svc.queue.workData<StepJob>(QUEUES.provisioningKeygen, (job) => this.step('keygen', job), { batchSize: 4, pollingIntervalSeconds: 0.5 });
    await svc.queue.workData<StepJob>(QUEUES.provisioningIdentity, (job) => this.step('identity', job), { batchSize: 4, pollingIntervalSeconds: 0.5 });
    await svc.queue.workData<{ batchId: string }>(QUEUES.provisioningAnchor, async ({ batchId }) => {
      const outcome = await runAnchorJob(svc, batchId);
      if (outcome !== 'not-ready' && outcome !== 'nothing-to-do') svc.log.info({ batchId, outcome }, 'batch anchoring');
    }, { batchSize: 1, pollingIntervalSeconds: 1 });
    this.timer = setInterval(() => this.kick(true), this.options.sweepMs ?? 1000);
    this.timer.unref();
    this.sweeperTimer = setInterval(() => {
      if (!this.sweeping && !this.stopped) this.sweeping = this.sweepStalled().finally(() => (this.sweeping = null));
    }, this.options.stalledCheckMs ?? 3000);
    this.sweeperTimer.unref();
  }

  /** Waiting SIMs nobody sent for `stalledSeconds` (keyed ones of an anchored batch included), and batches whose anchoring nobody drives. */
  private async sweepStalled(): Promise<void> {
    const { svc } = this;
    const window = this.options.window ?? 4000;
    try {
      if (this.inFlight.size < window / 2) {
        const stalled = (await svc.pool.query<{ batchId: string; state: string; iccids: string[] }>(
          `SELECT "batchId", state, array_agg(iccid) AS iccids
             FROM ((SELECT batch_id AS "batchId", state, iccid FROM provisioning_items
                     WHERE state IN ('queued', 'anchored') AND not_before < now() - make_interval(secs => $1) AND updated_at < now() - make_interval(secs => $1)
                     LIMIT 1000)
                   UNION ALL
                   -- Keyed items of a batch anchored a while ago whose first STORE DATA nobody sent.
                   (SELECT i.batch_id, i.state, i.iccid FROM provisioning_batches b JOIN provisioning_items i ON i.batch_id = b.id AND i.state = 'keyed'
                     WHERE b.state = 'identity' AND b.anchored_at < now() - make_interval(secs => $1)
                     LIMIT 1000)) stalled
            GROUP BY "batchId", state`,
          [this.options.stalledSeconds ?? 20],
        )).rows;
        for (const s of stalled) {
          // Sent in chunks of what one step job carries.
          for (let i = 0; i < s.iccids.length; i += CHUNK) {
            await this.step(s.state === 'queued' ? 'keygen' : 'identity', { batchId: s.batchId, iccids: s.iccids.slice(i, i + CHUNK) });
          }
        }
      }
      const batches = (await svc.pool.query<{ id: string }>(
        `SELECT b.id FROM provisioning_batches b
          WHERE (b.state = 'anchoring' AND b.updated_at < now() - make_interval(secs => $1))
             OR (b.state = 'keygen' AND (b.deadline_at <= now() OR NOT EXISTS (
                   SELECT 1 FROM provisioning_items i WHERE i.batch_id = b.id AND i.state IN ('queued', 'keygen-sent'))))
          LIMIT 4`,
        [this.options.stalledSeconds ?? 20],
      )).rows;
      for (const b of batches) await runAnchorJob(svc, b.id, { confirmWaitMs: 5_000 }).catch(() => undefined);
    } catch (e) {
      if (!this.stopped) svc.log.warn({ err: e }, 'provisioning sweeper failed; retrying');
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.sweeperTimer) clearInterval(this.sweeperTimer);
    await this.sweeping;
    for (const w of this.waiters.splice(0)) w();
    await this.collecting;
    await this.attestPool?.close();
  }

  private async step(step: StepName, job: StepJob): Promise<void> {
    const window = this.options.window ?? 4000;
    while (this.inFlight.size >= window && !this.stopped) await new Promise<void>((r) => this.waiters.push(r));
    if (this.stopped) throw new Error('stopping: the job is left for another worker');
    const ids = await dispatchStep(this.svc, step, job);
    this.counts.dispatched += ids.length;
    for (const id of ids) this.inFlight.add(id);
  }

  /** Run the collector now (or once more after the current run). */
  private kick(sweep = false): void {
    if (this.stopped) return;
    if (sweep) this.lastSweep = 0;
    if (this.collecting) {
      this.again = true;
      return;
    }
    this.collecting = this.collectLoop().finally(() => {
      this.collecting = null;
      if (this.again && !this.stopped) {
        this.again = false;
        this.kick();
      }
    });
  }

  private async collectLoop(): Promise<void> {
    try {
      for (;;) {
        const ids = this.settledIds.splice(0, 1000);
        const sweep = ids.length === 0;
        if (sweep && Date.now() - this.lastSweep < (this.options.sweepMs ?? 1000)) return;
        if (sweep) this.lastSweep = Date.now();
        const policy = { retryBaseSeconds: this.options.retryBaseSeconds ?? 5, maxAttempts: this.options.maxAttempts ?? MAX_ATTEMPTS };
        const r = await collectSettled(this.svc, (importId) => this.caOf(importId), { policy, attest: this.attestPool?.attest ?? attestInline, ...(sweep ? { limit: 1000 } : { messageIds: ids }) });
        for (const id of ids) this.inFlight.delete(id);
        this.counts.keyed += r.keyed;
        this.counts.done += r.done;
        this.counts.failed += r.failed;
        this.counts.retried += r.retried;
        if (sweep) await this.forgetSettled();
        for (const w of this.waiters.splice(0)) w();
        for (const batchId of r.keygenBatches) {
          if (!(await keygenOpen(this.svc.pool, batchId))) {
            await this.svc.queue.sendTo(null, QUEUES.provisioningAnchor, { batchId }, { singletonKey: `anchor:${batchId}` });
            this.svc.queue.nudgeQueue(QUEUES.provisioningAnchor);
          }
        }
        for (const batchId of r.identityBatches) {
          if (await completeIfPushed(this.svc, batchId)) this.svc.log.info({ batchId }, 'provisioning batch completed');
        }
        if (sweep && r.handled === 0) return;
      }
    } catch (e) {
      if (!this.stopped && !isChainError(e)) this.svc.log.warn({ err: e }, 'provisioning collector failed; retrying');
    }
  }

  /** Drop from the window what settled without this process seeing it (another process's PoR, an expiry). */
  private async forgetSettled(): Promise<void> {
    if (this.inFlight.size === 0) return;
    const open = new Set((await this.svc.pool.query<{ id: string }>(
      `SELECT id::text AS id FROM ota_messages WHERE id = ANY($1::bigint[]) AND is_open`, [[...this.inFlight]])).rows.map((r) => r.id));
    for (const id of this.inFlight) if (!open.has(id)) this.inFlight.delete(id);
  }

  /** The vendor CA of an import, cached for a minute (a PUT replacing it is seen soon after). */
  private caOf(importId: string): Promise<VendorAuthority | null> {
    const cached = this.cas.get(importId);
    if (cached && Date.now() - cached.at < 60_000) return cached.der;
    const der = getVendorCa(this.svc.pool, importId).then((d) => (d ? vendorAuthority(d) : null));
    der.catch(() => this.cas.delete(importId));
    this.cas.set(importId, { at: Date.now(), der });
    return der;
  }
}
