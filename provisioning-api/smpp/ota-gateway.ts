/**
 * OTA over SMPP, end to end on the backend's side: a command list for a SIM becomes an OTA
 * message row (next counter, the SIM's keyset, secured and segmented by the protocol layer),
 * its SMS parts go out as submit_sm, delivery receipts move the row, and the card's PoR (an
 * MO, concatenated or not) is matched by MSISDN, TAR and counter, verified, and recorded.
 *
 * The database is the source of truth: every row is leased to the process sending it; a row
 * whose sender died is claimed again when its lease runs out and sent with the same bytes
 * and counter, so the card runs it at most once (TS 102 225 counter mode "higher"). A submit
 * whose outcome is unknown (timeout, session lost) is sent again and counted in `attempts`;
 * the copy's receipts are recorded beside the original's and the card's answer to a copy
 * (counter low) is kept in ota_inbound as a duplicate. One open command per SIM and TAR is
 * the intended use: an unsecured error PoR carries no counter to tell two apart.
 */
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import {
  commandSmsUserData,
  decodeSpi,
  encodeSpi,
  type CommandApdu,
  type CompactResponse,
  type OperatorKeyset,
  type Spi,
} from '../../sim-applet/index.js';
import type { Pool, PoolClient } from '../db/pool.js';
import { withTransaction } from '../db/pool.js';
import {
  allocateCounters,
  claimQueuedOtaMessages,
  expireOverdueOtaMessages,
  failOtaMessage,
  insertInbound,
  insertOtaMessages,
  markSubmitted,
  openOtaMessagesForHandset,
  recentOtaMessagesForHandset,
  recordPors,
  recordReceipts,
  releaseOtaMessage,
  simsForOta,
  type InboundRecord,
  type NewOtaMessage,
  type OtaMessage,
  type OtaMessageState,
  type PorRecord,
  type ReceiptRecord,
  type SubmittedPart,
} from '../db/repositories/ota-messages.js';
import type { MasterKeyring } from '../secrets/master-key.js';
import type smppTypes from 'smpp';
import { Batcher } from './batcher.js';
import { Esme, type EsmeOptions } from './esme.js';
import { isSmppError, outcomeUnknown, SMPP_STATUS, SmppError } from './errors.js';
import { MoReassembly } from './mo-reassembly.js';
import { otaSubmitFields, userDataOf, type SmppAddress } from './ota-pdu.js';
import { matchPor, porTarOf, type PorCandidate } from './por-match.js';
import { isDeliveryReceipt, parseDeliveryReceipt } from './receipts.js';
import { SimKeysets } from './sim-keys.js';
import { keysetsForOtaMessage } from '../db/repositories/keyset-rotations.js';
import { InFlightTable, type InFlight } from './in-flight.js';

/** The simchain applet's administration SPI: ciphered, CC, counter must be higher; PoR always, ciphered, CC, by SMS-SUBMIT. */
export const ADMIN_SPI: Spi = { integrity: 'cc', ciphered: true, counter: 'higher', por: 'always', porIntegrity: 'cc', porCiphered: true, porViaSubmit: true };

export interface OtaRequest {
  iccid: string;
  /** C-APDUs, or secured data already in TS 102 226 compact form. */
  commands: readonly CommandApdu[] | Uint8Array;
  /** Default: the SIM's lowest key index (or `keyset.index`). */
  keysetIndex?: number;
  /**
   * Secure with these keys instead of the SIM's stored keyset of that index: a key rotation's
   * probe of keys the card may hold but the database does not yet (services/keyset-rotation.ts).
   * The PoR is verified with the same keys; a process that did not send the message finds them
   * sealed on the rotation row (keysetsForOtaMessage).
   */
  keyset?: OperatorKeyset;
  spi?: Spi;
  outboxId?: string;
  jobId?: string;
}

