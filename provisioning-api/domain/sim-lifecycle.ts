/**
 * The SIM lifecycle, after the operator APIs (Twilio Super SIM, 1NCE, Hologram) and the card:
 *
 *   inventory → provisioning → active ⇄ suspended → terminated,  provisioning → failed → provisioning
 *
 * `provisioning` is the transitional state of the OTA key generation and chain binding;
 * suspend, resume and terminate are asynchronous too: accepting one records it as the SIM's
 * pending action (visible while the job carries it out), and the state changes when the job
 * applies it. One pending action at a time. Pure: the database and the jobs consult it.
 */
export const SIM_STATES = ['inventory', 'provisioning', 'active', 'suspended', 'terminated', 'failed'] as const;
export type SimState = (typeof SIM_STATES)[number];

export const SIM_ACTIONS = ['provision', 'activate', 'fail', 'suspend', 'resume', 'terminate'] as const;
export type SimAction = (typeof SIM_ACTIONS)[number];

/** Actions an API caller requests and a job applies later. */
export const REQUESTABLE_ACTIONS = ['suspend', 'resume', 'terminate'] as const;
export type RequestableAction = (typeof REQUESTABLE_ACTIONS)[number];

/** The transition table: for each state, the actions it allows and where each leads. */
export const SIM_TRANSITIONS: Readonly<Record<SimState, Readonly<Partial<Record<SimAction, SimState>>>>> = Object.freeze({
  // A card in stock: provision it, or retire it without ever using it.
  inventory: { provision: 'provisioning', terminate: 'terminated' },
  // Key generation on the card and the chain binding are under way.
  provisioning: { activate: 'active', fail: 'failed' },
  active: { suspend: 'suspended', terminate: 'terminated' },
  suspended: { resume: 'active', terminate: 'terminated' },
  // Terminal: the card is retired and its identity revoked.
  terminated: {},
  // Provisioning gave up (no PoR, bad attestation): retry it, or retire the card.
  failed: { provision: 'provisioning', terminate: 'terminated' },
});

export function isSimState(value: string): value is SimState {
  return (SIM_STATES as readonly string[]).includes(value);
}

/** The state `action` leads to from `state`, or null when the table forbids it. */
export function nextState(state: SimState, action: SimAction): SimState | null {
  return SIM_TRANSITIONS[state][action] ?? null;
}

export type TransitionCheck =
  | { ok: true; to: SimState }
  | { ok: false; reason: 'illegal-transition' | 'action-pending'; state: SimState; pendingAction: RequestableAction | null };

/**
 * Whether `action` may be requested for a SIM in `state` with `pendingAction` under way.
 * A SIM carrying a pending action accepts no other request until that one is applied.
 */
export function checkTransition(state: SimState, pendingAction: RequestableAction | null, action: SimAction): TransitionCheck {
  if (pendingAction !== null) return { ok: false, reason: 'action-pending', state, pendingAction };
  const to = nextState(state, action);
  if (to === null) return { ok: false, reason: 'illegal-transition', state, pendingAction };
  return { ok: true, to };
}

/** The actions allowed from `state`, for error bodies and documentation. */
export function allowedActions(state: SimState): SimAction[] {
  return Object.keys(SIM_TRANSITIONS[state]) as SimAction[];
}

/**
 * What leaves the database when an action is applied: the card must change (the applet
 * refuses to sign while locked, DESIGN.md 3.4) and, once a SIM is bound on chain, the
 * DeviceRegistry status must follow. A card never provisioned has neither.
 */
export interface ActionEffects {
  /** Applet instruction to send over OTA, or null. */
  ota: 'LOCK' | 'UNLOCK' | 'TERMINATE' | null;
  /** DeviceRegistry status to set on chain, or null. */
  chainStatus: 'suspended' | 'active' | 'revoked' | null;
}

export function effectsOf(from: SimState, action: RequestableAction): ActionEffects {
  const deployed = from === 'active' || from === 'suspended';
  if (!deployed) return { ota: null, chainStatus: null };
  switch (action) {
    case 'suspend':
      return { ota: 'LOCK', chainStatus: 'suspended' };
    case 'resume':
      return { ota: 'UNLOCK', chainStatus: 'active' };
    case 'terminate':
      return { ota: 'TERMINATE', chainStatus: 'revoked' };
  }
}

/** The applet's lifecycle once the card took each instruction (sim-applet/applet/lifecycle.ts). */
export const CARD_LIFECYCLE_AFTER = Object.freeze({ LOCK: 'locked', UNLOCK: 'operational', TERMINATE: 'terminated' } as const);
export type CardLifecycleTarget = (typeof CARD_LIFECYCLE_AFTER)[keyof typeof CARD_LIFECYCLE_AFTER];

/**
 * What puts a side back where it was when the other side of an action failed: the inverse
 * instruction for the card, the previous status for the registry. Null for terminate and for
 * a SIM that was never deployed: TERMINATE on the card and revocation on chain are both final.
 */
export function compensationOf(from: SimState, action: RequestableAction): ActionEffects | null {
  if (effectsOf(from, action).ota === null) return null;
  switch (action) {
    case 'suspend':
      return { ota: 'UNLOCK', chainStatus: 'active' };
    case 'resume':
      return { ota: 'LOCK', chainStatus: 'suspended' };
    case 'terminate':
      return null;
  }
}
