/**
 * Delivery receipts (SMPP 3.4 §2.11, Appendix B): a deliver_sm with esm_class bits 5-2 =
 * 0001 whose short_message is the text `id:… sub:… dlvrd:… submit date:… done date:…
 * stat:… err:… text:…`; SMPP 3.4 SMSCs add the TLVs receipted_message_id (§5.3.2.12) and
 * message_state (§5.3.2.35), which win over the text when present.
 */
import type smppTypes from 'smpp';
import { ESM_CLASS_DELIVERY_RECEIPT } from './ota-pdu.js';

/** Appendix B stat values, and §5.2.28 message_state numbers. */
export const RECEIPT_STATS = ['ENROUTE', 'DELIVRD', 'EXPIRED', 'DELETED', 'UNDELIV', 'ACCEPTD', 'UNKNOWN', 'REJECTD'] as const;
export type ReceiptStat = (typeof RECEIPT_STATS)[number];

const BY_MESSAGE_STATE: Record<number, ReceiptStat> = { 1: 'ENROUTE', 2: 'DELIVRD', 3: 'EXPIRED', 4: 'DELETED', 5: 'UNDELIV', 6: 'ACCEPTD', 7: 'UNKNOWN', 8: 'REJECTD' };

export interface DeliveryReceipt {
  messageId: string;
  stat: ReceiptStat;
  /** Network error code (the text's err:), when given. */
  err: string | null;
}

export function isDeliveryReceipt(pdu: smppTypes.PDU): boolean {
  // §5.2.12 bits 5-2 (mask 0x3C) = 0001; bit 6 (UDHI) and the messaging mode may be set too.
  return ((pdu.esm_class ?? 0) & 0x3c) === ESM_CLASS_DELIVERY_RECEIPT;
}

/** Null when the PDU does not carry a readable receipt. */
export function parseDeliveryReceipt(pdu: smppTypes.PDU): DeliveryReceipt | null {
  const text = Buffer.isBuffer(pdu.short_message) ? pdu.short_message.toString('latin1') : '';
  const field = (name: string): string | null => new RegExp(`(?:^|\\s)${name}:(\\S*)`, 'i').exec(text)?.[1] ?? null;
  const tlvId = typeof pdu.receipted_message_id === 'string' ? pdu.receipted_message_id.replace(/\0+$/, '') : '';
  const messageId = tlvId !== '' ? tlvId : field('id');
  const stateTlv = typeof pdu.message_state === 'number' ? BY_MESSAGE_STATE[pdu.message_state] : undefined;
  const statText = field('stat')?.toUpperCase();
  const stat = stateTlv ?? (RECEIPT_STATS as readonly string[]).find((s) => s === statText) as ReceiptStat | undefined;
  if (!messageId || !stat) return null;
  return { messageId, stat, err: field('err') };
}
