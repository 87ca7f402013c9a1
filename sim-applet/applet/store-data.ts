/**
 * STORE DATA (GlobalPlatform INS E2): the operator pushes the card's identity (chain id,
 * registry, batch, the verifying contracts of each signing purpose) and trust anchors
 * (public keys a lock must honour). The whole command is validated before anything is
 * written, and written in one transaction: a bad object changes nothing.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { p256 } from '@noble/curves/nist.js';
import type { CommandApdu, ResponseApdu } from '../protocol/apdu.js';
import { SW } from '../protocol/status-words.js';
import { decodeBerTlvs, type BerTlv } from '../protocol/tlv.js';
import { isProtocolError } from '../errors.js';
import { toHex } from '../bytes.js';
import type { CardState, IdentityRecord, TrustAnchorRecord } from '../card/state.js';
import type { Curve } from '../card/attestation.js';
import type { AppletContext } from './context.js';
import { ok, status } from './response.js';
import { DATA_TAG } from './constants.js';

type Write = (draft: CardState) => void;

const IDENTITY_RULES: Record<number, { field: keyof IdentityRecord; min: number; max: number }> = {
  [DATA_TAG.CHAIN_ID]: { field: 'chainId', min: 1, max: 32 },
  [DATA_TAG.REGISTRY]: { field: 'registry', min: 20, max: 20 },
  [DATA_TAG.BATCH_ID]: { field: 'batchId', min: 1, max: 32 },
  [DATA_TAG.READING_CONTRACT]: { field: 'readingContract', min: 20, max: 20 },
  [DATA_TAG.ACCESS_CONTRACT]: { field: 'accessContract', min: 20, max: 20 },
  [DATA_TAG.KEY_CONTRACT]: { field: 'keyContract', min: 20, max: 20 },
};

const CURVES: Record<number, Curve> = { 0x01: 'secp256k1', 0x02: 'p256' };

function validPoint(curve: Curve, point: Uint8Array): boolean {
  try {
    (curve === 'secp256k1' ? secp256k1 : p256).Point.fromBytes(point).assertValidity();
    return true;
  } catch {
    return false;
  }
}

/** One data object to the write it asks for, or undefined when it is not acceptable. */
function planWrite(obj: BerTlv, anchorSlots: number): Write | undefined {
  const rule = IDENTITY_RULES[obj.tag];
  if (rule) {
    if (obj.value.length < rule.min || obj.value.length > rule.max) return undefined;
    const value = toHex(obj.value);
    return (draft) => {
      draft.identity[rule.field] = value;
    };
  }
  if (obj.tag === DATA_TAG.TRUST_ANCHOR) {
    const [slot, curveId] = obj.value;
    const curve = curveId === undefined ? undefined : CURVES[curveId];
    const point = obj.value.subarray(2);
    if (slot === undefined || slot >= anchorSlots || !curve || !validPoint(curve, point)) return undefined;
    const record: TrustAnchorRecord = { curve, publicKey: toHex(point) };
    return (draft) => {
      draft.trustAnchors[slot] = record;
    };
  }
  if (obj.tag === DATA_TAG.TRUST_ANCHOR_CLEAR) {
    const slot = obj.value[0];
    if (obj.value.length !== 1 || slot === undefined || slot >= anchorSlots) return undefined;
    return (draft) => {
      draft.trustAnchors[slot] = null;
    };
  }
  return undefined;
}

export function storeData(apdu: CommandApdu, ctx: AppletContext): ResponseApdu {
  const state = ctx.memory.state;
  if (state.lifecycle === 'terminated') return status(SW.CONDITIONS_NOT_SATISFIED);
  // GlobalPlatform STORE DATA P1 b8 = last block; this applet takes each command whole (P2 = block 0).
  if ((apdu.p1 & 0x7f) !== 0 || apdu.p2 !== 0) return status(SW.INCORRECT_P1P2);
  if (apdu.data.length === 0) return status(SW.WRONG_LENGTH);
  let objects: BerTlv[];
  try {
    objects = decodeBerTlvs(apdu.data);
  } catch (e) {
    if (isProtocolError(e)) return status(SW.WRONG_DATA);
    throw e;
  }
  const seen = new Set<string>();
  const writes: Write[] = [];
  for (const obj of objects) {
    // The same object twice in one command is ambiguous (which one wins?): refuse it.
    const key = obj.tag === DATA_TAG.TRUST_ANCHOR || obj.tag === DATA_TAG.TRUST_ANCHOR_CLEAR ? `anchor:${obj.value[0]}` : `tag:${obj.tag}`;
    if (seen.has(key)) return status(SW.WRONG_DATA);
    seen.add(key);
    const write = planWrite(obj, state.trustAnchors.length);
    if (!write) return status(SW.WRONG_DATA);
    writes.push(write);
  }
  ctx.memory.transaction((draft, checkpoint) => {
    for (const write of writes) {
      write(draft);
      checkpoint('data-object-written');
    }
  });
  return ok();
}
