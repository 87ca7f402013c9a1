/**
 * Lifecycle actions carried out on the card and on the chain: the executor (begin, checks,
 * compensation), the pure judgement of each side's outcome, and the effects' rows.
 */
export { beginEffects, LIFECYCLE_DEADLINE_SECONDS, LifecycleEffectsError, runLifecycleCheck, startLifecycleEffects } from './executor.js';
export type { LifecycleCheck } from './executor.js';
export { checkDelaySeconds, deviceStatusOf, judgeCard, judgeChain, OTA_PURPOSES, resendDelaySeconds } from './outcome.js';
export type { CardVerdict, ChainVerdict, ObservedOtaMessage, OtaPurpose } from './outcome.js';
export { clearPendingAction, deviceOf, effectsQueries, getEffects } from './effects-store.js';
export type { LifecycleEffects } from './effects-store.js';
