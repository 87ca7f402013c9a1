/**
 * One bind to the SMSC: what the `smpp` package leaves to the application.
 *
 * - A new `smpp.Session` for every connection: `connect()` on an old session never emits the
 *   bind response in 0.5.1. Reconnects back off exponentially with jitter.
 * - A send window (SMPP 3.4 §2.8) and a timeout per PDU (§7.2, response_timer): the package
 *   has neither, and drops its callbacks silently when the socket closes, so every pending
 *   request is failed here when the session closes (its outcome is unknown to the caller).
 * - enquire_link (§4.11) when the link is idle; no answer in time closes the session.
 * - `destroy()` on a protocol error: the package stops parsing but keeps the socket open.
 * - Inbound requests: enquire_link and unbind answered here, deliver_sm/data_sm given to the
 *   handler, whose status becomes the response's command_status.
 * - TLS where the SMSC offers it (the package's `tls` transport).
 */
import { EventEmitter } from 'node:events';
import type { ConnectionOptions } from 'node:tls';
import type smppTypes from 'smpp';
import { corkWrites, smppRawMode } from './raw-mode.js';
import { SendWindow } from './window.js';
import { RateLimit } from './rate-limit.js';
import { SMPP_STATUS, SmppError } from './errors.js';

const smpp = smppRawMode();
type Pdu = smppTypes.PDU;
type PduFields = smppTypes.PduFields;
type Session = smppTypes.Session;

export type BindMode = 'transceiver' | 'transmitter' | 'receiver';

export interface BindOptions {
  host: string;
  port: number;
  systemId: string;
  password: string;
  systemType?: string;
  /** SMPP 3.4 §4.1. Default transceiver: submits, receipts and MOs on one session. */
  mode?: BindMode;
  /** Connect with TLS; the options go to `tls.connect` (ca, servername, rejectUnauthorized...). */
  tls?: Omit<ConnectionOptions, 'socket'> | false;
  /** Requests outstanding at once. Default 100. */
  window?: number;
  /** Wait for a response this long. Default 10,000 ms. */
  pduTimeoutMs?: number;
  /** enquire_link after this long without traffic. Default 30,000 ms. */
  enquireLinkMs?: number;
  reconnect?: { initialMs?: number; maxMs?: number };
  /** submit_sm per second on this bind, if capped. */
  maxPerSecond?: number;
  /** For logs and health. */
  name?: string;
}

/** Handles a deliver_sm or data_sm; resolves to the command_status of the response. */
export type InboundHandler = (pdu: Pdu, bind: SmppBind) => Promise<number> | number;

export type BindState = 'idle' | 'connecting' | 'bound' | 'stopped';

interface Pending {
  resolve(pdu: Pdu): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

/** SMPP 3.4 §5.2.21: sm_length is one octet and 254 is its largest value. */
export const MAX_SHORT_MESSAGE = 254;

export class SmppBind extends EventEmitter {
  readonly name: string;
  readonly window: SendWindow;
  private readonly rate: RateLimit | null;
  private session: Session | null = null;
  private readonly pending = new Map<number, Pending>();
  private stateValue: BindState = 'idle';
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private linkTimer: NodeJS.Timeout | null = null;
  private lastTraffic = 0;
  private boundWaiters: Array<{ resolve(): void; reject(e: Error): void }> = [];
  private everBound = false;
  lastError: Error | null = null;

  constructor(private readonly options: BindOptions, private readonly onInbound: InboundHandler) {
    super();
    this.name = options.name ?? `${options.systemId}@${options.host}:${options.port}`;
    this.window = new SendWindow(options.window ?? 100);
    this.rate = options.maxPerSecond ? new RateLimit(options.maxPerSecond) : null;
  }

  get state(): BindState {
    return this.stateValue;
  }

  /**
   * Connect and bind. Resolves when bound; rejects if the first bind is refused (wrong
   * credentials are a configuration error, not something to retry forever). Once bound, a
   * lost session is re-established for as long as the bind is not stopped.
   */
  start(): Promise<void> {
    if (this.stateValue !== 'idle') return this.whenBound();
    const first = this.whenBound();
    this.open();
    return first;
  }

