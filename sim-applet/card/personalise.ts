/**
 * Personalisation: what the card factory does to a blank card from one row of its output
 * file: identities (ICCID, IMSI, MSISDN), the OTA keysets, the simchain applet's TAR, and
 * the attestation key with its certificate from the vendor CA. The result is the card's
 * whole persistent state, every slot allocated, lifecycle `personalised`.
 *
 * Attestation: when the row carries the card's certificate (the vendor file's ATTESTATION_CERT
 * column), the card's key is the one the simulated factory derived from the vendor CA's key
 * and the ICCID (deriveCardAttestationKey, card/attestation.ts) and the card keeps that very
 * certificate, which must be for that key, name the ICCID and come from the CA. Without it the
 * key is random and a certificate is issued now, as before.
 */
import { fail } from '../errors.js';
import { fromHex, toHex } from '../bytes.js';
import { createOtaKey, OTA_ALGORITHMS, type OtaAlgorithm } from '../protocol/ota/index.js';
import { cardAttestationFromCertificate, issueCardAttestation, type Random, type VendorCa } from './attestation.js';
import {
  CARD_FORMAT,
  KEY_SLOT_COUNT,
  KEYSET_COUNT,
  TRUST_ANCHOR_COUNT,
  type CardState,
  type KeysetRecord,
  type OtaKeyRecord,
} from './state.js';
import { APPLET_VERSION, SIMCHAIN_AID } from '../applet/constants.js';
import { checkIccid, checkImsi, checkTar, normalizeMsisdn, type FieldProblem } from '../inventory/identifiers.js';

export interface InventoryKeyset {
  index: number;
  kic: string;
  kid: string;
  kik: string;
  kicAlg: OtaAlgorithm;
  kidAlg: OtaAlgorithm;
  /** Defaults to kicAlg: the key-encryption key ciphers like KIc. */
  kikAlg?: OtaAlgorithm;
}

/** One card of the vendor's output file, as `simchain card new` takes it (DESIGN.md §6). */
export interface InventoryRow {
  iccid: string;
  imsi: string;
  msisdn: string;
  tar: string;
  keysets: InventoryKeyset[];
  /**
   * The card's DER attestation certificate, when the vendor file carries it: base64 in JSON
   * (`simchain card new`), bytes from the inventory reader; always bytes once checked.
   */
  attestationCertificate?: Uint8Array | string;
}

