/**
 * GENERATE KEY PAIR and READ PUBLIC KEY. Keys live in slots addressed by number (as in
 * GSMA IoT SAFE); the private key is generated on the card from its random source and
 * never leaves it. Each generated key is attested at birth by the card's attestation key.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { p256 } from '@noble/curves/nist.js';
import type { CommandApdu, ResponseApdu } from '../protocol/apdu.js';
import { SW } from '../protocol/status-words.js';
import { attestationMessage, signAttestation, type Curve } from '../card/attestation.js';
import { publicKeyOf } from '../card/public-key.js';
import type { CardState, KeySlotRecord } from '../card/state.js';
import { toHex } from '../bytes.js';
import type { AppletContext } from './context.js';
import { concat, ok, status, tlv } from './response.js';
import { CURVE_P1, P1_WITH_ATTESTATION, P1_WITHOUT_CERTIFICATE, P2_REPLACE, TAG } from './constants.js';

const MAX_LABEL = 32;

function slotIndex(p2: number, state: Readonly<CardState>): number | undefined {
  const slot = p2 & 0x7f;
  return slot >= 1 && slot <= state.keySlots.length ? slot - 1 : undefined;
}

/** Public key, then (with attestation) its signature and, unless left out, the card certificate, then key info. */
function keyTemplate(slot: KeySlotRecord, state: Readonly<CardState>, withAttestation: boolean, withCertificate = withAttestation): Uint8Array {
  const info = concat(Uint8Array.of(CURVE_P1[slot.curve]), Buffer.from(slot.label, 'utf8'));
  const parts = [tlv(TAG.PUBLIC_KEY, Buffer.from(slot.publicKey, 'hex'))];
  if (withAttestation) {
    parts.push(tlv(TAG.ATTESTATION_SIGNATURE, Buffer.from(slot.attestation, 'hex')));
    if (withCertificate) parts.push(tlv(TAG.CARD_CERTIFICATE, Buffer.from(state.attestation.certificate, 'hex')));
  }
  parts.push(tlv(TAG.KEY_INFO, info));
  return concat(...parts);
}

export function generateKeyPair(apdu: CommandApdu, ctx: AppletContext): ResponseApdu {
  const state = ctx.memory.state;
  if (state.lifecycle !== 'personalised' && state.lifecycle !== 'operational') return status(SW.CONDITIONS_NOT_SATISFIED);
  // P1: b8 leaves the card certificate out; the other bits are the curve (any other value: 6A86).
  const withoutCertificate = (apdu.p1 & P1_WITHOUT_CERTIFICATE) !== 0;
  const curveP1 = apdu.p1 & ~P1_WITHOUT_CERTIFICATE;
  const curve = (Object.keys(CURVE_P1) as Curve[]).find((c) => CURVE_P1[c] === curveP1);
  const index = slotIndex(apdu.p2, state);
  if (!curve || index === undefined) return status(SW.INCORRECT_P1P2);
  if (apdu.data.length > MAX_LABEL) return status(SW.WRONG_LENGTH);
  const label = Buffer.from(apdu.data).toString('utf8');
  if (!Buffer.from(label, 'utf8').equals(Buffer.from(apdu.data))) return status(SW.WRONG_DATA);
  if (state.keySlots[index] && !(apdu.p2 & P2_REPLACE)) return status(SW.DATA_ALREADY_EXISTS);

  // FIPS 186-5 A.2.1: 48 random bytes reduced mod n give a uniform non-zero scalar.
  const lib = curve === 'secp256k1' ? secp256k1 : p256;
  const privateKey = lib.utils.randomSecretKey(ctx.random(48));
  const publicKey = publicKeyOf(curve, privateKey);
  const attestation = signAttestation(
    Buffer.from(state.attestation.privateKey, 'hex'),
    attestationMessage(state.iccid, curve, index + 1, publicKey),
  );
  const record: KeySlotRecord = { curve, label, privateKey: toHex(privateKey), publicKey: toHex(publicKey), attestation: toHex(attestation) };
  ctx.memory.transaction((draft, checkpoint) => {
    draft.keySlots[index] = record;
    checkpoint('key-written');
    if (draft.lifecycle === 'personalised') draft.lifecycle = 'operational';
  });
  return ok(keyTemplate(record, ctx.memory.state, true, !withoutCertificate));
}

export function readPublicKey(apdu: CommandApdu, state: Readonly<CardState>): ResponseApdu {
  const index = slotIndex(apdu.p2, state);
  if ((apdu.p1 !== 0 && apdu.p1 !== P1_WITH_ATTESTATION) || index === undefined || apdu.p2 & P2_REPLACE) {
    return status(SW.INCORRECT_P1P2);
  }
  const slot = state.keySlots[index];
  if (!slot) return status(SW.REFERENCED_DATA_NOT_FOUND);
  return ok(keyTemplate(slot, state, apdu.p1 === P1_WITH_ATTESTATION));
}
