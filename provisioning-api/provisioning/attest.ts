/**
 * The key a card generated, as its PoR carries it (TS 102 226 compact response: the key
 * template of GENERATE KEY PAIR), checked before it is believed: the card's attestation
 * certificate must be issued by the vendor CA configured for the SIM's import, and its
 * signature must cover this ICCID, slot and public key. Then the device address follows.
 * The certificate is the one the card sent, or, when it was asked to leave it out, the one
 * the vendor file gave for the SIM (column ATTESTATION_CERT): checked the same way.
 */
import { addressBytesOf, decodeCompactResponse, parseKeyTemplate, verifyAttestation, type VendorAuthority } from '../../sim-applet/index.js';
import { imsiCommitment, SALT_LENGTH } from '../domain/imsi-commitment.js';
import { RandomPool } from '../secrets/random-pool.js';

const salts = new RandomPool();

/** The key slot and curve the simchain applet's chain key lives in. */
export const CHAIN_KEY_SLOT = 1;
export const CHAIN_KEY_CURVE = 'secp256k1' as const;

export interface AttestedKey {
  publicKey: Buffer;
  address: string;
  attestationSerial: string;
  salt: Buffer;
  imsiCommitment: Buffer;
}

export type AttestOutcome = { ok: true; key: AttestedKey } | { ok: false; code: 'ATTESTATION_FAILED' | 'MALFORMED_RESPONSE'; reason: string };

/** The applet's status word in a PoR's data (null when there is none to read). */
export function swOfPorData(porData: Buffer | null): number | null {
  if (!porData || porData.length === 0) return null;
  try {
    return decodeCompactResponse(porData).sw;
  } catch {
    return null;
  }
}

export function attestGeneratedKey(args: {
  iccid: string;
  imsi: string;
  porData: Buffer;
  caCertificate: Buffer | VendorAuthority;
  /** The SIM's certificate from the vendor file, used when the card sent none. */
  heldCertificate?: Buffer | null;
  at: Date;
}): AttestOutcome {
  let template;
  try {
    template = parseKeyTemplate(decodeCompactResponse(args.porData).data);
  } catch (e) {
    return { ok: false, code: 'MALFORMED_RESPONSE', reason: `not a key template: ${e instanceof Error ? e.message : String(e)}` };
  }
  if (template.curve !== CHAIN_KEY_CURVE) return { ok: false, code: 'MALFORMED_RESPONSE', reason: `a ${template.curve} key, not ${CHAIN_KEY_CURVE}` };
  const certificate = template.certificate ?? args.heldCertificate ?? null;
  if (!template.attestationSignature) return { ok: false, code: 'ATTESTATION_FAILED', reason: 'the key came without its attestation' };
  if (!certificate) return { ok: false, code: 'ATTESTATION_FAILED', reason: 'the key came without the card certificate, and the vendor file gave none' };
  const checked = verifyAttestation({
    iccid: args.iccid, curve: template.curve, slot: CHAIN_KEY_SLOT, publicKey: template.publicKey,
    signature: template.attestationSignature, certificate, caCertificate: args.caCertificate, at: args.at,
  });
  if (!checked.ok) return { ok: false, code: 'ATTESTATION_FAILED', reason: checked.reason };
  const salt = salts.take(SALT_LENGTH);
  return {
    ok: true,
    key: {
      publicKey: Buffer.from(template.publicKey),
      address: `0x${Buffer.from(addressBytesOf(template.publicKey)).toString('hex')}`,
      attestationSerial: checked.serial,
      salt,
      imsiCommitment: Buffer.from(imsiCommitment(salt, args.imsi)),
    },
  };
}
