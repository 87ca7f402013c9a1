/**
 * C-APDUs for the simchain applet, as the operator's backend (inside OTA packets) and the
 * device firmware (plain) build them. The layouts are the applet's (README, "The simchain
 * applet"); building them in one place keeps the two sides from drifting.
 */
import type { CommandApdu } from '../protocol/apdu.js';
import { encodeBerTlv } from '../protocol/tlv.js';
import { fail } from '../errors.js';
import { CURVE_IDS, type Curve } from '../card/attestation.js';
import type { OtaAlgorithm, OtaKey } from '../protocol/ota/index.js';
import { encodeKeyBlock, PUT_KEY_P2 } from '../applet/put-key.js';
import { CLA_PROPRIETARY, CURVE_P1, DATA_TAG, INS, P1_WITH_ATTESTATION, P1_WITHOUT_CERTIFICATE, P2_REPLACE, SIGN_LAYOUT } from '../applet/constants.js';

const EMPTY = new Uint8Array(0);

function apdu(ins: number, p1: number, p2: number, data: Uint8Array = EMPTY, ne?: number): CommandApdu {
  return ne === undefined ? { cla: CLA_PROPRIETARY, ins, p1, p2, data } : { cla: CLA_PROPRIETARY, ins, p1, p2, data, ne };
}

function fixed(bytes: Uint8Array, length: number, field: string): Uint8Array {
  if (!(bytes instanceof Uint8Array) || bytes.length !== length) fail('INVALID_ARGUMENT', `${field} must be ${length} bytes`, { field });
  return bytes;
}

function u64(value: bigint | number, field: string): Uint8Array {
  const v = BigInt(value);
  if (v < 0n || v >= 2n ** 64n) fail('INVALID_ARGUMENT', `${field} must fit 64 bits`, { field });
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(v);
  return b;
}

function u256(value: bigint | number, field: string): Uint8Array {
  const v = BigInt(value);
  if (v < 0n || v >= 2n ** 256n) fail('INVALID_ARGUMENT', `${field} must fit 256 bits`, { field });
  return Buffer.from(v.toString(16).padStart(64, '0'), 'hex');
}

export const getStatusApdu = (): CommandApdu => apdu(INS.GET_STATUS, 0, 0, EMPTY, 256);

export interface GenerateKeyPairOptions {
  /** Replace a key already in the slot (P2 b8); otherwise the card refuses with 6A89. */
  replace?: boolean;
  /** Up to 32 bytes of UTF-8. */
  label?: string;
  /** Leave the card certificate out of the answer (P1 b8), for an operator that holds it already. */
  withoutCertificate?: boolean;
}

export function generateKeyPairApdu(curve: Curve, slot: number, options: GenerateKeyPairOptions = {}): CommandApdu {
  const p1 = CURVE_P1[curve] | (options.withoutCertificate ? P1_WITHOUT_CERTIFICATE : 0);
  return apdu(INS.GENERATE_KEY_PAIR, p1, slot | (options.replace ? P2_REPLACE : 0), Buffer.from(options.label ?? '', 'utf8'), 256);
}

export const readPublicKeyApdu = (slot: number, withAttestation = false): CommandApdu =>
  apdu(INS.READ_PUBLIC_KEY, withAttestation ? P1_WITH_ATTESTATION : 0, slot, EMPTY, 256);

export interface ReadingFields {
  observedAt: bigint | number;
  /** 32 bytes, e.g. keccak256("temperature") */
  metric: Uint8Array;
  /** int256 */
  value: bigint;
  payloadHash: Uint8Array;
}

export function signReadingApdu(slot: number, f: ReadingFields): CommandApdu {
  if (f.value < -(2n ** 255n) || f.value >= 2n ** 255n) fail('INVALID_ARGUMENT', 'value must fit int256', { field: 'value' });
  const value = Buffer.from(BigInt.asUintN(256, f.value).toString(16).padStart(64, '0'), 'hex');
  const data = Buffer.concat([u64(f.observedAt, 'observedAt'), fixed(f.metric, 32, 'metric'), value, fixed(f.payloadHash, 32, 'payloadHash')]);
  return apdu(INS.SIGN_READING, 0, slot, data, 256);
}

export interface AccessRequestFields {
  areaId: Uint8Array;
  incidentId: Uint8Array;
  requestedAt: bigint | number;
  expiresAt: bigint | number;
  nonce: bigint | number;
}