export interface OtaGatewayOptions {
  pool: Pool;
  keyring: MasterKeyring;
  smpp: EsmeOptions;
  /** The operator's originating address of MT OTA messages. */
  source: SmppAddress;
  /** SMS validity at the SMSC (§5.2.15). Default 3,600 s. */
  validitySeconds?: number;
  /** A message with no PoR this long after it was queued expires. Default validity + 300 s. */
  porTimeoutSeconds?: number;
  /** Submits of one part whose outcome was unknown, before the message fails. Default 5. */
  maxAttempts?: number;
  /** Expiry and reclaim sweep period. Default 1,000 ms. */
  sweepMs?: number;
  /** Lease of a row being sent. Default 300 s. */
  leaseSeconds?: number;
  batch?: { maxItems?: number; delayMs?: number };
  /** How long an unsecured "counter low" PoR waits for the command's own PoR. Default 3,000 ms. */
  counterLowGraceMs?: number;
}

export interface OtaSettled {
  id: string;
  state: OtaMessageState;
  porStatus: number | null;
  response: CompactResponse | undefined;
}


const ERROR_HELD_MS = 30_000;
const MAX_WATCHES = 10_000;
/** TS 102 225 §5.2.3 response status: counter low (a replay, or a copy). */
const POR_COUNTER_LOW = 0x02;

export class OtaGateway extends EventEmitter {
  readonly esme: Esme;
  readonly owner = `ota-${randomUUID()}`;
  private readonly keys: SimKeysets;
  private readonly flights = new InFlightTable();
  private readonly mo = new MoReassembly(ERROR_HELD_MS);
  private readonly submittedWriter: Batcher<SubmittedPart[]>;
  private readonly receiptWriter: Batcher<ReceiptRecord, boolean>;
  private readonly porWriter: Batcher<PorRecord, boolean>;
  private readonly inboundWriter: Batcher<InboundRecord>;
  private sweepTimer: NodeJS.Timeout | null = null;
  private sweeping = false;
  private stopped = false;
  private readonly active = new Set<Promise<unknown>>();
  readonly counts = { submitted: 0, receipts: 0, unknownReceipts: 0, pors: 0, inbound: 0 };
  private readonly watchers = new Map<string, Set<(s: OtaSettled) => void>>();

  constructor(private readonly options: OtaGatewayOptions) {
    super();
    this.on('settled', (s: OtaSettled) => {
      const fns = this.watchers.get(s.id);
      if (!fns) return;
      this.watchers.delete(s.id);
      for (const fn of fns) fn(s);
    });
    this.keys = new SimKeysets(options.pool, options.keyring);
    this.esme = new Esme(options.smpp, (pdu) => this.inbound(pdu));
    const pool = options.pool;
    const b = options.batch ?? {};
    this.submittedWriter = new Batcher(async (items) => {
      await markSubmitted(pool, items.flat());
      return items.map(() => undefined);
    }, b);
    this.receiptWriter = new Batcher(async (items) => {
      const r = await recordReceipts(pool, items);
      this.counts.unknownReceipts += items.length - r.matched;
      return items.map(() => true);
    }, b);
    this.porWriter = new Batcher(async (items) => {
      const open = await recordPors(pool, items);
      return items.map((p) => open.has(p.otaMessageId));
    }, b);
    this.inboundWriter = new Batcher(async (items) => {
      await insertInbound(pool, items);
      return items.map(() => undefined);
    }, b);
  }

  /**
   * Call `fn` once when message `id` settles in this process (its PoR, an expiry, a failure);
   * returns what cancels it. Only a wake-up: a PoR another process received settles there, so
   * the database stays what a waiter reads. The oldest watches beyond 10,000 are dropped.
   */
  watch(id: string, fn: (s: OtaSettled) => void): () => void {
    let fns = this.watchers.get(id);
    if (!fns) {
      if (this.watchers.size >= MAX_WATCHES) this.watchers.delete(this.watchers.keys().next().value!);
      fns = new Set();
      this.watchers.set(id, fns);
    }
    const set = fns;
    set.add(fn);
    return () => {
      set.delete(fn);
      if (set.size === 0 && this.watchers.get(id) === set) this.watchers.delete(id);
    };
  }

