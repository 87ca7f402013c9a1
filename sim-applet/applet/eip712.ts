/**
 * EIP-712 typed data the card signs: sensor readings, emergency access requests and
 * unlock requests. The definitions here are the single source: the card computes the
 * digests from them, and the backend, the contracts and the locks verify against them.
 *
 * The card receives the fields as fixed-width bytes and encodes them itself; the fields
 * that identify the signer (device / responder / user) and the reading counter come from
 * the card, never from the firmware.
 */
import { keccak_256 } from '@noble/hashes/sha3.js';
import { fail } from '../errors.js';

export interface TypedField {
  name: string;
  type: 'address' | 'uint64' | 'uint256' | 'int256' | 'bytes32' | 'string';
}

export const EIP712_DOMAIN_FIELDS: TypedField[] = [
  { name: 'name', type: 'string' },
  { name: 'version', type: 'string' },
  { name: 'chainId', type: 'uint256' },
  { name: 'verifyingContract', type: 'address' },
];

/** Reading(address device,uint64 counter,uint64 observedAt,bytes32 metric,int256 value,bytes32 payloadHash) */
export const READING_TYPES = {
  Reading: [
    { name: 'device', type: 'address' },
    { name: 'counter', type: 'uint64' },
    { name: 'observedAt', type: 'uint64' },
    { name: 'metric', type: 'bytes32' },
    { name: 'value', type: 'int256' },
    { name: 'payloadHash', type: 'bytes32' },
  ],
} as const satisfies Record<string, TypedField[]>;

/** AccessRequest(address responder,bytes32 areaId,bytes32 incidentId,uint64 requestedAt,uint64 expiresAt,uint256 nonce) */
export const ACCESS_REQUEST_TYPES = {
  AccessRequest: [
    { name: 'responder', type: 'address' },
    { name: 'areaId', type: 'bytes32' },
    { name: 'incidentId', type: 'bytes32' },
    { name: 'requestedAt', type: 'uint64' },
    { name: 'expiresAt', type: 'uint64' },
    { name: 'nonce', type: 'uint256' },
  ],
} as const satisfies Record<string, TypedField[]>;

/** Unlock(address lock,uint256 keyId,address user,uint64 issuedAt,uint256 nonce) */
export const UNLOCK_TYPES = {
  Unlock: [
    { name: 'lock', type: 'address' },
    { name: 'keyId', type: 'uint256' },
    { name: 'user', type: 'address' },
    { name: 'issuedAt', type: 'uint64' },
    { name: 'nonce', type: 'uint256' },
  ],
} as const satisfies Record<string, TypedField[]>;

/** The three signing purposes, each with its own domain name (the verifying contract is pushed by the operator). */
export const SIGNING_PURPOSES = {
  reading: { primaryType: 'Reading', domainName: 'simchain.ReadingAnchor', types: READING_TYPES },
  accessRequest: { primaryType: 'AccessRequest', domainName: 'simchain.EmergencyAccess', types: ACCESS_REQUEST_TYPES },
  unlock: { primaryType: 'Unlock', domainName: 'simchain.AccessKey', types: UNLOCK_TYPES },
} as const;

export type SigningPurpose = keyof typeof SIGNING_PURPOSES;

export const DOMAIN_VERSION = '1';

/** The EIP-712 domain of a purpose, in the shape ethers' `TypedDataDomain` takes. */
export function domainOf(purpose: SigningPurpose, chainId: bigint, verifyingContract: string) {
  return { name: SIGNING_PURPOSES[purpose].domainName, version: DOMAIN_VERSION, chainId, verifyingContract };
}

const utf8 = new TextEncoder();

function encodeType(primaryType: string, fields: readonly TypedField[]): string {
  return `${primaryType}(${fields.map((f) => `${f.type} ${f.name}`).join(',')})`;
}

export const DOMAIN_TYPEHASH = keccak_256(utf8.encode(encodeType('EIP712Domain', EIP712_DOMAIN_FIELDS)));

export const TYPEHASH: Record<SigningPurpose, Uint8Array> = {
  reading: keccak_256(utf8.encode(encodeType('Reading', READING_TYPES.Reading))),
  accessRequest: keccak_256(utf8.encode(encodeType('AccessRequest', ACCESS_REQUEST_TYPES.AccessRequest))),
  unlock: keccak_256(utf8.encode(encodeType('Unlock', UNLOCK_TYPES.Unlock))),
};

/** A 32-byte ABI word holding `bytes` right-aligned (uintN, address), zero-filled on the left. */
export function word(bytes: Uint8Array): Uint8Array {
  if (bytes.length > 32) fail('INVALID_ARGUMENT', 'an ABI word holds at most 32 bytes', { length: bytes.length });
  const out = new Uint8Array(32);
  out.set(bytes, 32 - bytes.length);
  return out;
}

/** hashStruct(s) = keccak256(typeHash ‖ enc(field_1) ‖ … ), fields already encoded as 32-byte words (EIP-712 §encodeData). */
export function hashStruct(purpose: SigningPurpose, words: readonly Uint8Array[]): Uint8Array {
  const fields = SIGNING_PURPOSES[purpose].types[SIGNING_PURPOSES[purpose].primaryType as never] as readonly TypedField[];
  if (words.length !== fields.length) {
    fail('INVALID_ARGUMENT', `${purpose} has ${fields.length} fields, got ${words.length}`, { purpose });
  }
  const h = keccak_256.create();
  h.update(TYPEHASH[purpose]);
  for (const w of words) {
    if (w.length !== 32) fail('INVALID_ARGUMENT', 'every encoded field is a 32-byte word', { purpose });
    h.update(w);
  }
  return h.digest();
}

/** domainSeparator = hashStruct(EIP712Domain{name, version, chainId, verifyingContract}). */
export function domainSeparator(purpose: SigningPurpose, chainId: Uint8Array, verifyingContract: Uint8Array): Uint8Array {
  if (verifyingContract.length !== 20) fail('INVALID_ARGUMENT', 'verifyingContract is a 20-byte address', { field: 'verifyingContract' });
  const h = keccak_256.create();
  h.update(DOMAIN_TYPEHASH);
  h.update(keccak_256(utf8.encode(SIGNING_PURPOSES[purpose].domainName)));
  h.update(keccak_256(utf8.encode(DOMAIN_VERSION)));
  h.update(word(chainId));
  h.update(word(verifyingContract));
  return h.digest();
}

/** The 66-byte message `0x19 0x01 ‖ domainSeparator ‖ hashStruct(message)` (EIP-712 §Specification). */
export function typedDataMessage(separator: Uint8Array, structHash: Uint8Array): Uint8Array {
  const out = new Uint8Array(66);
  out[0] = 0x19;
  out[1] = 0x01;
  out.set(separator, 2);
  out.set(structHash, 34);
  return out;
}

/** The EIP-712 digest: keccak256 of the 66-byte message. */
export function typedDataDigest(separator: Uint8Array, structHash: Uint8Array): Uint8Array {
  return keccak_256(typedDataMessage(separator, structHash));
}
