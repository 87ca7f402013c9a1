/**
 * The OTA messages this process has sent and not yet seen answered, by handset and TAR (how
 * a PoR is matched, TS 102 225 §5.2) and by SMPP message id (how a receipt is matched). Only
 * a cache: the database has them too, for a PoR or receipt that reaches another process or
 * arrives after a restart.
 */
import type { OperatorKeyset, Spi } from '../../sim-applet/index.js';

export interface InFlight {
  id: string;
  iccid: string;
  msisdn: string;
  tar: string;
  cntr: number;
  spi: Spi;
  keysetIndex: number;
  keyset: OperatorKeyset | null;
  /** Resolves when the row says `submitted` (receipts and PoRs wait for it). */
  submitted: Promise<void>;
  smppIds: string[];
  /** Submits of the part sent most often (more than 1: a copy may have reached the card). */
  attempts: number;
}

export class InFlightTable {
  private readonly byHandset = new Map<string, InFlight[]>();
  private readonly bySmpp = new Map<string, Promise<void>>();

  add(f: InFlight): void {
    const key = `${f.msisdn}|${f.tar}`;
    const list = this.byHandset.get(key);
    if (list) list.push(f);
    else this.byHandset.set(key, [f]);
  }

  /** The SMSC took one of its parts under this message id. */
  submittedAs(f: InFlight, smppMessageId: string): void {
    f.smppIds.push(smppMessageId);
    this.bySmpp.set(smppMessageId, f.submitted);
  }

  /** When the row of the message sent under this id says `submitted`; undefined if not ours. */
  bySmppId(smppMessageId: string): Promise<void> | undefined {
    return this.bySmpp.get(smppMessageId);
  }

  receiptSeen(smppMessageId: string): void {
    this.bySmpp.delete(smppMessageId);
  }

  forHandset(msisdn: string, tar: string): readonly InFlight[] | undefined {
    return this.byHandset.get(`${msisdn}|${tar}`);
  }

  find(msisdn: string, tar: string, id: string): InFlight | undefined {
    return this.byHandset.get(`${msisdn}|${tar}`)?.find((f) => f.id === id);
  }

  remove(f: InFlight): void {
    for (const id of f.smppIds) this.bySmpp.delete(id);
    const key = `${f.msisdn}|${f.tar}`;
    const list = this.byHandset.get(key);
    if (!list) return;
    const rest = list.filter((x) => x !== f);
    if (rest.length === 0) this.byHandset.delete(key);
    else this.byHandset.set(key, rest);
  }

  /** Drop the message with this row id (it expired). */
  forget(id: string): void {
    for (const list of this.byHandset.values()) {
      const f = list.find((x) => x.id === id);
      if (f) {
        this.remove(f);
        return;
      }
    }
  }
}
