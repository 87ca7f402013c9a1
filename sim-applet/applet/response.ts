/** Building blocks for instruction handlers: an R-APDU as data + status word. */
import type { ResponseApdu } from '../protocol/apdu.js';
import { SW } from '../protocol/status-words.js';

export { encodeBerTlv as tlv } from '../protocol/tlv.js';

const EMPTY = new Uint8Array(0);

export function ok(data: Uint8Array = EMPTY): ResponseApdu {
  return { data, sw: SW.OK };
}

export function status(sw: number): ResponseApdu {
  return { data: EMPTY, sw };
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  return Buffer.concat(parts);
}
