/**
 * What binds a SIM to its device on chain without the IMSI ever appearing there (DESIGN.md,
 * flow 2): a salted commitment to the IMSI, and the Merkle leaf of (device, commitment).
 *
 *   imsiCommitment = keccak256(abi.encode(bytes32 salt, string imsi))
 *   leaf           = keccak256(keccak256(abi.encode(address device, bytes32 imsiCommitment)))
 *
 * The IMSI is encoded as a string of its digits, not a number: test-network IMSIs start with
 * MCC 001 and IMSIs differ in length (14 or 15 digits), both of which a number would lose.
 * The leaf is OpenZeppelin's standard double hash (StandardMerkleTree, MerkleProof), which
 * DeviceRegistry.leafOf computes the same way. The salt is 32 random bytes per SIM, drawn by
 * the caller (this module is pure).
 */
import { keccak_256 } from '@noble/hashes/sha3.js';
import { fail, fromHex, toHex } from '../../sim-applet/index.js';

export const SALT_LENGTH = 32;
export const ADDRESS_LENGTH = 20;

/** ITU-T E.212: MCC (3) + MNC (2 or 3) + MSIN, at most 15 digits in all. */
const IMSI_RE = /^\d{6,15}$/;

/** 32-byte or 20-byte values may come as bytes or as 0x-hex. */
export type BytesInput = Uint8Array | string;

export function bytesOf(value: BytesInput, length: number, field: string): Uint8Array {
  const bytes = typeof value === 'string' ? fromHex(value, field) : value;
  if (!(bytes instanceof Uint8Array) || bytes.length !== length) {
    fail('INVALID_ARGUMENT', `${field} must be ${length} bytes`, { field, length: bytes instanceof Uint8Array ? bytes.length : null });
  }
  return bytes;
}

export function assertImsi(imsi: string): void {
  if (typeof imsi !== 'string' || !IMSI_RE.test(imsi)) {
    fail('INVALID_ARGUMENT', 'IMSI must be 6 to 15 decimal digits', { field: 'imsi' });
  }
}

/** abi.encode(bytes32 salt, string imsi): salt | offset 0x40 | length | digits, zero-padded. */
export function commitmentPreimage(salt: BytesInput, imsi: string): Uint8Array {
  const s = bytesOf(salt, SALT_LENGTH, 'salt');
  assertImsi(imsi);
  const out = new Uint8Array(128);
  out.set(s, 0);
  out[63] = 0x40;
  out[95] = imsi.length;
  for (let i = 0; i < imsi.length; i++) out[96 + i] = imsi.charCodeAt(i);
  return out;
}

export function imsiCommitment(salt: BytesInput, imsi: string): Uint8Array {
  return keccak_256(commitmentPreimage(salt, imsi));
}

export function imsiCommitmentHex(salt: BytesInput, imsi: string): string {
  return `0x${toHex(imsiCommitment(salt, imsi))}`;
}

/** abi.encode(address device, bytes32 imsiCommitment): 64 bytes, the address left-padded. */
export function leafPreimage(device: BytesInput, commitment: BytesInput): Uint8Array {
  const out = new Uint8Array(64);
  out.set(bytesOf(device, ADDRESS_LENGTH, 'device'), 12);
  out.set(bytesOf(commitment, 32, 'imsiCommitment'), 32);
  return out;
}

/** The standard double-hashed leaf of a device in its batch tree. */
export function deviceLeaf(device: BytesInput, commitment: BytesInput): Uint8Array {
  return keccak_256(keccak_256(leafPreimage(device, commitment)));
}
