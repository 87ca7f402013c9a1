/**
 * The operator's SMPP client (ESME): several binds to one SMSC at once, a submit that picks
 * the bind with the most room in its window, and throttling handled as SMPP 3.4 §5.1.3
 * intends: ESME_RTHROTTLED / ESME_RMSGQFUL mean "not taken, slow down", so the window of
 * that bind halves and the same PDU is sent again after a growing pause.
 */
import type smppTypes from 'smpp';
import { SmppBind, type BindOptions, type InboundHandler } from './bind.js';
import { isThrottle, SMPP_STATUS, SmppError } from './errors.js';

type Pdu = smppTypes.PDU;
type PduFields = smppTypes.PduFields;

export interface EsmeOptions extends BindOptions {
  /** Binds opened at once with these credentials. Default 1. */
  binds?: number;
  /** Throttled resends before giving up with the SMSC's status. Default 30. */
  maxThrottleRetries?: number;
  /** First pause after a throttle answer; doubles up to 2 s. Default 20 ms. */
  throttleBackoffMs?: number;
}

export interface SubmitResult {
  messageId: string;
  bind: string;
  /** Throttle answers before the SMSC took it. */
  throttled: number;
}

export class Esme {
  readonly binds: SmppBind[];
  private readonly maxThrottleRetries: number;
  private readonly throttleBackoffMs: number;
  private next = 0;

  constructor(options: EsmeOptions, onInbound: InboundHandler) {
    const count = options.binds ?? 1;
    if (!Number.isInteger(count) || count < 1) throw new SmppError('SMPP_INVALID_ARGUMENT', 'binds must be a positive integer');
    this.binds = Array.from({ length: count }, (_, i) => new SmppBind({ ...options, name: `${options.name ?? options.systemId}#${i + 1}` }, onInbound));
    this.maxThrottleRetries = options.maxThrottleRetries ?? 30;
    this.throttleBackoffMs = options.throttleBackoffMs ?? 20;
  }

  /** Bind every session; rejects if the SMSC refuses the credentials. */
  async start(): Promise<void> {
    try {
      await Promise.all(this.binds.map((b) => b.start()));
    } catch (e) {
      await this.stop();
      throw e;
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.binds.map((b) => b.stop()));
  }

  get bound(): number {
    return this.binds.filter((b) => b.state === 'bound').length;
  }

  /**
   * submit_sm (§4.4). Resolves with the SMSC's message_id; rejects with SmppError:
   * SMPP_COMMAND_STATUS (refused: not taken), SMPP_TIMEOUT / SMPP_SESSION_CLOSED (unknown:
   * the SMSC may have taken it), SMPP_STOPPED, SMPP_INVALID_ARGUMENT.
   */
  async submit(fields: PduFields): Promise<SubmitResult> {
    let throttled = 0;
    for (;;) {
      const bind = this.pick();
      const resp = await bind.request('submit_sm', fields);
      if (resp.command_status === SMPP_STATUS.ESME_ROK) {
        bind.window.accepted();
        return { messageId: String(resp.message_id ?? ''), bind: bind.name, throttled };
      }
      if (isThrottle(resp.command_status) && throttled < this.maxThrottleRetries) {
        bind.window.throttled();
        const pause = Math.min(2000, this.throttleBackoffMs * 2 ** Math.min(throttled, 10));
        throttled++;
        await new Promise((r) => setTimeout(r, pause * (0.5 + Math.random() / 2)));
        continue;
      }
      throw new SmppError('SMPP_COMMAND_STATUS', `the SMSC refused submit_sm with status 0x${resp.command_status.toString(16).padStart(8, '0')}`, {
        status: resp.command_status,
        details: { bind: bind.name, throttled },
      });
    }
  }

  /** Any request on the least loaded bind (query_sm, enquire_link...). */
  request(command: string, fields: PduFields): Promise<Pdu> {
    return this.pick().request(command, fields);
  }

  /** The bound bind with the most free window slots (round robin among equals); any bind when none is bound. */
  private pick(): SmppBind {
    let best: SmppBind | null = null;
    const n = this.binds.length;
    for (let i = 0; i < n; i++) {
      const b = this.binds[(this.next + i) % n]!;
      if (b.state !== 'bound') continue;
      if (best === null || b.window.free > best.window.free) best = b;
    }
    this.next = (this.next + 1) % n;
    return best ?? this.binds[this.next]!;
  }
}