  whenBound(): Promise<void> {
    if (this.stateValue === 'bound') return Promise.resolve();
    if (this.stateValue === 'stopped') return Promise.reject(new SmppError('SMPP_STOPPED', `bind ${this.name} is stopped`));
    return new Promise((resolve, reject) => this.boundWaiters.push({ resolve, reject }));
  }

  /**
   * Send a request and resolve with its response (any command_status: the caller decides).
   * Waits for a window slot, the rate cap (submit_sm) and the bind.
   */
  async request(command: string, fields: PduFields): Promise<Pdu> {
    checkFields(fields);
    await this.window.acquire();
    try {
      if (this.rate !== null && command === 'submit_sm') await this.rate.take();
      await this.whenBound();
      return await this.send(command, fields);
    } finally {
      this.window.release();
    }
  }

  /** Unbind (§4.2) and close; pending requests fail with SMPP_STOPPED. */
  async stop(): Promise<void> {
    if (this.stateValue === 'stopped') return;
    const wasBound = this.stateValue === 'bound';
    this.stateValue = 'stopped';
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.linkTimer) clearInterval(this.linkTimer);
    for (const w of this.boundWaiters.splice(0)) w.reject(new SmppError('SMPP_STOPPED', `bind ${this.name} is stopped`));
    const session = this.session;
    if (session && wasBound) {
      await Promise.race([
        new Promise<void>((resolve) => session.unbind(() => resolve()) || resolve()),
        new Promise<void>((resolve) => setTimeout(resolve, 1000).unref()),
      ]);
    }
    this.failPending(new SmppError('SMPP_STOPPED', `bind ${this.name} stopped with the request outstanding`));
    if (session) await new Promise<void>((resolve) => (session.socket.destroyed ? resolve() : session.destroy(() => resolve())));
    this.session = null;
  }

  /** Close the current session as a network failure would (tests, health checks). */
  drop(): void {
    this.session?.destroy();
  }

  private open(): void {
    if (this.stateValue === 'stopped') return;
    this.stateValue = 'connecting';
    const o = this.options;
    const tls = o.tls ? o.tls : null;
    const session = new smpp.Session({ ...(tls ?? {}), host: o.host, port: o.port, tls: tls !== null });
    this.session = session;
    corkWrites(session);
    session.on(tls ? 'secureConnect' : 'connect', () => this.bind(session));
    session.on('error', (e: Error) => {
      this.lastError = e;
      // The package stops parsing after a protocol error but keeps the socket: close it.
      session.destroy();
    });
    session.on('close', () => this.closed(session));
    session.on('pdu', (pdu: Pdu) => {
      this.lastTraffic = Date.now();
      if (!pdu.isResponse()) this.inbound(session, pdu);
    });
  }

  private bind(session: Session): void {
    const o = this.options;
    const fields: PduFields = { system_id: o.systemId, password: o.password, system_type: o.systemType ?? '', interface_version: 0x34 };
    this.send(`bind_${o.mode ?? 'transceiver'}`, fields, session).then(
      (resp) => {
        if (resp.command_status !== SMPP_STATUS.ESME_ROK) {
          const e = new SmppError('SMPP_BIND_FAILED', `the SMSC refused the bind of ${o.systemId} (status 0x${resp.command_status.toString(16)})`, { status: resp.command_status });
          this.lastError = e;
          if (!this.everBound) {
            // First bind refused: a configuration error. Stop and tell the caller.
            for (const w of this.boundWaiters.splice(0)) w.reject(e);
            this.stateValue = 'stopped';
          }
          session.destroy();
          return;
        }
        if (this.session !== session || this.stateValue === 'stopped') return;
        this.stateValue = 'bound';
        this.everBound = true;
        this.attempt = 0;
        this.lastTraffic = Date.now();
        this.startLinkCheck(session);
        for (const w of this.boundWaiters.splice(0)) w.resolve();
        this.emit('bound');
      },
      () => session.destroy(),
    );
  }

