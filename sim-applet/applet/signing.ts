/**
 * SIGN READING, SIGN ACCESS REQUEST, SIGN UNLOCK. The firmware sends the typed fields;
 * the card adds what the firmware must not choose (its own address as signer, and for
 * readings its monotonic counter), computes the EIP-712 digest under the domain the
 * operator pushed (chain id, verifying contract) and signs it with the key in the slot.
 *
 * secp256k1 keys sign the EIP-712 digest itself (low-s, as Ethereum requires); P-256 keys
 * sign the 66-byte EIP-712 message with ECDSA-SHA256, which standard P-256 verifiers check.
 * The response carries the domain separator and struct hash, so a host can rebuild the
 * digest without knowing the domain, and r ‖ s (no recovery id: see host/signature.ts).
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { p256 } from '@noble/curves/nist.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import type { CommandApdu, ResponseApdu } from '../protocol/apdu.js';
import { SW } from '../protocol/status-words.js';
import type { CardState, IdentityRecord } from '../card/state.js';
import type { AppletContext } from './context.js';
import { concat, ok, status } from './response.js';
import { SIGN_LAYOUT } from './constants.js';
import { domainSeparator, hashStruct, typedDataDigest, typedDataMessage, word, type SigningPurpose } from './eip712.js';

const CONTRACT_OF: Record<SigningPurpose, keyof IdentityRecord> = {
  reading: 'readingContract',
  accessRequest: 'accessContract',
  unlock: 'keyContract',
};

/** Highest reading counter: uint64 in the typed data, bounded here by exact JS integers. */
const MAX_READING_COUNTER = Number.MAX_SAFE_INTEGER;

/** Address of the slot's key: keccak256 of the point's X ‖ Y, low 20 bytes (the Ethereum rule, applied to either curve). */
function signerAddress(publicKeyHex: string): Uint8Array {
  return keccak_256(Buffer.from(publicKeyHex, 'hex').subarray(1)).subarray(12);
}

function u64Word(value: number | bigint): Uint8Array {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(value));
  return word(b);
}

/** Encoded fields in type order, from the firmware's fixed layout plus what the card adds. */
function encodeFields(purpose: SigningPurpose, data: Uint8Array, signer: Uint8Array, counter: number): Uint8Array[] {
  const at = (start: number, length: number) => data.subarray(start, start + length);
  switch (purpose) {
    case 'reading':
      // Reading(device, counter, observedAt, metric, value, payloadHash)
      return [word(signer), u64Word(counter), word(at(0, 8)), at(8, 32), at(40, 32), at(72, 32)];
    case 'accessRequest':
      // AccessRequest(responder, areaId, incidentId, requestedAt, expiresAt, nonce)
      return [word(signer), at(0, 32), at(32, 32), word(at(64, 8)), word(at(72, 8)), at(80, 32)];
    case 'unlock':
      // Unlock(lock, keyId, user, issuedAt, nonce)
      return [word(at(0, 20)), at(20, 32), word(signer), word(at(52, 8)), at(60, 32)];
  }
}

export function sign(purpose: SigningPurpose, apdu: CommandApdu, ctx: AppletContext): ResponseApdu {
  const state: Readonly<CardState> = ctx.memory.state;
  if (state.lifecycle !== 'operational') return status(SW.CONDITIONS_NOT_SATISFIED);
  if (apdu.p1 !== 0 || apdu.p2 < 1 || apdu.p2 > state.keySlots.length) return status(SW.INCORRECT_P1P2);
  if (apdu.data.length !== SIGN_LAYOUT[purpose]) return status(SW.WRONG_LENGTH);
  const slot = state.keySlots[apdu.p2 - 1];
  if (!slot) return status(SW.REFERENCED_DATA_NOT_FOUND);
  const chainId = state.identity.chainId;
  const contract = state.identity[CONTRACT_OF[purpose]];
  if (chainId === null || contract === null) return status(SW.CONDITIONS_NOT_SATISFIED);
  const counter = purpose === 'reading' ? state.readingCounter + 1 : 0;
  if (counter > MAX_READING_COUNTER) return status(SW.CONDITIONS_NOT_SATISFIED);

  const separator = domainSeparator(purpose, Buffer.from(chainId, 'hex'), Buffer.from(contract, 'hex'));
  const structHash = hashStruct(purpose, encodeFields(purpose, apdu.data, signerAddress(slot.publicKey), counter));
  const privateKey = Buffer.from(slot.privateKey, 'hex');
  const rs =
    slot.curve === 'secp256k1'
      ? secp256k1.sign(typedDataDigest(separator, structHash), privateKey, { prehash: false, lowS: true })
      : p256.sign(typedDataMessage(separator, structHash), privateKey);

  if (purpose !== 'reading') return ok(concat(separator, structHash, rs));
  // The counter moves in the same transaction that releases the signature: a torn
  // instruction burns no counter value, and no signature leaves with a reused one.
  ctx.memory.transaction((draft, checkpoint) => {
    draft.readingCounter = counter;
    checkpoint('reading-counter-written');
  });
  const c = Buffer.alloc(8);
  c.writeBigUInt64BE(BigInt(counter));
  return ok(concat(c, separator, structHash, rs));
}