/** A row as checkInventoryRow returns it: the certificate, if any, decoded. */
export interface CheckedInventoryRow extends InventoryRow {
  attestationCertificate?: Uint8Array;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The attestation certificate field: DER bytes, or their base64 (whitespace allowed, as in wrapped text). */
function certificateBytes(value: unknown): Uint8Array | undefined {
  const field = 'attestationCertificate';
  if (value === undefined || value === null) return undefined;
  let der: Uint8Array;
  if (value instanceof Uint8Array) {
    der = Uint8Array.from(value);
  } else if (typeof value === 'string') {
    const text = value.replace(/\s+/g, '');
    if (!BASE64.test(text)) fail('INVALID_ARGUMENT', `${field} must be the DER certificate in base64`, { field });
    der = Uint8Array.from(Buffer.from(text, 'base64'));
  } else {
    fail('INVALID_ARGUMENT', `${field} must be a base64 string or bytes`, { field });
  }
  if (der.length === 0) fail('INVALID_ARGUMENT', `${field} is empty`, { field });
  return der;
}

/** Apply one of the inventory's identifier checks; its problem becomes a typed error naming the field. */
function identifier(value: unknown, name: string, check: (v: string) => FieldProblem | null): string {
  if (typeof value !== 'string') fail('INVALID_ARGUMENT', `${name} must be a string`, { field: name });
  const problem = check(value);
  if (problem) fail('INVALID_ARGUMENT', `${name}: ${problem.message}`, { field: name, reason: problem.code });
  return value;
}

function algorithm(value: unknown, name: string): OtaAlgorithm {
  if (typeof value !== 'string' || !(OTA_ALGORITHMS as readonly string[]).includes(value)) {
    fail('UNKNOWN_ALGORITHM', `${name} must be one of ${OTA_ALGORITHMS.join(', ')}`, { field: name, value });
  }
  return value as OtaAlgorithm;
}

function keyRecord(alg: OtaAlgorithm, hex: unknown, name: string): OtaKeyRecord {
  const bytes = fromHex(typeof hex === 'string' ? hex : (undefined as never), name);
  try {
    createOtaKey(alg, bytes);
  } catch (e) {
    if (e instanceof Error && 'details' in e) (e as { details: Record<string, unknown> }).details.field = name;
    throw e;
  }
  return { algorithm: alg, key: toHex(bytes) };
}

/**
 * Check a row and normalise it (lower-case hex, the attestation certificate as bytes); typed
 * errors name the field at fault. Whether the certificate fits the card needs the vendor CA:
 * personaliseCard checks that.
 */
export function checkInventoryRow(row: unknown): CheckedInventoryRow {
  if (row === null || typeof row !== 'object') fail('INVALID_ARGUMENT', 'an inventory row is a JSON object', { field: 'row' });
  const r = row as Record<string, unknown>;
  const iccid = identifier(r.iccid, 'iccid', checkIccid);
  const imsi = identifier(r.imsi, 'imsi', checkImsi);
  const msisdn = identifier(r.msisdn, 'msisdn', (v) => {
    const n = normalizeMsisdn(v);
    return typeof n === 'string' ? null : n;
  });
  const tar = identifier(r.tar, 'tar', checkTar).toLowerCase();
  if (!Array.isArray(r.keysets) || r.keysets.length === 0) fail('INVALID_ARGUMENT', 'keysets must list at least one keyset', { field: 'keysets' });
  const seen = new Set<number>();
  const keysets = r.keysets.map((k: unknown, i: number): InventoryKeyset => {
    const ks = (k ?? {}) as Record<string, unknown>;
    const at = `keysets[${i}]`;
    const index = ks.index;
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 1 || index > KEYSET_COUNT) {
      fail('INVALID_ARGUMENT', `${at}.index must be 1..${KEYSET_COUNT}`, { field: `${at}.index` });
    }
    if (seen.has(index)) fail('INVALID_ARGUMENT', `keyset index ${index} appears twice`, { field: `${at}.index` });
    seen.add(index);
    const kicAlg = algorithm(ks.kicAlg, `${at}.kicAlg`);
    const kidAlg = algorithm(ks.kidAlg, `${at}.kidAlg`);
    const kikAlg = ks.kikAlg === undefined ? kicAlg : algorithm(ks.kikAlg, `${at}.kikAlg`);
    return {
      index,
      kicAlg,
      kidAlg,
      kikAlg,
      kic: keyRecord(kicAlg, ks.kic, `${at}.kic`).key,
      kid: keyRecord(kidAlg, ks.kid, `${at}.kid`).key,
      kik: keyRecord(kikAlg, ks.kik, `${at}.kik`).key,
    };
  });
  const attestationCertificate = certificateBytes(r.attestationCertificate);
  return attestationCertificate ? { iccid, imsi, msisdn, tar, keysets, attestationCertificate } : { iccid, imsi, msisdn, tar, keysets };
}

export interface PersonaliseOptions {
  vendorCa: VendorCa;
  random: Random;
  /** Personalisation time: the attestation certificate's notBefore (when the row brings none). */
  now: Date;
}

export function personaliseCard(row: unknown, options: PersonaliseOptions): CardState {
  const r = checkInventoryRow(row);
  const keysets: (KeysetRecord | null)[] = Array.from({ length: KEYSET_COUNT }, () => null);
  for (const ks of r.keysets) {
    keysets[ks.index - 1] = {
      index: ks.index,
      kic: { algorithm: ks.kicAlg, key: ks.kic },
      kid: { algorithm: ks.kidAlg, key: ks.kid },
      kik: { algorithm: ks.kikAlg ?? ks.kicAlg, key: ks.kik },
      counter: 0,
    };
  }
  const attestation = r.attestationCertificate
    ? cardAttestationFromCertificate({ iccid: r.iccid, ca: options.vendorCa, certificate: r.attestationCertificate })
    : issueCardAttestation({ iccid: r.iccid, ca: options.vendorCa, random: options.random, now: options.now });
  return {
    format: CARD_FORMAT,
    iccid: r.iccid,
    imsi: r.imsi,
    msisdn: r.msisdn,
    applet: { aid: SIMCHAIN_AID, tar: r.tar, version: APPLET_VERSION },
    lifecycle: 'personalised',
    keysets,
    // The applet's TAR demands ciphering, a CC and a counter that must rise (replay protection).
    tars: [{ tar: r.tar, application: 'simchain', msl: { ciphered: true, integrity: 'cc', counter: 'higher' } }],
    keySlots: Array.from({ length: KEY_SLOT_COUNT }, () => null),
    readingCounter: 0,
    identity: { chainId: null, registry: null, batchId: null, readingContract: null, accessContract: null, keyContract: null },
    trustAnchors: Array.from({ length: TRUST_ANCHOR_COUNT }, () => null),
    attestation: {
      privateKey: toHex(attestation.privateKey),
      certificate: toHex(attestation.certificate),
      caCertificate: toHex(options.vendorCa.certificate),
      serial: attestation.serial,
    },
  };
}