  async start(): Promise<void> {
    await this.esme.start();
    this.sweepTimer = setInterval(() => void this.sweep(), this.options.sweepMs ?? 1000);
    this.sweepTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    await this.esme.stop();
    await Promise.allSettled([...this.active]);
    await Promise.all([this.submittedWriter.drain(), this.receiptWriter.drain(), this.porWriter.drain(), this.inboundWriter.drain()]);
  }

  /**
   * Write one OTA message per request (queued, counter allocated, packet secured) in one
   * transaction, then submit them. Resolves with the message ids once they are written.
   */
  async send(requests: readonly OtaRequest[]): Promise<string[]> {
    const prepared = await withTransaction(this.options.pool, (client) => this.prepare(client, requests));
    prepared.dispatch();
    return prepared.ids;
  }

  /**
   * Write the OTA messages of `requests` inside the caller's transaction on `client`, so that
   * what asked for them (a provisioning step, a rotation) is recorded in the same commit.
   * Call `dispatch()` once that transaction has committed; if it rolls back, nothing was
   * written and nothing is sent. A process that dies between the commit and `dispatch()`
   * leaves the rows queued under its lease: the sweep of any gateway sends them later.
   */
  async prepare(client: PoolClient, requests: readonly OtaRequest[]): Promise<{ ids: string[]; dispatch(): void }> {
    if (this.stopped) throw new SmppError('SMPP_STOPPED', 'the OTA gateway is stopped');
    if (requests.length === 0) return { ids: [], dispatch: () => undefined };
    const validity = this.options.validitySeconds ?? 3600;
    const expiresAt = new Date(Date.now() + (this.options.porTimeoutSeconds ?? validity + 300) * 1000);
    const lease = { owner: this.owner, seconds: this.options.leaseSeconds ?? 300 };
    const sims = new Map((await simsForOta(client, requests.map((r) => r.iccid))).map((s) => [s.iccid, s]));
    const opened = new Map<string, Map<number, OperatorKeyset>>();
    for (const r of requests) {
      const sim = sims.get(r.iccid);
      if (!sim) throw new OtaRequestError('SIM_NOT_FOUND', `no SIM ${r.iccid}`, { iccid: r.iccid });
      if (!opened.has(r.iccid)) opened.set(r.iccid, await this.keys.open(sim));
    }
    const indexOf = (r: OtaRequest): number => r.keyset?.index ?? r.keysetIndex ?? Math.min(...opened.get(r.iccid)!.keys());
    const wanted = new Map<string, { iccid: string; keysetIndex: number; count: number }>();
    for (const r of requests) {
      const keysetIndex = indexOf(r);
      if (!opened.get(r.iccid)!.has(keysetIndex)) throw new OtaRequestError('KEYSET_NOT_FOUND', `SIM ${r.iccid} has no keyset ${keysetIndex}`, { iccid: r.iccid, keysetIndex });
      const k = `${r.iccid}/${keysetIndex}`;
      const w = wanted.get(k) ?? { iccid: r.iccid, keysetIndex, count: 0 };
      w.count++;
      wanted.set(k, w);
    }
    const last = await allocateCounters(client, [...wanted.values()]);
    const next = new Map([...wanted].map(([k, w]) => [k, last.get(k)! - w.count + 1]));
    const rows: NewOtaMessage[] = [];
    const flights: Array<Omit<InFlight, 'id' | 'submitted' | 'smppIds' | 'attempts'> & { userData: Uint8Array[] }> = [];
    for (const r of requests) {
      const sim = sims.get(r.iccid)!;
      const keysetIndex = indexOf(r);
      const k = `${r.iccid}/${keysetIndex}`;
      const cntr = next.get(k)!;
      next.set(k, cntr + 1);
      const spi = r.spi ?? ADMIN_SPI;
      const keyset = r.keyset ?? opened.get(r.iccid)!.get(keysetIndex)!;
      const userData = commandSmsUserData({ spi, keyset, tar: Buffer.from(sim.tar, 'hex'), cntr, commands: r.commands as CommandApdu[] | Uint8Array });
      rows.push({ iccid: r.iccid, msisdn: sim.msisdn, tar: sim.tar, keysetIndex, cntr, spi: Buffer.from(encodeSpi(spi)).toString('hex'), userData, expiresAt, outboxId: r.outboxId ?? null, jobId: r.jobId ?? null });
      flights.push({ iccid: r.iccid, msisdn: sim.msisdn, tar: sim.tar, cntr, spi, keysetIndex, keyset, userData });
    }
    const written = await insertOtaMessages(client, rows, lease);
    let dispatched = false;
    return {
      ids: written.map((r) => String(r.id)),
      dispatch: () => {
        if (dispatched || this.stopped) return;
        dispatched = true;
        written.forEach((row, i) => this.track(this.dispatch({ ...flights[i]!, id: String(row.id) }, flights[i]!.userData, 0)));
      },
    };
  }

