/** GET STATUS and GET DATA: what anyone talking to the card may read. */
import type { CommandApdu, ResponseApdu } from '../protocol/apdu.js';
import { SW } from '../protocol/status-words.js';
import type { CardState, IdentityRecord } from '../card/state.js';
import { CURVE_IDS } from '../card/attestation.js';
import { concat, ok, status, tlv } from './response.js';
import { DATA_TAG, GET_DATA_CERTIFICATE, GET_DATA_TRUST_ANCHOR_P1, LIFECYCLE_BYTE, TAG } from './constants.js';

const IDENTITY_FIELDS: [number, keyof IdentityRecord][] = [
  [DATA_TAG.CHAIN_ID, 'chainId'],
  [DATA_TAG.REGISTRY, 'registry'],
  [DATA_TAG.BATCH_ID, 'batchId'],
  [DATA_TAG.READING_CONTRACT, 'readingContract'],
  [DATA_TAG.ACCESS_CONTRACT, 'accessContract'],
  [DATA_TAG.KEY_CONTRACT, 'keyContract'],
];

function bitmap(items: readonly unknown[]): number {
  return items.reduce<number>((bits, item, i) => (item ? bits | (1 << i) : bits), 0);
}

export function getStatus(apdu: CommandApdu, state: Readonly<CardState>): ResponseApdu {
  if (apdu.p1 !== 0 || apdu.p2 !== 0) return status(SW.INCORRECT_P1P2);
  const [major, minor] = state.applet.version.split('.').map(Number);
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(state.readingCounter));
  const otaCounters = state.keysets.flatMap((ks) => {
    if (!ks) return [];
    const b = Buffer.alloc(6);
    b[0] = ks.index;
    b.writeUIntBE(ks.counter, 1, 5);
    return [b];
  });
  const body = concat(
    tlv(TAG.LIFECYCLE, Uint8Array.of(LIFECYCLE_BYTE[state.lifecycle])),
    tlv(TAG.VERSION, Uint8Array.of(major ?? 0, minor ?? 0)),
    tlv(TAG.KEY_PRESENCE, Uint8Array.of(bitmap(state.keySlots))),
    tlv(TAG.READING_COUNTER, counter),
    tlv(TAG.OTA_COUNTERS, concat(...otaCounters)),
    tlv(TAG.IDENTITY_PRESENCE, Uint8Array.of(bitmap(IDENTITY_FIELDS.map(([, f]) => state.identity[f])))),
    tlv(TAG.TRUST_ANCHOR_PRESENCE, Uint8Array.of(bitmap(state.trustAnchors))),
  );
  return ok(tlv(TAG.STATUS_TEMPLATE, body));
}

export function getData(apdu: CommandApdu, state: Readonly<CardState>): ResponseApdu {
  const p1p2 = (apdu.p1 << 8) | apdu.p2;
  if (p1p2 === GET_DATA_CERTIFICATE) return ok(Buffer.from(state.attestation.certificate, 'hex'));
  if (apdu.p1 === GET_DATA_TRUST_ANCHOR_P1) {
    if (apdu.p2 >= state.trustAnchors.length) return status(SW.INCORRECT_P1P2);
    const anchor = state.trustAnchors[apdu.p2];
    if (!anchor) return status(SW.REFERENCED_DATA_NOT_FOUND);
    return ok(concat(Uint8Array.of(CURVE_IDS[anchor.curve]), Buffer.from(anchor.publicKey, 'hex')));
  }
  const field = apdu.p1 === 0 ? IDENTITY_FIELDS.find(([tag]) => tag === apdu.p2)?.[1] : undefined;
  if (!field) return status(SW.INCORRECT_P1P2);
  const value = state.identity[field];
  return value === null ? status(SW.REFERENCED_DATA_NOT_FOUND) : ok(Buffer.from(value, 'hex'));
}
