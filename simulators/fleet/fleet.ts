/**
 * The handset fleet: many handsets, each hosting a simchain card personalised from the
 * vendor file, reached over SMPP as the SMSC's radio network. An MT for a handset becomes an
 * SMS-DELIVER in an ENVELOPE to its card; the card's state is saved before the SMSC is told
 * the SMS was delivered (deliver_sm_resp ESME_ROK), then the card's SMS-SUBMITs go to the SMSC
 * as submit_sm (the MO, e.g. the PoR). An absent handset answers ESME_RX_T_APPN (SMPP 3.4
 * §5.1.3) so the SMSC stores the SMS and tries again; an unknown MSISDN ESME_RX_P_APPN.
 *
 * Knobs: the share of handsets offline (chosen by a hash of the MSISDN, so the same ones in
 * every run), how long they stay offline, and the latency of the air interface (uniform
 * between min and max).
 */
import { createHash } from 'node:crypto';
import type smppTypes from 'smpp';
import type { VendorCa } from '../../sim-applet/index.js';
import { userDataOf } from '../smsc/raw-mode.js';
import { CardStore } from './card-store.js';
import { deliverToCard, type MoSms } from './handset.js';
import { SmppLink, type LinkOptions } from './smpp-link.js';
import { VendorIndex } from './vendor-index.js';

export interface FleetOptions {
  smsc: LinkOptions;
  vendorFile: string;
  vendorCa: VendorCa;
  /** Where the card log lives (cards.log). */
  dir: string;
  /** Share of handsets offline, 0..1. Default 0. */
  offlineShare?: number;
  /** Offline handsets come back this long after the fleet starts. Default: never. */
  offlineMs?: number;
  /** Air-interface latency per MT, uniform in [min, max] ms. Default 0. */
  latencyMs?: { min: number; max: number };
  /** Card objects kept in memory at most. Default 10,000. */
  maxLive?: number;
}

export interface FleetStats {
  mt: number;
  mo: number;
  absent: number;
  unknown: number;
  moRetries: number;
}

const PID_SIM_DATA_DOWNLOAD = 0x7f;

export class Fleet {
  readonly stats: FleetStats = { mt: 0, mo: 0, absent: 0, unknown: 0, moRetries: 0 };
  private readonly overrides = new Map<string, boolean>();
  private readonly started = Date.now();
  private readonly chains = new Map<string, Promise<unknown>>();
  private readonly moInFlight = new Set<Promise<void>>();
  private link!: SmppLink;
  private stopped = false;

  private constructor(private readonly o: FleetOptions, readonly index: VendorIndex, readonly cards: CardStore) {}

  static async start(o: FleetOptions): Promise<Fleet> {
    const index = await VendorIndex.build(o.vendorFile);
    const fleet = new Fleet(o, index, new CardStore(o.dir, index, o.vendorCa, o.maxLive));
    fleet.link = new SmppLink(o.smsc, (pdu) => fleet.mt(pdu));
    try {
      await fleet.link.start();
    } catch (e) {
      await index.close();
      throw e;
    }
    return fleet;
  }

  get size(): number {
    return this.index.size;
  }

  /** Switch a handset on or off (overrides the share and the offline period). */
  setOnline(msisdn: string, online: boolean): void {
    this.overrides.set(msisdn.replace('+', ''), online);
  }

  isOnline(digits: string): boolean {
    const forced = this.overrides.get(digits);
    if (forced !== undefined) return forced;
    const share = this.o.offlineShare ?? 0;
    if (share <= 0) return true;
    if (this.o.offlineMs !== undefined && Date.now() - this.started >= this.o.offlineMs) return true;
    return createHash('sha256').update(digits).digest().readUInt32BE(0) / 2 ** 32 >= share;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.allSettled([...this.chains.values()]);
    await Promise.allSettled([...this.moInFlight]);
    await this.link.stop();
    this.cards.close();
    await this.index.close();
  }

  private mt(pdu: smppTypes.PDU): Promise<number> {
    const digits = String(pdu.destination_addr ?? '');
    // One SMS at a time per handset, in arrival order.
    const previous = this.chains.get(digits) ?? Promise.resolve();
    const next = previous.then(() => this.handle(digits, pdu), () => this.handle(digits, pdu));
    this.chains.set(digits, next);
    void next.finally(() => {
      if (this.chains.get(digits) === next) this.chains.delete(digits);
    }).catch(() => undefined);
    return next;
  }

  private async handle(digits: string, pdu: smppTypes.PDU): Promise<number> {
    if (this.stopped) return 0x64;
    if (!this.index.has(digits)) {
      this.stats.unknown++;
      return 0x65; // ESME_RX_P_APPN: no such subscriber, final
    }
    if (!this.isOnline(digits)) {
      this.stats.absent++;
      return 0x64; // ESME_RX_T_APPN: absent subscriber, the SMSC keeps it
    }
    const l = this.o.latencyMs;
    if (l && l.max > 0) await new Promise((r) => setTimeout(r, l.min + Math.random() * (l.max - l.min)));
    const card = await this.cards.get(digits);
    if (!card) return 0x65;
    this.stats.mt++;
    if ((pdu.protocol_id ?? 0) !== PID_SIM_DATA_DOWNLOAD) return 0; // a text for the user: shown, not the card's
    const mos = deliverToCard(card, pdu, userDataOf(pdu), new Date());
    // The card's memory is committed before the network reports the SMS delivered.
    this.cards.save(digits, card);
    for (const mo of mos) this.sendMo(digits, mo);
    return 0;
  }

  private sendMo(digits: string, mo: MoSms): void {
    const fields: smppTypes.PduFields = {
      source_addr_ton: 1,
      source_addr_npi: 1,
      source_addr: digits,
      dest_addr_ton: mo.ton,
      dest_addr_npi: mo.npi,
      destination_addr: mo.destination,
      esm_class: mo.udhi ? 0x40 : 0,
      protocol_id: mo.pid,
      data_coding: mo.dcs,
      short_message: Buffer.from(mo.userData),
    };
    const p = (async () => {
      for (let attempt = 0; attempt < 50; attempt++) {
        try {
          const r = await this.link.submit(fields);
          if (r.command_status === 0) {
            this.stats.mo++;
            return;
          }
        } catch {
          // session lost: the SMSC may or may not have it; a handset sends again (TP-RD unset)
        }
        this.stats.moRetries++;
        await new Promise((r) => setTimeout(r, Math.min(5000, 50 * 2 ** attempt)));
      }
    })();
    this.moInFlight.add(p);
    void p.finally(() => this.moInFlight.delete(p));
  }
}