  private track(p: Promise<unknown>): void {
    this.active.add(p);
    void p.finally(() => this.active.delete(p));
  }

  /** Submit every part; record the message ids; on an unknown outcome send that part again. */
  private async dispatch(flight: Omit<InFlight, 'submitted' | 'smppIds' | 'attempts'>, userData: readonly Uint8Array[], previousAttempts: number): Promise<void> {
    let markWritten!: () => void;
    let markFailed!: (e: unknown) => void;
    const entry: InFlight = { ...flight, smppIds: [], attempts: previousAttempts, submitted: new Promise<void>((res, rej) => { markWritten = res; markFailed = rej; }) };
    entry.submitted.catch(() => undefined);
    this.flights.add(entry);
    const parts: SubmittedPart[] = [];
    let attempts = previousAttempts;
    try {
      for (let i = 0; i < userData.length; i++) {
        for (let attempt = 1; ; attempt++) {
          attempts = Math.max(attempts, previousAttempts + attempt);
          entry.attempts = attempts;
          try {
            const fields = otaSubmitFields(userData[i]!, { source: this.options.source, msisdn: flight.msisdn, registeredDelivery: true, validitySeconds: this.options.validitySeconds ?? 3600 });
            const r = await this.esme.submit(fields);
            this.flights.submittedAs(entry, r.messageId);
            parts.push({ otaMessageId: flight.id, part: i + 1, attempt: previousAttempts + attempt, smppMessageId: r.messageId, at: new Date() });
            break;
          } catch (e) {
            if (outcomeUnknown(e) && attempt < (this.options.maxAttempts ?? 5) && !this.stopped) {
              await new Promise((r) => setTimeout(r, Math.min(5000, 100 * 2 ** attempt)));
              continue;
            }
            throw e;
          }
        }
      }
      await this.submittedWriter.add(parts);
      this.counts.submitted++;
      markWritten();
    } catch (e) {
      markFailed(e);
      this.flights.remove(entry);
      if (parts.length > 0) await this.submittedWriter.add(parts).catch(() => undefined);
      if (isSmppError(e, 'SMPP_STOPPED')) {
        // Left queued with its lease: another sender (or this one, restarted) sends it later.
        await releaseOtaMessage(this.options.pool, flight.id, 0, attempts, 'sender stopped').catch(() => undefined);
        return;
      }
      const reason = e instanceof SmppError ? `${e.code}${e.status === undefined ? '' : ` 0x${e.status.toString(16)}`}: ${e.message}` : String(e);
      if (await failOtaMessage(this.options.pool, flight.id, reason, attempts).catch(() => false)) {
        this.emit('settled', { id: flight.id, state: 'failed', porStatus: null, response: undefined } satisfies OtaSettled);
      }
    }
  }

