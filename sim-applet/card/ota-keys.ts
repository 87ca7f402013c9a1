/**
 * OtaKey objects for the keys in a card's state. Building one (a KeyObject, AES-CMAC
 * subkeys) costs more than using it, and a card uses the same few keys for every packet,
 * so they are kept in a bounded cache keyed by algorithm and key bytes.
 */
import { createOtaKey, type OtaKey } from '../protocol/ota/index.js';
import type { OtaKeyRecord } from './state.js';

const MAX_CACHED = 4096;
const cache = new Map<string, OtaKey>();

export function otaKeyOf(record: OtaKeyRecord): OtaKey {
  const id = `${record.algorithm}:${record.key}`;
  let key = cache.get(id);
  if (!key) {
    key = createOtaKey(record.algorithm, Buffer.from(record.key, 'hex'));
    if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value!);
    cache.set(id, key);
  }
  return key;
}
