/**
 * SMSC delivery receipts (SMPP 3.4 §2.11, Appendix B): the text
 * `id:… sub:001 dlvrd:001 submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:DELIVRD err:000 text:`
 * in short_message, esm_class 0x04 (§5.2.12), and the SMPP 3.4 TLVs receipted_message_id
 * (§5.3.2.12) and message_state (§5.3.2.35).
 */
import type smpp from 'smpp';

export type ReceiptStat = 'DELIVRD' | 'EXPIRED' | 'UNDELIV' | 'REJECTD' | 'DELETED';

/** §5.2.28 message_state values. */
const MESSAGE_STATE: Record<ReceiptStat, number> = { DELIVRD: 2, EXPIRED: 3, DELETED: 4, UNDELIV: 5, REJECTD: 8 };

export interface ReceiptInput {
  messageId: string;
  stat: ReceiptStat;
  /** The MT's addresses: the receipt goes the other way. */
  mt: { sourceTon: number; sourceNpi: number; source: string; destTon: number; destNpi: number; dest: string };
  submittedAt: Date;
  doneAt: Date;
  err?: number;
}

function stamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCFullYear() % 100)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}`;
}

export function receiptFields(r: ReceiptInput): smpp.PduFields {
  const delivered = r.stat === 'DELIVRD' ? '001' : '000';
  const text = `id:${r.messageId} sub:001 dlvrd:${delivered} submit date:${stamp(r.submittedAt)} done date:${stamp(r.doneAt)} stat:${r.stat} err:${String(r.err ?? 0).padStart(3, '0')} text:`;
  return {
    source_addr_ton: r.mt.destTon,
    source_addr_npi: r.mt.destNpi,
    source_addr: r.mt.dest,
    dest_addr_ton: r.mt.sourceTon,
    dest_addr_npi: r.mt.sourceNpi,
    destination_addr: r.mt.source,
    esm_class: 0x04,
    data_coding: 0,
    short_message: Buffer.from(text, 'latin1'),
    receipted_message_id: r.messageId,
    message_state: MESSAGE_STATE[r.stat],
  };
}