  /** deliver_sm from the SMSC: a delivery receipt or an MO (the PoR). Resolves to the response status. */
  private async inbound(pdu: smppTypes.PDU): Promise<number> {
    if (isDeliveryReceipt(pdu)) {
      const receipt = parseDeliveryReceipt(pdu);
      if (receipt === null) return SMPP_STATUS.ESME_ROK;
      this.counts.receipts++;
      let submitted = this.flights.bySmppId(receipt.messageId);
      if (!submitted) {
        // The submit_sm_resp that named this id may have come in the same read as this receipt
        // (an SMSC that delivers at once, this process busy): the code waiting for it runs in
        // a microtask, after this handler. Let it record the id, then look again; else the
        // receipt could reach the database before its submission row and be lost as unknown.
        await new Promise<void>((resolve) => setImmediate(resolve));
        submitted = this.flights.bySmppId(receipt.messageId);
      }
      if (submitted) await submitted.catch(() => undefined);
      await this.receiptWriter.add({ smppMessageId: receipt.messageId, stat: receipt.stat, err: receipt.err, at: new Date() });
      this.flights.receiptSeen(receipt.messageId);
      return SMPP_STATUS.ESME_ROK;
    }
    const userData = userDataOf(pdu);
    const msisdn = `+${pdu.source_addr ?? ''}`;
    if (MoReassembly.isPart(userData)) {
      return this.mo.accept(msisdn, userData, async (m) => {
        if (m.kind !== 'response') return this.recordInbound({ msisdn, tar: null, outcome: 'invalid', otaMessageId: null, porStatus: null, userData, detail: 'a concatenated MO that is not a PoR (IE 71)' });
        return this.por(msisdn, Buffer.concat([Uint8Array.of(0x02, 0x71, 0x00), m.data]));
      });
    }
    return this.por(msisdn, userData);
  }

  private async por(msisdn: string, userData: Uint8Array): Promise<number> {
    this.counts.pors++;
    const tar = porTarOf(userData);
    if (tar === null) return this.recordInbound({ msisdn, tar: null, outcome: 'invalid', otaMessageId: null, porStatus: null, userData, detail: 'not a PoR (UDH 027100)' });
    const candidates = await this.candidates(msisdn, tar);
    const match = matchPor(userData, candidates);
    if (match.kind === 'none') {
      const recent = (await recentOtaMessagesForHandset(this.options.pool, msisdn, tar, 3))[0];
      // An unsecured PoR (RHL 0A, no CC) has its status in clear at offset 15: 02 after the
      // command was answered is the card refusing a copy of it.
      const unsecuredStatus = userData.length > 15 && userData[5] === 0x0a ? userData[15]! : null;
      const counterLow = unsecuredStatus === POR_COUNTER_LOW;
      const outcome = recent && (recent.attempts > 1 || counterLow) ? 'duplicate' : candidates.length > 0 ? 'invalid' : 'unmatched';
      return this.recordInbound({ msisdn, tar, outcome, otaMessageId: recent?.id ?? null, porStatus: unsecuredStatus, userData, detail: match.detail });
    }
    if (match.kind === 'unsecured-error' && match.por.status === POR_COUNTER_LOW) {
      // TS 102 225 §5.2 status 02 carries no counter: it may be the card refusing a copy of a
      // command it already took (we resent after an unknown outcome, or the SMSC delivered
      // twice), whose verified PoR can arrive after it. Wait for that before believing it.
      const settledMeanwhile = await this.settledWithin(match.candidate.id, this.options.counterLowGraceMs ?? 3000);
      if (settledMeanwhile) {
        return this.recordInbound({ msisdn, tar, outcome: 'duplicate', otaMessageId: match.candidate.id, porStatus: match.por.status, userData, detail: 'the card refused a copy of a command it had taken (counter low)' });
      }
    }
    const flight = this.flights.find(msisdn, tar, match.candidate.id);
    if (flight) await flight.submitted.catch(() => undefined);
    const response = match.kind === 'verified' ? match.response : undefined;
    const open = await this.porWriter.add({
      otaMessageId: match.candidate.id, status: match.por.status, ccValid: match.por.ccValid,
      data: match.por.data.length > 0 ? match.por.data : null, at: new Date(),
    });
    if (flight) this.flights.remove(flight);
    if (!open) {
      return this.recordInbound({ msisdn, tar, outcome: 'duplicate', otaMessageId: match.candidate.id, porStatus: match.por.status, userData, detail: 'the command already has its PoR' });
    }
    const state: OtaMessageState = match.por.status === 0 ? 'por-received' : 'por-error';
    this.emit('settled', { id: match.candidate.id, state, porStatus: match.por.status, response } satisfies OtaSettled);
    return SMPP_STATUS.ESME_ROK;
  }

