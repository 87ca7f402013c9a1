/**
 * The SMSC simulator: an SMPP 3.4 server on the `smpp` package standing in for the
 * operator's SMSC. Accounts bind with system_id and password (§4.1; a wrong one is refused
 * with ESME_RINVSYSID / ESME_RINVPASWD). An `operator` account submits MT (§4.4): each is
 * answered with a message_id, routed by destination MSISDN to the radio network (the
 * handset fleet's `network` bind), stored and forwarded while the handset is absent, and
 * reported back with a delivery receipt when registered_delivery asks (§5.2.17). A `network`
 * account submits the handsets' MO, which is routed to the operator's bind as deliver_sm.
 * A throughput cap per bind answers ESME_RTHROTTLED above it; faults can be injected.
 */
import type { AddressInfo } from 'node:net';
import type smppTypes from 'smpp';
import { segmentOtaPacket } from '../../sim-applet/index.js';
import { EsmeQueue } from './esme-queue.js';
import { FaultInjector, type SmscFaults } from './faults.js';
import { MoJoiner } from './mo-joiner.js';
import { MtRouter, type MtMessage } from './mt-router.js';
import { Peer, type PeerRole } from './peer.js';
import { corkWrites, smppRawMode, STATUS, userDataOf } from './raw-mode.js';
import { receiptFields, type ReceiptStat } from './receipt.js';
import { ThroughputCap } from './throughput.js';

const smpp = smppRawMode();
type Session = smppTypes.Session;
type Pdu = smppTypes.PDU;

export interface SmscAccount {
  systemId: string;
  password: string;
  role: PeerRole;
  /** submit_sm per second per bind; above it ESME_RTHROTTLED. */
  maxPerSecond?: number;
}

export interface SmscOptions {
  accounts: SmscAccount[];
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** PEM key and certificate: the SMSC speaks SMPP over TLS. */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** Validity when submit_sm gives none. Default 86,400 s. */
  defaultValiditySeconds?: number;
  /** Store and forward: first pause before trying an absent handset again, and the longest. */
  retry?: { initialMs?: number; maxMs?: number };
  /** deliver_sm outstanding per session. Default 100. */
  window?: number;
  pduTimeoutMs?: number;
  faults?: SmscFaults;
  /**
   * Join concatenated MO before it goes to the operator: one deliver_sm with the whole message
   * in message_payload instead of one per part (mo-joiner.ts). `holdMs` (default 5,000): how
   * long parts wait for the rest before they go on as they came. Default: off, each part as it came.
   */
  joinMo?: boolean | { holdMs?: number };
}

export interface SmscStats {
  mtTaken: number;
  mtDelivered: number;
  mtExpired: number;
  mtUndeliverable: number;
  receipts: number;
  mo: number;
  /** Concatenated MO delivered to the operator as one message (joinMo). */
  moJoined: number;
  throttled: number;
  refusedBinds: number;
  faults: number;
}

/** §5.2.12: the messaging mode and message type bits cleared, UDHI (0x40) kept. */
const UDHI = 0x40;
const MAX_SMS_USER_DATA = 140;

export class SmscSimulator {
  private server: smppTypes.Server | null = null;
  private readonly peers = new Set<Peer>();
  private readonly accounts: Map<string, SmscAccount>;
  private readonly operatorQueues = new Map<string, EsmeQueue>();
  private readonly router: MtRouter;
  private readonly faults = new FaultInjector();
  private readonly idPrefix = Date.now().toString(36).slice(-4);
  private nextId = 0;
  private concatRef = 0;
  private readonly moJoiner: MoJoiner | null;
  readonly stats: SmscStats = { mtTaken: 0, mtDelivered: 0, mtExpired: 0, mtUndeliverable: 0, receipts: 0, mo: 0, moJoined: 0, throttled: 0, refusedBinds: 0, faults: 0 };

  constructor(private readonly options: SmscOptions) {
    this.accounts = new Map(options.accounts.map((a) => [a.systemId, a]));
    const join = options.joinMo;
    this.moJoiner = join ? new MoJoiner((fields) => this.operatorFor(String(fields.destination_addr ?? ''))?.push(fields), typeof join === 'object' ? join.holdMs : undefined) : null;
    for (const a of options.accounts) if (a.role === 'operator') this.operatorQueues.set(a.systemId, new EsmeQueue(() => this.peersOf(a.systemId)));
    const retry = { initialMs: options.retry?.initialMs ?? 1000, maxMs: options.retry?.maxMs ?? 60_000 };
    this.router = new MtRouter(() => this.networkPeers(), (m, stat, err) => this.finalMt(m, stat, err), retry);
    if (options.faults) this.faults.set(options.faults);
  }