  private send(command: string, fields: PduFields, session: Session | null = this.session): Promise<Pdu> {
    return new Promise((resolve, reject) => {
      if (session === null || session.socket.destroyed) {
        reject(new SmppError('SMPP_SESSION_CLOSED', `bind ${this.name} has no session`));
        return;
      }
      const pdu = new smpp.PDU(command, fields);
      let settled = false;
      const written = session.send(pdu, (resp) => {
        if (settled) return; // answered after its timeout: the caller was told it is unknown
        settled = true;
        const p = this.pending.get(pdu.sequence_number);
        if (p) clearTimeout(p.timer);
        this.pending.delete(pdu.sequence_number);
        resolve(resp);
      });
      if (!written) {
        settled = true;
        reject(new SmppError('SMPP_SESSION_CLOSED', `bind ${this.name}: the socket is not writable`));
        return;
      }
      const timeoutMs = this.options.pduTimeoutMs ?? 10_000;
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        this.pending.delete(pdu.sequence_number);
        reject(new SmppError('SMPP_TIMEOUT', `no ${command}_resp within ${timeoutMs} ms on ${this.name}`, { details: { command, timeoutMs } }));
      }, timeoutMs);
      this.pending.set(pdu.sequence_number, {
        resolve,
        reject: (e) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          reject(e);
        },
        timer,
      });
    });
  }

  private inbound(session: Session, pdu: Pdu): void {
    switch (pdu.command) {
      case 'enquire_link':
        session.send(pdu.response());
        return;
      case 'unbind':
        // §4.2: the SMSC ends the session; answer, then let the socket close (we reconnect).
        session.send(pdu.response(), () => session.close());
        return;
      case 'deliver_sm':
      case 'data_sm': {
        let answer: Promise<number>;
        try {
          answer = Promise.resolve(this.onInbound(pdu, this));
        } catch (e) {
          answer = Promise.reject(e);
        }
        answer.then(
          // §4.6.2: deliver_sm_resp's message_id is unused and set to NULL.
          (status) => session.send(pdu.response({ command_status: status, message_id: '' })),
          // Not recorded: a temporary failure, so the SMSC delivers it again (§5.1.3).
          () => session.send(pdu.response({ command_status: SMPP_STATUS.ESME_RX_T_APPN })),
        );
        return;
      }
      default:
        session.send(pdu.response({ command_status: 0x03 /* ESME_RINVCMDID */ }));
    }
  }

  private startLinkCheck(session: Session): void {
    const every = this.options.enquireLinkMs ?? 30_000;
    if (this.linkTimer) clearInterval(this.linkTimer);
    this.linkTimer = setInterval(() => {
      if (this.session !== session || this.stateValue !== 'bound') return;
      if (Date.now() - this.lastTraffic < every) return;
      this.send('enquire_link', {}, session).then(
        (resp) => {
          if (resp.command_status !== 0) session.destroy();
        },
        () => session.destroy(),
      );
    }, Math.max(10, Math.floor(every / 2)));
    this.linkTimer.unref();
  }

  private closed(session: Session): void {
    if (this.session !== session) return;
    if (this.linkTimer) clearInterval(this.linkTimer);
    this.linkTimer = null;
    this.failPending(new SmppError('SMPP_SESSION_CLOSED', `the session of ${this.name} closed with the request outstanding; the SMSC may or may not have taken it`));
    if (this.stateValue === 'stopped') return;
    const wasBound = this.stateValue === 'bound';
    this.stateValue = 'connecting';
    if (wasBound) this.emit('unbound');
    const r = this.options.reconnect ?? {};
    const initial = r.initialMs ?? 250;
    const max = r.maxMs ?? 30_000;
    const delay = Math.min(max, initial * 2 ** this.attempt) * (0.5 + Math.random() / 2);
    this.attempt = Math.min(this.attempt + 1, 30);
    this.reconnectTimer = setTimeout(() => this.open(), delay);
  }

  private failPending(e: SmppError): void {
    for (const p of [...this.pending.values()]) {
      clearTimeout(p.timer);
      p.reject(e);
    }
    this.pending.clear();
  }
}

function checkFields(fields: PduFields): void {
  if (fields.short_message !== undefined && fields.short_message.length > MAX_SHORT_MESSAGE) {
    throw new SmppError('SMPP_INVALID_ARGUMENT', `short_message holds at most ${MAX_SHORT_MESSAGE} octets (SMPP 3.4 §5.2.21); use message_payload`, {
      details: { length: fields.short_message.length },
    });
  }
}
