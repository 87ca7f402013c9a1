/**
 * OTA key algorithms and their key lengths, named as everywhere in simchain.
 * TS 102 225 §5.1.2/§5.1.3 (KIc/KID coding): DES, 2-key triple DES, 3-key triple DES, AES.
 */
export const KEY_ALGORITHMS = ['des', '3des2', '3des3', 'aes'] as const;
export type KeyAlgorithm = (typeof KEY_ALGORITHMS)[number];

/** Key lengths in bytes each algorithm accepts (AES: FIPS 197 key sizes). */
export const KEY_LENGTHS: Readonly<Record<KeyAlgorithm, readonly number[]>> = Object.freeze({
  des: [8],
  '3des2': [16],
  '3des3': [24],
  aes: [16, 24, 32],
});

export function isKeyAlgorithm(value: string): value is KeyAlgorithm {
  return (KEY_ALGORITHMS as readonly string[]).includes(value);
}

/** Whether a key of `byteLength` bytes fits `algorithm`. */
export function keyLengthFits(algorithm: KeyAlgorithm, byteLength: number): boolean {
  return KEY_LENGTHS[algorithm].includes(byteLength);
}
