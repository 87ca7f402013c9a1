/** Reading the simchain applet's responses: key templates, status, signatures. */
import { keccak_256 } from '@noble/hashes/sha3.js';
import { decodeBerTlvs } from '../protocol/tlv.js';
import { fail } from '../errors.js';
import type { Curve } from '../card/attestation.js';
import type { Lifecycle } from '../card/state.js';
import { CURVE_P1, LIFECYCLE_BYTE, TAG } from '../applet/constants.js';
import { typedDataMessage } from '../applet/eip712.js';

export interface KeyTemplate {
  publicKey: Uint8Array;
  curve: Curve;
  label: string;
  attestationSignature?: Uint8Array;
  certificate?: Uint8Array;
}

export function parseKeyTemplate(data: Uint8Array): KeyTemplate {
  const tlvs = decodeBerTlvs(data);
  const get = (tag: number) => tlvs.find((t) => t.tag === tag)?.value;
  const publicKey = get(TAG.PUBLIC_KEY);
  const info = get(TAG.KEY_INFO);
  if (!publicKey || !info || info.length < 1) fail('MALFORMED', 'key template without public key or key info', { field: 'keyTemplate' });
  const curve = (Object.keys(CURVE_P1) as Curve[]).find((c) => CURVE_P1[c] === info[0]);
  if (!curve) fail('MALFORMED', 'unknown curve in key info', { field: 'keyInfo' });
  const out: KeyTemplate = { publicKey, curve, label: Buffer.from(info.subarray(1)).toString('utf8') };
  const sig = get(TAG.ATTESTATION_SIGNATURE);
  const cert = get(TAG.CARD_CERTIFICATE);
  if (sig) out.attestationSignature = sig;
  if (cert) out.certificate = cert;
  return out;
}

export interface CardStatus {
  lifecycle: Lifecycle;
  version: string;
  /** Key slots holding a key (1-based). */
  keySlots: number[];
  readingCounter: bigint;
  /** OTA counters by keyset index. */
  otaCounters: Map<number, number>;
  identityPresence: number;
  trustAnchorSlots: number[];
}

export function parseStatus(data: Uint8Array): CardStatus {
  const [template] = decodeBerTlvs(data);
  if (!template || template.tag !== TAG.STATUS_TEMPLATE) fail('MALFORMED', 'not a status template (A5)', { field: 'status' });
  const tlvs = decodeBerTlvs(template.value);
  const get = (tag: number) => tlvs.find((t) => t.tag === tag)?.value ?? fail('MALFORMED', `status without tag ${tag.toString(16)}`, { field: 'status' });
  const lifecycleByte = get(TAG.LIFECYCLE)[0];
  const lifecycle = (Object.keys(LIFECYCLE_BYTE) as Lifecycle[]).find((l) => LIFECYCLE_BYTE[l] === lifecycleByte);
  if (!lifecycle) fail('MALFORMED', 'unknown lifecycle byte', { field: 'lifecycle' });
  const version = get(TAG.VERSION);
  const bits = (byte: number | undefined, base: number) => [0, 1, 2, 3, 4, 5, 6, 7].filter((i) => ((byte ?? 0) >> i) & 1).map((i) => i + base);
  const counters = new Map<number, number>();
  const ota = Buffer.from(get(TAG.OTA_COUNTERS));
  for (let o = 0; o + 6 <= ota.length; o += 6) counters.set(ota[o]!, ota.readUIntBE(o + 1, 5));
  return {
    lifecycle,
    version: `${version[0]}.${version[1]}`,
    keySlots: bits(get(TAG.KEY_PRESENCE)[0], 1),
    readingCounter: Buffer.from(get(TAG.READING_COUNTER)).readBigUInt64BE(0),
    otaCounters: counters,
    identityPresence: get(TAG.IDENTITY_PRESENCE)[0] ?? 0,
    trustAnchorSlots: bits(get(TAG.TRUST_ANCHOR_PRESENCE)[0], 0),
  };
}

export interface SignatureResponse {
  /** Reading counter the card used (SIGN READING only). */
  counter?: bigint;
  domainSeparator: Uint8Array;
  structHash: Uint8Array;
  /** The 66-byte EIP-712 message (P-256 keys sign it with ECDSA-SHA256). */
  message: Uint8Array;
  /** keccak256 of the message: the EIP-712 digest (secp256k1 keys sign it). */
  digest: Uint8Array;
  r: Uint8Array;
  s: Uint8Array;
}

export function parseSignatureResponse(data: Uint8Array, withCounter: boolean): SignatureResponse {
  const expected = (withCounter ? 8 : 0) + 128;
  if (data.length !== expected) fail('LENGTH_MISMATCH', `signature response is ${expected} bytes, got ${data.length}`, { field: 'signature' });
  const o = withCounter ? 8 : 0;
  const domainSeparator = data.subarray(o, o + 32);
  const structHash = data.subarray(o + 32, o + 64);
  const message = typedDataMessage(domainSeparator, structHash);
  const out: SignatureResponse = {
    domainSeparator,
    structHash,
    message,
    digest: keccak_256(message),
    r: data.subarray(o + 64, o + 96),
    s: data.subarray(o + 96, o + 128),
  };
  if (withCounter) out.counter = Buffer.from(data.subarray(0, 8)).readBigUInt64BE(0);
  return out;
}
