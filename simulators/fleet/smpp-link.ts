/**
 * The fleet's SMPP bind to the SMSC simulator: the radio network's side of the SMSC. It
 * does what the backend's ESME does, in the small (DESIGN §2 keeps simulators/ from
 * importing the backend): a new session on every reconnect (the package's `connect()` on an
 * old session never binds), exponential backoff, a window and a timeout per submit_sm,
 * pending requests failed when the session closes, `destroy()` on a protocol error,
 * enquire_link answered. deliver_sm (an MT) goes to the handler, whose status is the answer.
 */
import type smppTypes from 'smpp';
import { corkWrites, smppRawMode } from '../smsc/raw-mode.js';

const smpp = smppRawMode();

export interface LinkOptions {
  host: string;
  port: number;
  systemId: string;
  password: string;
  tls?: { ca?: string | Buffer; rejectUnauthorized?: boolean; servername?: string };
  window?: number;
  pduTimeoutMs?: number;
  reconnect?: { initialMs?: number; maxMs?: number };
}

export class LinkClosed extends Error {}

export class SmppLink {
  private session: smppTypes.Session | null = null;
  private bound = false;
  private stopped = false;
  private attempt = 0;
  private outstanding = 0;
  private readonly slotWaiters: Array<() => void> = [];
  private readonly bindWaiters: Array<{ resolve(): void; reject(e: Error): void }> = [];
  private readonly pending = new Map<number, { reject(e: Error): void; timer: NodeJS.Timeout }>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly o: LinkOptions, private readonly onDeliver: (pdu: smppTypes.PDU) => Promise<number>) {}

  start(): Promise<void> {
    const p = this.whenBound();
    this.open();
    return p;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    for (const w of this.bindWaiters.splice(0)) w.reject(new LinkClosed('stopped'));
    const s = this.session;
    if (s && this.bound) await new Promise<void>((r) => (s.unbind(() => r()) ? setTimeout(r, 500).unref() : r()));
    this.fail();
    if (s && !s.socket.destroyed) await new Promise<void>((r) => s.destroy(() => r()));
  }

  /** submit_sm; resolves with the response (any status), rejects LinkClosed when its outcome is unknown. */
  async submit(fields: smppTypes.PduFields): Promise<smppTypes.PDU> {
    if (this.outstanding >= (this.o.window ?? 100)) await new Promise<void>((r) => this.slotWaiters.push(r));
    this.outstanding++;
    try {
      await this.whenBound();
      return await this.send('submit_sm', fields);
    } finally {
      this.outstanding--;
      this.slotWaiters.shift()?.();
    }
  }

  private whenBound(): Promise<void> {
    if (this.bound) return Promise.resolve();
    if (this.stopped) return Promise.reject(new LinkClosed('stopped'));
    return new Promise((resolve, reject) => this.bindWaiters.push({ resolve, reject }));
  }

  private open(): void {
    if (this.stopped) return;
    const tls = this.o.tls;
    const session = new smpp.Session({ ...(tls ?? {}), host: this.o.host, port: this.o.port, tls: tls !== undefined });
    this.session = session;
    corkWrites(session);
    session.on('error', () => session.destroy());
    session.on(tls ? 'secureConnect' : 'connect', () => {
      this.send('bind_transceiver', { system_id: this.o.systemId, password: this.o.password, interface_version: 0x34 }, session).then((r) => {
        if (r.command_status !== 0) {
          if (this.attempt === 0) for (const w of this.bindWaiters.splice(0)) w.reject(new Error(`the SMSC refused the bind (status 0x${r.command_status.toString(16)})`));
          this.stopped = this.attempt === 0;
          session.destroy();
          return;
        }
        this.bound = true;
        this.attempt = 0;
        for (const w of this.bindWaiters.splice(0)) w.resolve();
      }, () => session.destroy());
    });
    session.on('pdu', (pdu: smppTypes.PDU) => {
      if (pdu.isResponse()) return;
      if (pdu.command === 'deliver_sm') {
        this.onDeliver(pdu).then(
          (status) => session.send(pdu.response({ command_status: status, message_id: '' })),
          () => session.send(pdu.response({ command_status: 0x64 /* ESME_RX_T_APPN */ })),
        );
      } else if (pdu.command === 'unbind') session.send(pdu.response(), () => session.close());
      else session.send(pdu.response(pdu.command === 'enquire_link' ? {} : { command_status: 0x03 }));
    });
    session.on('close', () => {
      if (this.session !== session) return;
      this.bound = false;
      this.fail();
      if (this.stopped) return;
      const r = this.o.reconnect ?? {};
      const delay = Math.min(r.maxMs ?? 10_000, (r.initialMs ?? 100) * 2 ** this.attempt++) * (0.5 + Math.random() / 2);
      this.timer = setTimeout(() => this.open(), delay);
    });
  }

  private send(command: string, fields: smppTypes.PduFields, session = this.session): Promise<smppTypes.PDU> {
    return new Promise((resolve, reject) => {
      if (!session) return reject(new LinkClosed('no session'));
      const pdu = new smpp.PDU(command, fields);
      const written = session.send(pdu, (resp) => {
        const p = this.pending.get(pdu.sequence_number);
        if (!p) return;
        clearTimeout(p.timer);
        this.pending.delete(pdu.sequence_number);
        resolve(resp);
      });
      if (!written) return reject(new LinkClosed('socket not writable'));
      const timer = setTimeout(() => {
        this.pending.delete(pdu.sequence_number);
        reject(new LinkClosed(`no ${command}_resp in time`));
      }, this.o.pduTimeoutMs ?? 10_000);
      this.pending.set(pdu.sequence_number, { reject, timer });
    });
  }

  private fail(): void {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new LinkClosed('session closed'));
    }
    this.pending.clear();
  }
}
