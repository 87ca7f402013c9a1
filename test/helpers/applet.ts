/**
 * Talking to the simchain applet in tests: plain APDUs as the device firmware sends them,
 * OTA command lists with the next accepted counter, OTA exchanges under explicit keys
 * (after PUT KEY), and cards brought to a known state through the card's own interface.
 */
import {
  decodeCompactResponse,
  decodeResponseApdu,
  decodeResponsePacket,
  decodeSmsSubmit,
  encodeCommandApdu,
  encodeCommandUserData,
  encodeCompactCommands,
  generateKeyPairApdu,
  parseKeyTemplate,
  personaliseCard,
  reassemble,
  segmentOtaPacket,
  storeDataApdu,
  transmitWithResponse,
  type CardState,
  type CommandApdu,
  type Curve,
  type DecodedResponse,
  type OtaKey,
  type Spi,
  type Uicc,
  type VendorCa,
} from '../../sim-applet/index.js';
import { randomBytes } from 'node:crypto';
import { ADMIN_SPI, deliverUserData, inventoryRow, newCard, NOW, sendOta, TAR, type OtaExchange, type OtaOptions } from './card.js';

export const CHAIN_ID = 31337n;
const address = (byte: number) => new Uint8Array(20).fill(byte);
export const IDENTITY = {
  chainId: CHAIN_ID,
  registry: address(0x11),
  batchId: Uint8Array.of(0x00, 0x2a),
  readingContract: address(0x22),
  accessContract: address(0x33),
  keyContract: address(0x44),
};

/** The counter the card accepts next for a keyset (its TAR demands "higher"). */
export function nextCntr(card: Uicc, keyset = 1): number {
  return (card.memory.state.keysets[keyset - 1]?.counter ?? 0) + 1;
}

/** A command list through the OTA layer (keyset 1 by default) with the next counter. */
export function ota(card: Uicc, apdus: CommandApdu[] | Uint8Array, options: Partial<OtaOptions> = {}): OtaExchange {
  return sendOta(card, apdus, { cntr: nextCntr(card, options.keyset ?? 1), ...options });
}

/** The compact response (count, last SW, last data) of an OTA command list; throws when the PoR is not OK. */
export function otaResponse(card: Uicc, apdus: CommandApdu[] | Uint8Array, options: Partial<OtaOptions> = {}): { executed: number; sw: number; data: Uint8Array } {
  const r = ota(card, apdus, options);
  if (!r.por || r.por.status !== 0 || !r.por.ccValid || !r.response) {
    throw new Error(`OTA exchange failed: PoR status ${r.por?.status}, ccValid ${r.por?.ccValid}`);
  }
  return r.response;
}

/** One plain C-APDU, as the firmware sends it, 61xx followed with GET RESPONSE. */
export function plain(card: Uicc, apdu: CommandApdu): { data: Uint8Array; sw: number } {
  return transmitWithResponse((c) => card.transmit(c), encodeCommandApdu(apdu));
}

/** One raw C-APDU in hex; the R-APDU as data and SW (no GET RESPONSE). */
export function raw(card: Uicc, hex: string | Uint8Array): { data: Uint8Array; sw: number } {
  return decodeResponseApdu(card.transmit(typeof hex === 'string' ? Buffer.from(hex.replace(/\s+/g, ''), 'hex') : hex));
}

export function stateOf(card: Uicc): CardState {
  return structuredClone(card.memory.state) as CardState;
}

/**
 * A card with keys generated in the slots given (slot i+1 gets curves[i]) and, unless
 * `identity` is false, the whole identity pushed. Returns the public keys by slot.
 */
export function operationalCard(options: { curves?: Curve[]; identity?: boolean; vendorCa?: VendorCa } = {}): { card: Uicc; publicKeys: Uint8Array[] } {
  const card = options.vendorCa ? newCard(personaliseCard(inventoryRow(), { vendorCa: options.vendorCa, random: randomBytes, now: NOW })) : newCard();
  const publicKeys: Uint8Array[] = [];
  for (const [i, curve] of (options.curves ?? ['secp256k1']).entries()) {
    const r = otaResponse(card, [generateKeyPairApdu(curve, i + 1)]);
    if (r.sw !== 0x9000) throw new Error(`GENERATE answered ${r.sw.toString(16)}`);
    publicKeys.push(parseKeyTemplate(r.data).publicKey);
  }
  if (options.identity !== false) {
    const r = otaResponse(card, [storeDataApdu(IDENTITY)]);
    if (r.sw !== 0x9000) throw new Error(`STORE DATA answered ${r.sw.toString(16)}`);
  }
  return { card, publicKeys };
}

export interface ExplicitKeys {
  /** KIc and KID coding bytes (index << 4 | algorithm). */
  kic: number;
  kid: number;
  kicKey: OtaKey;
  kidKey: OtaKey;
  cntr: number;
  spi?: Spi;
}

/**
 * An OTA exchange under keys given explicitly (the operator after a PUT KEY): the PoR is
 * decoded with the same keys. `por` is undefined when the card answered none.
 */
export function otaWithKeys(card: Uicc, apdus: CommandApdu[], k: ExplicitKeys): { por: DecodedResponse | undefined; response: { executed: number; sw: number; data: Uint8Array } | undefined } {
  const spi = k.spi ?? ADMIN_SPI;
  const userData = encodeCommandUserData({
    spi,
    kic: k.kic,
    kid: k.kid,
    tar: Buffer.from(TAR, 'hex'),
    cntr: k.cntr,
    kicKey: k.kicKey,
    kidKey: k.kidKey,
    data: encodeCompactCommands(apdus),
  });
  const parts = userData.length <= 140 ? [userData] : segmentOtaPacket(userData.subarray(3), 'command', k.cntr & 0xff);
  const r = deliverUserData(card, parts);
  const submitted = r.submits.map((s) => decodeSmsSubmit(s).ud);
  const porUserData =
    submitted.length === 0 ? r.responseData : submitted.length === 1 ? submitted[0] : Buffer.concat([Uint8Array.of(2, 0x71, 0), reassemble(submitted).data]);
  if (!porUserData) return { por: undefined, response: undefined };
  const por = decodeResponsePacket(porUserData, { spi, kicKey: k.kicKey, kidKey: k.kidKey });
  const response = por.status === 0 && por.data.length >= 3 ? decodeCompactResponse(por.data) : undefined;
  return { por, response };
}
