/** Argument checks the TPDU codecs share. */
import { fail } from '../../errors.js';

export function checkByte(value: number, field: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xff) fail('INVALID_ARGUMENT', `${field} must be a byte (0..255)`, { field, value });
}

export function checkTpdu(tpdu: unknown): asserts tpdu is Uint8Array {
  if (!(tpdu instanceof Uint8Array)) fail('INVALID_ARGUMENT', 'TPDU must be a Uint8Array', { field: 'tpdu' });
  if (tpdu.length === 0) fail('TRUNCATED', 'empty TPDU', { field: 'tpdu' });
}
