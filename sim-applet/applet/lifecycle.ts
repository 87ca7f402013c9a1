/** LOCK, UNLOCK and TERMINATE: the operator's switches over the applet's lifecycle. */
import type { CommandApdu, ResponseApdu } from '../protocol/apdu.js';
import { SW } from '../protocol/status-words.js';
import type { Lifecycle } from '../card/state.js';
import type { AppletContext } from './context.js';
import { ok, status } from './response.js';
import { INS } from './constants.js';

/** From which state each instruction moves to which. Anything else: 6985. */
const TRANSITIONS: Record<number, { from: readonly Lifecycle[]; to: Lifecycle }> = {
  [INS.LOCK]: { from: ['operational'], to: 'locked' },
  [INS.UNLOCK]: { from: ['locked'], to: 'operational' },
  [INS.TERMINATE]: { from: ['personalised', 'operational', 'locked'], to: 'terminated' },
};

export function changeLifecycle(apdu: CommandApdu, ctx: AppletContext): ResponseApdu {
  const t = TRANSITIONS[apdu.ins]!;
  if (apdu.p1 !== 0 || apdu.p2 !== 0) return status(SW.INCORRECT_P1P2);
  if (apdu.data.length !== 0) return status(SW.WRONG_LENGTH);
  if (!t.from.includes(ctx.memory.state.lifecycle)) return status(SW.CONDITIONS_NOT_SATISFIED);
  ctx.memory.transaction((draft, checkpoint) => {
    draft.lifecycle = t.to;
    checkpoint('lifecycle-written');
  });
  return ok();
}