  /** Whether the message gets its PoR (from another MO) within `ms`. */
  private settledWithin(id: string, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.off('settled', on);
        resolve(false);
      }, ms);
      const on = (s: OtaSettled) => {
        if (s.id !== id) return;
        clearTimeout(timer);
        this.off('settled', on);
        resolve(true);
      };
      this.on('settled', on);
    });
  }

  private async recordInbound(record: InboundRecord): Promise<number> {
    this.counts.inbound++;
    await this.inboundWriter.add(record);
    return SMPP_STATUS.ESME_ROK;
  }

  /** The open commands to this handset and TAR with their keys: this process's first, else the database's. */
  private async candidates(msisdn: string, tar: string): Promise<PorCandidate[]> {
    const local = this.flights.forHandset(msisdn, tar);
    if (local && local.length > 0) {
      return Promise.all(local.map(async (f) => ({ id: f.id, cntr: f.cntr, spi: f.spi, attempts: f.attempts, keyset: f.keyset ?? (await this.keysetOf(f.iccid, f.keysetIndex, f.id)) })));
    }
    const rows = await openOtaMessagesForHandset(this.options.pool, msisdn, tar);
    return Promise.all(rows.map(async (m) => ({ id: String(m.id), cntr: Number(m.cntr), spi: decodeSpi(Buffer.from(m.spi, 'hex')), attempts: m.attempts, keyset: await this.keysetOf(m.iccid, m.keysetIndex, String(m.id)) })));
  }

  /** The keyset message `messageId` was secured with: the SIM's, or a key rotation's new one (OtaRequest.keyset). */
  private async keysetOf(iccid: string, index: number, messageId: string): Promise<OperatorKeyset> {
    const sim = await keysetsForOtaMessage(this.options.pool, iccid, messageId);
    const keyset = sim ? (await this.keys.open(sim)).get(index) : undefined;
    if (!keyset) throw new OtaRequestError('KEYSET_NOT_FOUND', `SIM ${iccid} has no keyset ${index}`, { iccid, keysetIndex: index });
    return keyset;
  }

  /** Expire what waited too long; send what is queued with no live sender (a crash, a stop). */
  private async sweep(): Promise<void> {
    if (this.sweeping || this.stopped) return;
    this.sweeping = true;
    try {
      for (const id of await expireOverdueOtaMessages(this.options.pool)) {
        this.flights.forget(id);
        this.emit('settled', { id, state: 'expired', porStatus: null, response: undefined } satisfies OtaSettled);
      }
      const claimed = await claimQueuedOtaMessages(this.options.pool, this.owner, 100, this.options.leaseSeconds ?? 300);
      for (const m of claimed) this.track(this.resend(m));
    } catch (e) {
      this.emit('error', e);
    } finally {
      this.sweeping = false;
    }
  }

  private async resend(m: OtaMessage): Promise<void> {
    const flight = { id: String(m.id), iccid: m.iccid, msisdn: m.msisdn, tar: m.tar, cntr: Number(m.cntr), spi: decodeSpi(Buffer.from(m.spi, 'hex')), keysetIndex: m.keysetIndex, keyset: null };
    await this.dispatch(flight, m.userData, m.attempts);
  }
}

export class OtaRequestError extends Error {
  override readonly name = 'OtaRequestError';
  constructor(readonly code: 'SIM_NOT_FOUND' | 'KEYSET_NOT_FOUND', message: string, readonly details: Record<string, unknown>) {
    super(message);
  }
}