export function signAccessRequestApdu(slot: number, f: AccessRequestFields): CommandApdu {
  const data = Buffer.concat([
    fixed(f.areaId, 32, 'areaId'),
    fixed(f.incidentId, 32, 'incidentId'),
    u64(f.requestedAt, 'requestedAt'),
    u64(f.expiresAt, 'expiresAt'),
    u256(f.nonce, 'nonce'),
  ]);
  return apdu(INS.SIGN_ACCESS_REQUEST, 0, slot, data, 256);
}

export interface UnlockFields {
  /** 20-byte address of the lock */
  lock: Uint8Array;
  keyId: bigint | number;
  issuedAt: bigint | number;
  nonce: bigint | number;
}

export function signUnlockApdu(slot: number, f: UnlockFields): CommandApdu {
  const data = Buffer.concat([fixed(f.lock, 20, 'lock'), u256(f.keyId, 'keyId'), u64(f.issuedAt, 'issuedAt'), u256(f.nonce, 'nonce')]);
  return apdu(INS.SIGN_UNLOCK, 0, slot, data, 256);
}

export interface KeysetKeys {
  kic: { algorithm: OtaAlgorithm; key: Uint8Array };
  kid: { algorithm: OtaAlgorithm; key: Uint8Array };
  kik: { algorithm: OtaAlgorithm; key: Uint8Array };
}

/** PUT KEY for keyset `index`, the new keys encrypted under `kik`: the KIk of the keyset that secures the OTA packet carrying it. */
export function putKeyApdu(index: number, keys: KeysetKeys, kik: OtaKey): CommandApdu {
  const data = Buffer.concat([
    encodeKeyBlock(kik, keys.kic.algorithm, keys.kic.key),
    encodeKeyBlock(kik, keys.kid.algorithm, keys.kid.key),
    encodeKeyBlock(kik, keys.kik.algorithm, keys.kik.key),
  ]);
  return apdu(INS.PUT_KEY, index, PUT_KEY_P2, data);
}

export interface IdentityFields {
  /** chain id as an integer */
  chainId?: bigint | number;
  registry?: Uint8Array;
  batchId?: Uint8Array;
  readingContract?: Uint8Array;
  accessContract?: Uint8Array;
  keyContract?: Uint8Array;
  trustAnchors?: { slot: number; curve: Curve; publicKey: Uint8Array }[];
  clearTrustAnchors?: number[];
}

export function storeDataApdu(f: IdentityFields): CommandApdu {
  const objects: Uint8Array[] = [];
  if (f.chainId !== undefined) {
    const hex = BigInt(f.chainId).toString(16);
    objects.push(encodeBerTlv(DATA_TAG.CHAIN_ID, Buffer.from(hex.length % 2 ? '0' + hex : hex, 'hex')));
  }
  const put = (tag: number, value: Uint8Array | undefined) => value && objects.push(encodeBerTlv(tag, value));
  put(DATA_TAG.REGISTRY, f.registry);
  put(DATA_TAG.BATCH_ID, f.batchId);
  put(DATA_TAG.READING_CONTRACT, f.readingContract);
  put(DATA_TAG.ACCESS_CONTRACT, f.accessContract);
  put(DATA_TAG.KEY_CONTRACT, f.keyContract);
  for (const a of f.trustAnchors ?? []) {
    objects.push(encodeBerTlv(DATA_TAG.TRUST_ANCHOR, Buffer.concat([Uint8Array.of(a.slot, CURVE_IDS[a.curve]), a.publicKey])));
  }
  for (const slot of f.clearTrustAnchors ?? []) objects.push(encodeBerTlv(DATA_TAG.TRUST_ANCHOR_CLEAR, Uint8Array.of(slot)));
  const data = Buffer.concat(objects);
  if (data.length > 255) fail('TOO_LONG', 'STORE DATA over 255 bytes: split it in several commands', { field: 'data', length: data.length });
  return apdu(INS.STORE_DATA, 0x80, 0, data);
}

export const getDataApdu = (p1: number, p2: number): CommandApdu => apdu(INS.GET_DATA, p1, p2, EMPTY, 256);
export const lockApdu = (): CommandApdu => apdu(INS.LOCK, 0, 0);
export const unlockApdu = (): CommandApdu => apdu(INS.UNLOCK, 0, 0);
export const terminateApdu = (): CommandApdu => apdu(INS.TERMINATE, 0, 0);

export { SIGN_LAYOUT };