  async start(): Promise<{ host: string; port: number }> {
    const host = this.options.host ?? '127.0.0.1';
    const server = smpp.createServer(this.options.tls ? { key: this.options.tls.key, cert: this.options.tls.cert } : {}, (s) => this.session(s));
    this.server = server;
    server.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? 0, host, () => resolve());
    });
    return { host, port: (server.address() as AddressInfo).port };
  }

  async stop(): Promise<void> {
    this.router.stop();
    this.moJoiner?.stop();
    for (const q of this.operatorQueues.values()) q.stop();
    const server = this.server;
    if (!server) return;
    this.server = null;
    for (const p of this.peers) p.session.destroy();
    for (const s of server.sessions) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Change the injected faults while running. */
  setFaults(faults: SmscFaults): void {
    this.faults.set(faults);
  }

  /** MT held for absent handsets or in flight. */
  get heldMt(): number {
    return this.router.held;
  }

  /** Receipts and MO waiting for the operator's bind. */
  get heldForOperators(): number {
    let n = 0;
    for (const q of this.operatorQueues.values()) n += q.waiting;
    return n;
  }

  /** Cut every session of this account (as a network failure would). */
  disconnect(systemId: string): void {
    for (const p of this.peers) if (p.systemId === systemId) p.session.destroy();
  }

  private session(session: Session): void {
    let peer: Peer | null = null;
    let cap: ThroughputCap | null = null;
    corkWrites(session);
    session.on('error', () => session.destroy());
    session.on('close', () => {
      if (!peer) return;
      peer.close();
      this.peers.delete(peer);
    });
    session.on('pdu', (pdu: Pdu) => {
      if (pdu.isResponse()) return;
      switch (pdu.command) {
        case 'bind_transceiver':
        case 'bind_transmitter':
        case 'bind_receiver': {
          if (peer) {
            session.send(pdu.response({ command_status: STATUS.ESME_RALYBND }));
            return;
          }
          const account = this.accounts.get(String(pdu.system_id ?? ''));
          const status = !account ? STATUS.ESME_RINVSYSID : account.password !== pdu.password ? STATUS.ESME_RINVPASWD : STATUS.ESME_ROK;
          if (status !== STATUS.ESME_ROK) {
            this.stats.refusedBinds++;
            session.send(pdu.response({ command_status: status }), () => session.close());
            return;
          }
          peer = new Peer(session, account!.systemId, account!.role, pdu.command !== 'bind_transmitter', this.options.window ?? 100, this.options.pduTimeoutMs ?? 10_000);
          cap = account!.maxPerSecond ? new ThroughputCap(account!.maxPerSecond) : null;
          this.peers.add(peer);
          session.send(pdu.response({ system_id: 'simchain-smsc' }));
          if (peer.role === 'network') this.router.pump();
          else this.operatorQueues.get(peer.systemId)?.pump();
          return;
        }
        case 'enquire_link':
          session.send(pdu.response());
          return;
        case 'unbind':
          session.send(pdu.response(), () => session.close());
          return;
        case 'submit_sm':
          if (!peer) {
            session.send(pdu.response({ command_status: STATUS.ESME_RINVBNDSTS }));
            return;
          }
          if (cap && !cap.take()) {
            this.stats.throttled++;
            session.send(pdu.response({ command_status: STATUS.ESME_RTHROTTLED }));
            return;
          }
          if (peer.role === 'operator') this.mt(session, pdu);
          else this.mo(session, pdu);
          return;
        default:
          session.send(pdu.response({ command_status: peer ? STATUS.ESME_RINVCMDID : STATUS.ESME_RINVBNDSTS }));
      }
    });
  }

  /** submit_sm from the operator: take it (message_id), route it by destination MSISDN. */
  private mt(session: Session, pdu: Pdu): void {
    const dest = String(pdu.destination_addr ?? '');
    if (!/^\d{1,20}$/.test(dest)) {
      session.send(pdu.response({ command_status: STATUS.ESME_RINVDSTADR }));
      return;
    }
    const userData = userDataOf(pdu);
    const parts = this.partsOf(userData, (pdu.esm_class ?? 0) & UDHI);
    if (parts === null) {
      session.send(pdu.response({ command_status: STATUS.ESME_RINVMSGLEN }));
      return;
    }
    const fault = this.faults.decide();
    if (fault.kind !== 'none') this.stats.faults++;
    if (fault.kind === 'drop') return;
    if (fault.kind === 'refuse') {
      session.send(pdu.response({ command_status: fault.status }));
      return;
    }
    const messageId = `${this.idPrefix}${(++this.nextId).toString(16).padStart(8, '0')}`;
    const now = new Date();
    const validity = pdu.validity_period instanceof Date ? pdu.validity_period.getTime() : now.getTime() + (this.options.defaultValiditySeconds ?? 86_400) * 1000;
    const m: MtMessage = {
      messageId,
      dest,
      fields: {
        source_addr_ton: pdu.source_addr_ton ?? 0,
        source_addr_npi: pdu.source_addr_npi ?? 0,
        source_addr: pdu.source_addr ?? '',
        dest_addr_ton: pdu.dest_addr_ton ?? 0,
        dest_addr_npi: pdu.dest_addr_npi ?? 0,
        destination_addr: dest,
        esm_class: (pdu.esm_class ?? 0) & UDHI,
        protocol_id: pdu.protocol_id ?? 0,
        data_coding: pdu.data_coding ?? 0,
        registered_delivery: pdu.registered_delivery ?? 0,
      },
      parts,
      next: 0,
      submittedAt: now,
      expiresAt: validity,
      attempts: 0,
    };
    this.stats.mtTaken++;
    if (fault.kind === 'disconnect') {
      // Taken and routed, never answered: the ESME cannot tell whether it went through.
      this.router.submit(m);
      session.destroy();
      return;
    }
    const answer = () => session.send(pdu.response({ message_id: messageId }));
    if (fault.kind === 'delay') setTimeout(answer, fault.ms).unref();
    else answer();
    this.router.submit(m);
  }

  /**
   * The SMS the user data becomes on the air interface: itself when it fits one SMS; an OTA
   * command packet sent whole in message_payload is cut as TS 31.115 says (concatenation IE
   * and packet identifier 70 in the first part); anything else longer than an SMS is refused.
   */
  private partsOf(userData: Buffer, udhi: number): Buffer[] | null {
    if (userData.length <= MAX_SMS_USER_DATA) return [userData];
    if (udhi && userData[0] === 0x02 && userData[1] === 0x70 && userData[2] === 0x00) {
      this.concatRef = (this.concatRef + 1) & 0xff;
      return segmentOtaPacket(userData.subarray(3), 'command', this.concatRef).map((p) => Buffer.from(p));
    }
    return null;
  }

  private finalMt(m: MtMessage, stat: ReceiptStat, err: number): void {
    if (stat === 'DELIVRD') this.stats.mtDelivered++;
    else if (stat === 'EXPIRED') this.stats.mtExpired++;
    else this.stats.mtUndeliverable++;
    const rd = (m.fields.registered_delivery ?? 0) & 0x03;
    // §5.2.17: 01 a receipt whatever the outcome, 10 only on failure.
    if (rd === 1 || (rd === 2 && stat !== 'DELIVRD')) {
      const f = m.fields;
      const operator = this.operatorFor(String(f.source_addr ?? ''));
      if (!operator) return;
      this.stats.receipts++;
      operator.push(receiptFields({
        messageId: m.messageId,
        stat,
        err,
        mt: { sourceTon: f.source_addr_ton ?? 0, sourceNpi: f.source_addr_npi ?? 0, source: String(f.source_addr ?? ''), destTon: f.dest_addr_ton ?? 0, destNpi: f.dest_addr_npi ?? 0, dest: m.dest },
        submittedAt: m.submittedAt,
        doneAt: new Date(),
      }));
    }
  }

  /** submit_sm from the network (a handset's SMS-SUBMIT): answer it, route it to the operator. */
  private mo(session: Session, pdu: Pdu): void {
    const operator = this.operatorFor(String(pdu.destination_addr ?? ''));
    if (!operator) {
      session.send(pdu.response({ command_status: STATUS.ESME_RINVDSTADR }));
      return;
    }
    const messageId = `${this.idPrefix}${(++this.nextId).toString(16).padStart(8, '0')}`;
    session.send(pdu.response({ message_id: messageId }));
    this.stats.mo++;
    const payload = Buffer.isBuffer(pdu.message_payload) && pdu.message_payload.length > 0;
    const fields: smppTypes.PduFields = {
      source_addr_ton: pdu.source_addr_ton ?? 0,
      source_addr_npi: pdu.source_addr_npi ?? 0,
      source_addr: pdu.source_addr ?? '',
      dest_addr_ton: pdu.dest_addr_ton ?? 0,
      dest_addr_npi: pdu.dest_addr_npi ?? 0,
      destination_addr: pdu.destination_addr ?? '',
      esm_class: (pdu.esm_class ?? 0) & UDHI,
      protocol_id: pdu.protocol_id ?? 0,
      data_coding: pdu.data_coding ?? 0,
      ...(payload ? { short_message: Buffer.alloc(0), message_payload: pdu.message_payload! } : { short_message: userDataOf(pdu) }),
    };
    if (this.moJoiner) {
      this.moJoiner.accept(fields, payload ? pdu.message_payload! : userDataOf(pdu));
      this.stats.moJoined = this.moJoiner.joined;
    }
    else operator.push(fields);
  }

  /**
   * Where MO and receipts go. One operator runs this SMSC, so every address routes to its
   * (first) operator account; a routing table would key on `address`.
   */
  private operatorFor(_address: string): EsmeQueue | undefined {
    return this.operatorQueues.values().next().value;
  }

  private peersOf(systemId: string): Peer[] {
    const out: Peer[] = [];
    for (const p of this.peers) if (p.systemId === systemId && !p.closed) out.push(p);
    return out;
  }

  private networkPeers(): Peer[] {
    const out: Peer[] = [];
    for (const p of this.peers) if (p.role === 'network' && !p.closed) out.push(p);
    return out;
  }
}
