/**
 * PUT KEY (GlobalPlatform INS D8): replace or create an OTA keyset. P1 is the keyset's key
 * index (1..15), P2 = 81 (several keys, starting with the first, as GlobalPlatform codes it).
 * The data holds three key blocks, KIc, KID, KIk in that order, each
 *
 *   algorithm(1) ‖ key length(1) ‖ E_KIk(key ‖ zero padding) ‖ 03 ‖ KCV(3)
 *
 * with the algorithm coded as the low nibble of KIc/KID (01 DES, 05 2-key 3DES, 09 3-key
 * 3DES, 02 AES), E_KIk CBC with a zero IV under the KIk of the keyset that secured this
 * command, and the key check value as GlobalPlatform defines it: the first three bytes of
 * the new key encrypting eight zero bytes (DES family) or sixteen 01 bytes (AES, GPC Amd D).
 * Every block is decrypted and checked before anything is written; the keyset's counter is
 * kept, so a counter value used under the old keys can never be accepted again.
 */
import type { CommandApdu, ResponseApdu } from '../protocol/apdu.js';
import { SW } from '../protocol/status-words.js';
import { createOtaKey, decryptCbc, encryptCbc, type OtaAlgorithm, type OtaKey } from '../protocol/ota/index.js';
import { isProtocolError } from '../errors.js';
import { equalBytes, toHex } from '../bytes.js';
import type { KeysetRecord, OtaKeyRecord } from '../card/state.js';
import type { AppletContext } from './context.js';
import { ok, status } from './response.js';
import { otaKeyOf } from '../card/ota-keys.js';

export const PUT_KEY_P2 = 0x81;

const ALGORITHM_CODES: Record<number, OtaAlgorithm> = { 0x01: 'des', 0x05: '3des2', 0x09: '3des3', 0x02: 'aes' };
export const ALGORITHM_CODE: Record<OtaAlgorithm, number> = { des: 0x01, '3des2': 0x05, '3des3': 0x09, aes: 0x02 };

/** GlobalPlatform key check value of a key. */
export function keyCheckValue(key: OtaKey): Uint8Array {
  const block = key.algorithm === 'aes' ? Buffer.alloc(16, 0x01) : Buffer.alloc(8, 0x00);
  return encryptCbc(key, block).subarray(0, 3);
}

/** Encode one key block of PUT KEY data (the backend's side, and the tests'). */
export function encodeKeyBlock(kik: OtaKey, algorithm: OtaAlgorithm, key: Uint8Array): Uint8Array {
  const padded = Buffer.alloc(Math.ceil(key.length / kik.blockSize) * kik.blockSize);
  padded.set(key);
  return Buffer.concat([
    Uint8Array.of(ALGORITHM_CODE[algorithm], key.length),
    encryptCbc(kik, padded),
    Uint8Array.of(3),
    keyCheckValue(createOtaKey(algorithm, key)),
  ]);
}

function readKeyBlock(data: Uint8Array, offset: number, kik: OtaKey): { record: OtaKeyRecord; next: number } | undefined {
  const algorithm = ALGORITHM_CODES[data[offset] ?? -1];
  const length = data[offset + 1];
  if (!algorithm || length === undefined || length === 0) return undefined;
  const encLength = Math.ceil(length / kik.blockSize) * kik.blockSize;
  const kcvAt = offset + 2 + encLength;
  if (kcvAt + 4 > data.length || data[kcvAt] !== 3) return undefined;
  try {
    const plain = decryptCbc(kik, data.subarray(offset + 2, kcvAt));
    if (plain.subarray(length).some((b) => b !== 0)) return undefined;
    const keyBytes = plain.subarray(0, length);
    const key = createOtaKey(algorithm, keyBytes);
    if (!equalBytes(keyCheckValue(key), data.subarray(kcvAt + 1, kcvAt + 4))) return undefined;
    return { record: { algorithm, key: toHex(keyBytes) }, next: kcvAt + 4 };
  } catch (e) {
    if (isProtocolError(e)) return undefined;
    throw e;
  }
}

export function putKey(apdu: CommandApdu, ctx: AppletContext): ResponseApdu {
  const state = ctx.memory.state;
  if (state.lifecycle === 'terminated') return status(SW.CONDITIONS_NOT_SATISFIED);
  if (apdu.p1 < 1 || apdu.p1 > state.keysets.length || apdu.p2 !== PUT_KEY_P2) return status(SW.INCORRECT_P1P2);
  const securing = ctx.ota ? state.keysets[ctx.ota.keysetIndex - 1] : undefined;
  if (!securing) return status(SW.SECURITY_STATUS_NOT_SATISFIED);
  const kik = otaKeyOf(securing.kik);
  const blocks: OtaKeyRecord[] = [];
  let offset = 0;
  for (let i = 0; i < 3; i++) {
    const block = readKeyBlock(apdu.data, offset, kik);
    if (!block) return status(SW.WRONG_DATA);
    blocks.push(block.record);
    offset = block.next;
  }
  if (offset !== apdu.data.length) return status(SW.WRONG_LENGTH);
  const [kic, kid, kikNew] = blocks as [OtaKeyRecord, OtaKeyRecord, OtaKeyRecord];
  const index = apdu.p1;
  ctx.memory.transaction((draft, checkpoint) => {
    const previous = draft.keysets[index - 1];
    const record: KeysetRecord = { index, kic, kid, kik: kikNew, counter: previous?.counter ?? 0 };
    draft.keysets[index - 1] = record;
    checkpoint('keyset-written');
  });
  return ok();
}
