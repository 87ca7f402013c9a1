/**
 * A personalised card and the operator's side of an OTA exchange with it, built only from
 * the protocol layer: command packet → SMS-DELIVER(s) → ENVELOPE(s) through a terminal →
 * PoR by SMS-SUBMIT (or in the ENVELOPE response) → decoded PoR.
 */
import { randomBytes } from 'node:crypto';
import {
  ADMIN_SPI,
  commandSmsUserData,
  createOtaKey,
  createVendorCa,
  decodeSmsSubmit,
  encodeCommandUserData,
  encodeCompactCommands,
  encodeKeyCoding,
  personaliseCard,
  porUserDataOf,
  readPor,
  smsDeliverOf,
  smsPpDownload,
  Uicc,
  type CardState,
  type CommandApdu,
  type DecodedResponse,
  type InventoryRow,
  type OperatorKeyset,
  type OtaAlgorithm,
  type OtaKey,
  type Spi,
  type VendorCa,
} from '../../sim-applet/index.js';

export const NOW = new Date('2026-06-01T00:00:00Z');
export const ICCID = '8988211000000467285';
export const TAR = 'bfff01';
export const OPERATOR = { ton: 'international', npi: 'isdn_e164', digits: '4912345' } as const;

export const KEYSETS = {
  1: { kicAlg: 'aes' as OtaAlgorithm, kidAlg: 'aes' as OtaAlgorithm, kic: '000102030405060708090a0b0c0d0e0f', kid: '101112131415161718191a1b1c1d1e1f', kik: '202122232425262728292a2b2c2d2e2f' },
  2: { kicAlg: '3des2' as OtaAlgorithm, kidAlg: '3des2' as OtaAlgorithm, kic: '0123456789abcdeffedcba9876543210', kid: '89abcdef0123456776543210fedcba98', kik: 'f0e1d2c3b4a5968778695a4b3c2d1e0f' },
};

export function inventoryRow(): InventoryRow {
  return {
    iccid: ICCID,
    imsi: '262011234567890',
    msisdn: '+491701234567',
    tar: TAR,
    keysets: Object.entries(KEYSETS).map(([index, k]) => ({ index: Number(index), ...k })),
  };
}

let ca: VendorCa | undefined;
export function vendorCa(): VendorCa {
  ca ??= createVendorCa({ random: randomBytes, now: NOW });
  return ca;
}

export function newCardState(): CardState {
  return personaliseCard(inventoryRow(), { vendorCa: vendorCa(), random: randomBytes, now: NOW });
}

export function newCard(state = newCardState()): Uicc {
  return new Uicc(state, { random: randomBytes });
}

export { ADMIN_SPI };

export interface OtaOptions {
  keyset?: 1 | 2;
  spi?: Spi;
  cntr: number;
  tar?: string;
  /** Override the keys the operator uses (to forge). */
  kicKey?: OtaKey;
  kidKey?: OtaKey;
  ref?: number;
}

export function keysOf(keyset: 1 | 2): { kicKey: OtaKey; kidKey: OtaKey; kikKey: OtaKey; kic: number; kid: number } {
  const k = KEYSETS[keyset];
  return {
    kicKey: createOtaKey(k.kicAlg, Buffer.from(k.kic, 'hex')),
    kidKey: createOtaKey(k.kidAlg, Buffer.from(k.kid, 'hex')),
    kikKey: createOtaKey(k.kicAlg, Buffer.from(k.kik, 'hex')),
    kic: encodeKeyCoding({ index: keyset, algorithm: k.kicAlg }, 'kic'),
    kid: encodeKeyCoding({ index: keyset, algorithm: k.kidAlg }, 'kid'),
  };
}

function operatorKeyset(o: OtaOptions): OperatorKeyset {
  const keyset = o.keyset ?? 1;
  const keys = keysOf(keyset);
  return { index: keyset, kic: o.kicKey ?? keys.kicKey, kid: o.kidKey ?? keys.kidKey };
}

/** The SMS-DELIVER TPDUs that carry a secured command packet to the card. */
export function commandSms(data: Uint8Array, o: OtaOptions): Uint8Array[] {
  const parts = commandSmsUserData({ spi: o.spi ?? ADMIN_SPI, keyset: operatorKeyset(o), tar: Buffer.from(o.tar ?? TAR, 'hex'), cntr: o.cntr, commands: data, ...(o.ref === undefined ? {} : { ref: o.ref }) });
  return parts.map((ud) => smsDeliverOf(ud, OPERATOR, NOW));
}

export interface OtaExchange {
  /** Status word of the last ENVELOPE exchange. */
  sw: number;
  /** The PoR's SMS user data (UDH 027100 + packet), reassembled; undefined when none came. */
  porUserData: Uint8Array | undefined;
  por: DecodedResponse | undefined;
  response: { executed: number; sw: number; data: Uint8Array } | undefined;
}

/** Run a command list through the card's OTA layer as the operator and a handset would. */
export function sendOta(card: Uicc, apdus: CommandApdu[] | Uint8Array, o: OtaOptions): OtaExchange {
  const data = apdus instanceof Uint8Array ? apdus : encodeCompactCommands(apdus);
  let sw = 0;
  let responseData: Uint8Array | undefined;
  const submits: Uint8Array[] = [];
  for (const tpdu of commandSms(data, o)) {
    const r = smsPpDownload((c) => card.transmit(c), tpdu);
    sw = r.sw;
    responseData = r.responseData ?? responseData;
    submits.push(...r.submits);
  }
  const porUserData = submits.length > 0 ? porUserDataOf(submits.map((t) => decodeSmsSubmit(t).ud)) : responseData;
  if (!porUserData) return { sw, porUserData, por: undefined, response: undefined };
  const keys = keysOf(o.keyset ?? 1);
  const { por, response } = readPor(porUserData, o.spi ?? ADMIN_SPI, { index: o.keyset ?? 1, kic: keys.kicKey, kid: keys.kidKey });
  return { sw, porUserData, por, response };
}

/** Deliver SMS user data parts (as the SMSC would send them) to the card; what the card answered. */
export function deliverUserData(card: Uicc, parts: Uint8Array[]): { sw: number; responseData: Uint8Array | undefined; submits: Uint8Array[] } {
  let sw = 0;
  let responseData: Uint8Array | undefined;
  const submits: Uint8Array[] = [];
  for (const ud of parts) {
    const r = smsPpDownload((c) => card.transmit(c), smsDeliverOf(ud, OPERATOR, NOW));
    sw = r.sw;
    responseData = r.responseData ?? responseData;
    submits.push(...r.submits);
  }
  return { sw, responseData, submits };
}

/** The secured command packet's SMS user data (UDH 027000 + packet), unsegmented. */
export function commandUserData(data: Uint8Array, o: OtaOptions): Uint8Array {
  const keys = keysOf(o.keyset ?? 1);
  return encodeCommandUserData({
    spi: o.spi ?? ADMIN_SPI,
    kic: keys.kic,
    kid: keys.kid,
    tar: Buffer.from(o.tar ?? TAR, 'hex'),
    cntr: o.cntr,
    kicKey: o.kicKey ?? keys.kicKey,
    kidKey: o.kidKey ?? keys.kidKey,
    data,
  });
}
