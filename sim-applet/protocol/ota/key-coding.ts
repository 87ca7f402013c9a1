/**
 * The KIc and KID coding bytes of a command header: key index in the high nibble, algorithm
 * in the low nibble (TS 102 225 §5.1.2 for KIc, §5.1.3.1 for KID used as a CC key).
 */
import { fail } from '../../errors.js';
import { checkCodingByte } from './fields.js';
import { createOtaKey, type OtaAlgorithm, type OtaKey } from './keys.js';

/** Which header byte: KIc (ciphering key) or KID (cryptographic checksum key). */
export type KeyRole = 'kic' | 'kid';

/** 'implicit': algorithm known to both ends from the keyset (nibble 0). */
export type CodedAlgorithm = OtaAlgorithm | 'implicit';

export interface KeyCoding {
  /** Key index, 0..15. */
  index: number;
  algorithm: CodedAlgorithm;
}

/*
 * Low nibble, b2b1 = family (00 implicit, 01 DES, 10 AES, 11 proprietary) and b4b3 = mode.
 * DES family b4b3: 00 DES-CBC, 01 3DES 2 keys, 10 3DES 3 keys; 11 is DES-ECB for KIc and
 * reserved for KID. AES b4b3: 00 AES-CBC (KIc) / AES-CMAC (KID), others reserved.
 */
const NIBBLE_TO_ALGORITHM: Readonly<Record<number, CodedAlgorithm>> = {
  0x0: 'implicit',
  0x1: 'des',
  0x5: '3des2',
  0x9: '3des3',
  0x2: 'aes',
};

const ALGORITHM_TO_NIBBLE: Readonly<Record<string, number | undefined>> = {
  implicit: 0x0,
  des: 0x1,
  '3des2': 0x5,
  '3des3': 0x9,
  aes: 0x2,
};

/** TS 102 225 §5.1.2: KIc 0bxx11 with b2b1 = 01 is DES in ECB mode; known, but not offered. */
const KIC_DES_ECB = 0xd;

/**
 * Decode a KIc or KID byte. An algorithm nibble this layer does not know raises
 * UNKNOWN_ALGORITHM; KIc DES-ECB raises UNSUPPORTED. Both carry `details.field` = role.
 */
export function decodeKeyCoding(byte: number, role: KeyRole): KeyCoding {
  checkCodingByte(byte, role);
  const nibble = byte & 0x0f;
  const algorithm = NIBBLE_TO_ALGORITHM[nibble];
  if (algorithm === undefined) {
    if (role === 'kic' && nibble === KIC_DES_ECB) {
      fail('UNSUPPORTED', 'KIc algorithm DES-ECB is not supported', { field: role, value: byte, nibble });
    }
    fail('UNKNOWN_ALGORITHM', `unknown ${role === 'kic' ? 'KIc' : 'KID'} algorithm nibble ${nibble.toString(16)}`, {
      field: role,
      value: byte,
      nibble,
    });
  }
  return { index: byte >>> 4, algorithm };
}

export function encodeKeyCoding(coding: KeyCoding, role: KeyRole = 'kic'): number {
  if (typeof coding !== 'object' || coding === null) fail('INVALID_ARGUMENT', `${role} coding must be { index, algorithm }`, { field: role });
  const { index, algorithm } = coding;
  if (!Number.isInteger(index) || index < 0 || index > 15) {
    fail('INVALID_ARGUMENT', 'key index must be 0..15', { field: role, index });
  }
  const nibble = ALGORITHM_TO_NIBBLE[algorithm];
  if (nibble === undefined) {
    fail('UNKNOWN_ALGORITHM', `unknown ${role} algorithm`, { field: role, algorithm });
  }
  return (index << 4) | nibble;
}

/**
 * The algorithm a coding byte selects for `key`: the key's own when the nibble is implicit,
 * else the nibble's, which must then be the key's (INVALID_ARGUMENT otherwise). Coding
 * errors as in decodeKeyCoding.
 */
export function algorithmFor(byte: number, role: KeyRole, key: OtaKey): OtaAlgorithm {
  const { algorithm } = decodeKeyCoding(byte, role);
  if (algorithm !== 'implicit' && algorithm !== key.algorithm) {
    fail('INVALID_ARGUMENT', `${role} names ${algorithm} but the ${role} key is ${key.algorithm}`, {
      field: `${role}Key`,
      coded: algorithm,
      key: key.algorithm,
    });
  }
  return key.algorithm;
}

/**
 * Make the key a coding byte describes, as a CLI or an inventory row has it (coding byte
 * plus key bytes). Nibble 0 (implicit) needs `implicitAlgorithm`, the keyset's algorithm;
 * without it INVALID_ARGUMENT.
 */
export function otaKeyForCoding(byte: number, role: KeyRole, bytes: Uint8Array, implicitAlgorithm?: OtaAlgorithm): OtaKey {
  const { algorithm } = decodeKeyCoding(byte, role);
  if (algorithm === 'implicit') {
    if (implicitAlgorithm === undefined) {
      fail('INVALID_ARGUMENT', `${role} names its algorithm implicitly; the keyset's algorithm must be given`, {
        field: role,
        value: byte,
      });
    }
    return createOtaKey(implicitAlgorithm, bytes);
  }
  return createOtaKey(algorithm, bytes);
}
