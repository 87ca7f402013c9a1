/**
 * The simchain applet's entry point: one `process` that checks class, instruction,
 * security and lifecycle in that order, then dispatches on INS to one handler each, as
 * status-keycard's KeycardApplet.process() does. Handlers write persistent memory only
 * inside transactions, so every instruction completes or leaves memory as it was.
 */
import type { CommandApdu, ResponseApdu } from '../protocol/apdu.js';
import { SW } from '../protocol/status-words.js';
import type { AppletContext } from './context.js';
import { status } from './response.js';
import { ADMIN_INS, CLA_PROPRIETARY, INS, INS_CASE } from './constants.js';
import { getData, getStatus } from './status.js';
import { generateKeyPair, readPublicKey } from './keys.js';
import { sign } from './signing.js';
import { putKey } from './put-key.js';
import { storeData } from './store-data.js';
import { changeLifecycle } from './lifecycle.js';

export function processApplet(apdu: CommandApdu, ctx: AppletContext): ResponseApdu {
  // ISO 7816-4 §5.4.1: b8 set = proprietary class; b1-b2 = logical channel, only the basic one here.
  if (apdu.cla !== CLA_PROPRIETARY) return status(SW.CLA_NOT_SUPPORTED);
  const kind = INS_CASE[apdu.ins];
  if (kind === undefined) return status(SW.INS_NOT_SUPPORTED);
  if (ADMIN_INS.has(apdu.ins) && !ctx.ota) return status(SW.SECURITY_STATUS_NOT_SATISFIED);
  const state = ctx.memory.state;
  if (state.lifecycle === 'terminated' && apdu.ins !== INS.GET_STATUS) return status(SW.CONDITIONS_NOT_SATISFIED);
  if ((kind === 1 || kind === 2) && apdu.data.length > 0) return status(SW.WRONG_LENGTH);

  switch (apdu.ins) {
    case INS.GET_STATUS:
      return getStatus(apdu, state);
    case INS.GET_DATA:
      return getData(apdu, state);
    case INS.READ_PUBLIC_KEY:
      return readPublicKey(apdu, state);
    case INS.GENERATE_KEY_PAIR:
      return generateKeyPair(apdu, ctx);
    case INS.SIGN_READING:
      return sign('reading', apdu, ctx);
    case INS.SIGN_ACCESS_REQUEST:
      return sign('accessRequest', apdu, ctx);
    case INS.SIGN_UNLOCK:
      return sign('unlock', apdu, ctx);
    case INS.PUT_KEY:
      return putKey(apdu, ctx);
    case INS.STORE_DATA:
      return storeData(apdu, ctx);
    case INS.LOCK:
    case INS.UNLOCK:
    case INS.TERMINATE:
      return changeLifecycle(apdu, ctx);
    default:
      return status(SW.INS_NOT_SUPPORTED);
  }
}
