/**
 * Backend side of attestation: is this public key born on a genuine card? Verified with
 * node:crypto's X.509 and ECDSA code, independent of the code that produced it.
 */
import { X509Certificate, verify as verifySignature } from 'node:crypto';
import { attestationMessage, type Curve } from '../card/attestation.js';

export type AttestationFailure =
  | 'CERTIFICATE_MALFORMED'
  | 'CERTIFICATE_NOT_ISSUED_BY_CA'
  | 'CERTIFICATE_EXPIRED'
  | 'CERTIFICATE_SUBJECT_MISMATCH'
  | 'SIGNATURE_INVALID';

export interface AttestationCheck {
  iccid: string;
  curve: Curve;
  slot: number;
  publicKey: Uint8Array;
  signature: Uint8Array;
  /** DER certificate returned by the card. */
  certificate: Uint8Array;
  /** The card vendor's CA certificate: DER, or already parsed (a verifier checking many cards parses it once). */
  caCertificate: Uint8Array | X509Certificate;
  /** When the check happens (injected; certificates must be valid then). */
  at: Date;
}

export type AttestationResult = { ok: true; serial: string } | { ok: false; reason: AttestationFailure };

export function verifyAttestation(check: AttestationCheck): AttestationResult {
  let cert: X509Certificate;
  let ca: X509Certificate;
  try {
    cert = new X509Certificate(check.certificate);
    ca = check.caCertificate instanceof X509Certificate ? check.caCertificate : new X509Certificate(check.caCertificate);
  } catch {
    return { ok: false, reason: 'CERTIFICATE_MALFORMED' };
  }
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) return { ok: false, reason: 'CERTIFICATE_NOT_ISSUED_BY_CA' };
  const t = check.at.getTime();
  if (t < Date.parse(cert.validFrom) || t > Date.parse(cert.validTo)) return { ok: false, reason: 'CERTIFICATE_EXPIRED' };
  if (!cert.subject.split('\n').includes(`CN=${check.iccid}`)) return { ok: false, reason: 'CERTIFICATE_SUBJECT_MISMATCH' };
  const message = attestationMessage(check.iccid, check.curve, check.slot, check.publicKey);
  let valid = false;
  try {
    valid = verifySignature('sha256', message, cert.publicKey, check.signature);
  } catch {
    valid = false;
  }
  return valid ? { ok: true, serial: cert.serialNumber.toLowerCase() } : { ok: false, reason: 'SIGNATURE_INVALID' };
}
