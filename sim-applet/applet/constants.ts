/**
 * The simchain applet's constants in one block, as a Java Card applet keeps them:
 * class, instructions and their ISO cases, parameters, tags, and its AID and TAR.
 */
import type { ApduCase } from '../protocol/apdu.js';

/** Proprietary class of the applet's instructions (ISO 7816-4 §5.4.1: b8 = 1). */
export const CLA_PROPRIETARY = 0x80;

/** The applet's AID: a proprietary RID (F0 = not registered, ISO 7816-5) + "SIMCHAIN" + version. */
export const SIMCHAIN_AID = 'f0534d4348414e0101';
/** The applet's default TAR (TS 101 220 leaves 0xBFFF00..0xBFFFFF for proprietary use). */
export const SIMCHAIN_DEFAULT_TAR = 'bfff01';
export const APPLET_VERSION = '1.0';

export const INS = {
  GET_STATUS: 0xf4,
  GENERATE_KEY_PAIR: 0xd4,
  READ_PUBLIC_KEY: 0xb4,
  SIGN_READING: 0x30,
  SIGN_ACCESS_REQUEST: 0x32,
  SIGN_UNLOCK: 0x34,
  PUT_KEY: 0xd8,
  STORE_DATA: 0xe2,
  GET_DATA: 0xca,
  /** ISO 7816-9 DEACTIVATE FILE, here: lock the applet */
  LOCK: 0x04,
  /** ISO 7816-9 ACTIVATE FILE, here: unlock the applet */
  UNLOCK: 0x44,
  /** ISO 7816-9 TERMINATE DF, here: terminate the applet for good */
  TERMINATE: 0xe6,
} as const;

/** ISO case of each instruction, used to split TS 102 226 compact command lists. */
export const INS_CASE: Record<number, ApduCase> = {
  [INS.GET_STATUS]: 2,
  [INS.GENERATE_KEY_PAIR]: 4,
  [INS.READ_PUBLIC_KEY]: 2,
  [INS.SIGN_READING]: 4,
  [INS.SIGN_ACCESS_REQUEST]: 4,
  [INS.SIGN_UNLOCK]: 4,
  [INS.PUT_KEY]: 3,
  [INS.STORE_DATA]: 3,
  [INS.GET_DATA]: 2,
  [INS.LOCK]: 1,
  [INS.UNLOCK]: 1,
  [INS.TERMINATE]: 1,
};

/** Instructions only the operator may send, through the OTA layer at the TAR's security level. */
export const ADMIN_INS: ReadonlySet<number> = new Set([
  INS.GENERATE_KEY_PAIR,
  INS.PUT_KEY,
  INS.STORE_DATA,
  INS.LOCK,
  INS.UNLOCK,
  INS.TERMINATE,
]);

/** GENERATE KEY PAIR P1: the curve, in the low bits (b7..b1). */
export const CURVE_P1 = { secp256k1: 0x01, p256: 0x02 } as const;
/**
 * GENERATE KEY PAIR P1 bit b8: leave the card certificate out of the key template (public key,
 * attestation signature and key info only), for an operator that holds the certificate from
 * the vendor file: about 350 bytes less in the PoR (4 SMS become 2). The signature is the same either way.
 */
export const P1_WITHOUT_CERTIFICATE = 0x80;
/** GENERATE KEY PAIR P2 bit: replace a key already in the slot (otherwise 6A89). */
export const P2_REPLACE = 0x80;
/** READ PUBLIC KEY P1: 00 the key only, 01 with its attestation (signature and card certificate). */
export const P1_WITH_ATTESTATION = 0x01;

/** Lifecycle bytes in GET STATUS (GlobalPlatform-like coding). */
export const LIFECYCLE_BYTE = { personalised: 0x03, operational: 0x07, locked: 0x83, terminated: 0xff } as const;

/** Response TLV tags (context-specific, primitive). */
export const TAG = {
  STATUS_TEMPLATE: 0xa5,
  LIFECYCLE: 0x80,
  VERSION: 0x81,
  KEY_PRESENCE: 0x82,
  READING_COUNTER: 0x83,
  OTA_COUNTERS: 0x84,
  IDENTITY_PRESENCE: 0x85,
  TRUST_ANCHOR_PRESENCE: 0x86,
  KEY_TEMPLATE: 0xa0,
  PUBLIC_KEY: 0x80,
  ATTESTATION_SIGNATURE: 0x81,
  CARD_CERTIFICATE: 0x82,
  KEY_INFO: 0x83,
} as const;

/** STORE DATA / GET DATA data objects (P1P2 of GET DATA = 00 tag). */
export const DATA_TAG = {
  CHAIN_ID: 0xc1,
  REGISTRY: 0xc2,
  BATCH_ID: 0xc3,
  READING_CONTRACT: 0xc4,
  ACCESS_CONTRACT: 0xc5,
  KEY_CONTRACT: 0xc6,
  /** slot(1) ‖ curve(1) ‖ SEC1 point */
  TRUST_ANCHOR: 0xca,
  /** slot(1): clear a trust anchor */
  TRUST_ANCHOR_CLEAR: 0xcb,
} as const;

/** GET DATA P1 = 01: trust anchor in slot P2. GET DATA P1P2 = 7F21: the card certificate. */
export const GET_DATA_TRUST_ANCHOR_P1 = 0x01;
export const GET_DATA_CERTIFICATE = 0x7f21;

/** Field widths of the signing instructions' data (fixed layouts, big-endian). */
export const SIGN_LAYOUT = {
  /** observedAt(8) ‖ metric(32) ‖ value(32, int256 two's complement) ‖ payloadHash(32) */
  reading: 104,
  /** areaId(32) ‖ incidentId(32) ‖ requestedAt(8) ‖ expiresAt(8) ‖ nonce(32) */
  accessRequest: 112,
  /** lock(20) ‖ keyId(32) ‖ issuedAt(8) ‖ nonce(32) */
  unlock: 92,
} as const;
