/**
 * The card's persistent state: what a real card keeps in EEPROM/flash. Every field is
 * allocated at personalisation (fixed numbers of keysets, key slots and trust anchors,
 * as a Java Card applet allocates in its constructor), and the whole object is plain
 * JSON, so it is also the snapshot simulators store for millions of cards.
 */
import type { Curve } from './attestation.js';
import type { CounterMode, OtaAlgorithm } from '../protocol/ota/index.js';

export const CARD_FORMAT = 'simchain-card/1';
export const KEYSET_COUNT = 15;
export const KEY_SLOT_COUNT = 4;
export const TRUST_ANCHOR_COUNT = 8;

export type Lifecycle = 'personalised' | 'operational' | 'locked' | 'terminated';

export interface OtaKeyRecord {
  algorithm: OtaAlgorithm;
  /** hex */
  key: string;
}

export interface KeysetRecord {
  /** Key index 1..15, as in the KIc/KID high nibble. */
  index: number;
  kic: OtaKeyRecord;
  kid: OtaKeyRecord;
  kik: OtaKeyRecord;
  /** The receiving entity's counter for this keyset (TS 102 225 §5.1.1), 0..2^40-1. */
  counter: number;
}

/** Minimum security level a TAR demands (TS 102 226 §8.2.1.3.2.4: coded like SPI byte 1). */
export interface MinimumSecurityLevel {
  ciphered: boolean;
  integrity: 'none' | 'cc';
  counter: CounterMode;
}

export interface TarRecord {
  /** hex6 */
  tar: string;
  application: 'simchain';
  msl: MinimumSecurityLevel;
}

export interface KeySlotRecord {
  curve: Curve;
  label: string;
  /** hex; never leaves the card */
  privateKey: string;
  /** hex, SEC1 uncompressed */
  publicKey: string;
  /** hex DER signature of the attestation key over (ICCID, curve, slot, public key), made when the key was generated */
  attestation: string;
}

/** What the operator pushes with STORE DATA; every field hex or null until pushed. */
export interface IdentityRecord {
  chainId: string | null;
  registry: string | null;
  batchId: string | null;
  readingContract: string | null;
  accessContract: string | null;
  keyContract: string | null;
}

export interface TrustAnchorRecord {
  curve: Curve;
  /** hex SEC1 point */
  publicKey: string;
}

export interface CardState {
  format: typeof CARD_FORMAT;
  iccid: string;
  imsi: string;
  msisdn: string;
  applet: { aid: string; tar: string; version: string };
  lifecycle: Lifecycle;
  /** keysets[i] holds key index i+1 */
  keysets: (KeysetRecord | null)[];
  tars: TarRecord[];
  /** keySlots[i] holds slot i+1 */
  keySlots: (KeySlotRecord | null)[];
  /** The applet's own monotonic reading counter: the last value used. */
  readingCounter: number;
  identity: IdentityRecord;
  trustAnchors: (TrustAnchorRecord | null)[];
  attestation: {
    /** hex P-256 scalar */
    privateKey: string;
    /** hex DER */
    certificate: string;
    /** hex DER of the vendor CA certificate, so a verifier holding the card state can check the chain */
    caCertificate: string;
    /** hex certificate serial */
    serial: string;
  };
}
