/** Checks of caller-supplied fields shared by the encoders and the coding-byte helpers. */
import { fail } from '../../errors.js';
import { isOtaKey, type OtaKey } from './keys.js';

/** A KIc or KID coding byte. */
export function checkCodingByte(value: unknown, field: 'kic' | 'kid'): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0xff) {
    fail('INVALID_ARGUMENT', `${field} must be a byte (0..255)`, { field, value });
  }
}

export function checkBytes(value: unknown, field: string): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) fail('INVALID_ARGUMENT', `${field} must be bytes`, { field });
}

/** TS 102 225 §5.1.1: the TAR is 3 bytes. */
export function checkTar(tar: unknown): asserts tar is Uint8Array {
  checkBytes(tar, 'tar');
  if (tar.length !== 3) fail('INVALID_ARGUMENT', 'tar must be 3 bytes', { field: 'tar', length: tar.length });
}

/** The key a security setting needs: required when `needed`, and then an OtaKey. */
export function requireKey(key: OtaKey | undefined, needed: boolean, field: 'kicKey' | 'kidKey', why: string): OtaKey | undefined {
  if (!needed) return undefined;
  if (key === undefined) fail('INVALID_ARGUMENT', `${field} is needed: ${why}`, { field });
  if (!isOtaKey(key)) fail('INVALID_ARGUMENT', `${field} must be an OtaKey made by createOtaKey`, { field });
  return key;
}
