/**
 * TP-Data-Coding-Scheme classification (TS 23.038 §4, SMS data coding groups). Decoding never
 * fails: TS 23.038 §4 has a receiver treat reserved codings as the GSM 7-bit default alphabet.
 */
import { fail } from '../../errors.js';

export type Alphabet = 'gsm7' | '8bit' | 'ucs2';

/** 0 flash (immediate display), 1 ME specific, 2 (U)SIM specific, 3 TE specific. */
export type MessageClass = 0 | 1 | 2 | 3;

export type DcsGroup =
  /** 00xx xxxx */
  | 'general'
  /** 01xx xxxx: as general, and the message is deleted once read. */
  | 'auto_deletion'
  /** 1100: message waiting indication, the message may be discarded (GSM 7-bit). */
  | 'mwi_discard'
  /** 1101: message waiting indication, store the message (GSM 7-bit). */
  | 'mwi_store'
  /** 1110: message waiting indication, store the message (UCS2). */
  | 'mwi_store_ucs2'
  /** 1111: data coding / message class (GSM 7-bit or 8-bit). */
  | 'data_class'
  /** 1000–1011: reserved coding groups. */
  | 'reserved';

export interface DataCoding {
  group: DcsGroup;
  alphabet: Alphabet;
  /** Present when the coding names a class. */
  messageClass?: MessageClass;
  /** The text is compressed (TS 23.042); TP-UDL then counts octets. */
  compressed: boolean;
  /** Message waiting indication groups: set or clear, and which kind. */
  indication?: { active: boolean; kind: 'voicemail' | 'fax' | 'email' | 'other' };
}

const ALPHABETS: readonly Alphabet[] = ['gsm7', '8bit', 'ucs2', 'gsm7' /* 11 reserved, read as GSM 7-bit */];
const INDICATIONS = ['voicemail', 'fax', 'email', 'other'] as const;

export function decodeDcs(dcs: number): DataCoding {
  const octet = dcs & 0xff;
  const high = octet >> 4;
  if (high <= 0x7) {
    const coding: DataCoding = {
      group: high & 0x4 ? 'auto_deletion' : 'general',
      alphabet: ALPHABETS[(octet >> 2) & 3]!,
      compressed: (octet & 0x20) !== 0,
    };
    if (octet & 0x10) coding.messageClass = (octet & 3) as MessageClass;
    return coding;
  }
  if (high <= 0xb) return { group: 'reserved', alphabet: 'gsm7', compressed: false };
  if (high <= 0xe) {
    return {
      group: high === 0xc ? 'mwi_discard' : high === 0xd ? 'mwi_store' : 'mwi_store_ucs2',
      alphabet: high === 0xe ? 'ucs2' : 'gsm7',
      compressed: false,
      indication: { active: (octet & 0x08) !== 0, kind: INDICATIONS[octet & 3]! },
    };
  }
  return {
    group: 'data_class',
    alphabet: octet & 0x04 ? '8bit' : 'gsm7',
    compressed: false,
    messageClass: (octet & 3) as MessageClass,
  };
}

/**
 * TS 23.040 §9.2.3.16: TP-UDL counts septets for uncompressed GSM 7-bit text and octets for
 * everything else.
 */
export function udlUnit(dcs: number): 'septets' | 'octets' {
  const c = decodeDcs(dcs);
  return c.alphabet === 'gsm7' && !c.compressed ? 'septets' : 'octets';
}

export interface DcsInput {
  alphabet: Alphabet;
  messageClass?: MessageClass;
  compressed?: boolean;
  /** 'data_class' gives the F0–FF form OTA uses (0xF6 = 8-bit, class 2); it has no UCS2 and no compression. Default 'general'. */
  group?: 'general' | 'auto_deletion' | 'data_class';
}

export function encodeDcs(input: DcsInput): number {
  const alphabet = ALPHABETS.indexOf(input.alphabet);
  if (alphabet < 0 || alphabet > 2) fail('INVALID_ARGUMENT', 'unknown alphabet', { field: 'alphabet', value: input.alphabet });
  const cls = input.messageClass;
  if (cls !== undefined && ![0, 1, 2, 3].includes(cls)) fail('INVALID_ARGUMENT', 'message class must be 0..3', { field: 'messageClass', value: cls });
  const group = input.group ?? 'general';
  if (group === 'data_class') {
    if (input.alphabet === 'ucs2' || input.compressed === true || cls === undefined) {
      fail('INVALID_ARGUMENT', 'data coding/message class group needs a class and GSM 7-bit or 8-bit, uncompressed', { field: 'group' });
    }
    return 0xf0 | (input.alphabet === '8bit' ? 0x04 : 0) | cls;
  }
  if (group !== 'general' && group !== 'auto_deletion') fail('INVALID_ARGUMENT', 'unknown coding group', { field: 'group', value: group });
  return (
    (group === 'auto_deletion' ? 0x40 : 0) |
    (input.compressed === true ? 0x20 : 0) |
    (cls === undefined ? 0 : 0x10 | cls) |
    (alphabet << 2)
  );
}
