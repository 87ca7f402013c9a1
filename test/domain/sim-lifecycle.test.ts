/** The lifecycle table, edge by edge, and its invariants. */
import t from 'tap';
import {
  allowedActions,
  checkTransition,
  effectsOf,
  nextState,
  SIM_ACTIONS,
  SIM_STATES,
  type SimAction,
  type SimState,
} from '../../provisioning-api/index.js';

// The expected table, written out independently of the module's.
const EXPECTED: Record<SimState, Partial<Record<SimAction, SimState>>> = {
  inventory: { provision: 'provisioning', terminate: 'terminated' },
  provisioning: { activate: 'active', fail: 'failed' },
  active: { suspend: 'suspended', terminate: 'terminated' },
  suspended: { resume: 'active', terminate: 'terminated' },
  terminated: {},
  failed: { provision: 'provisioning', terminate: 'terminated' },
};

t.test('every (state, action) pair is allowed exactly as the table says', async (t) => {
  for (const state of SIM_STATES) {
    for (const action of SIM_ACTIONS) {
      t.equal(nextState(state, action), EXPECTED[state][action] ?? null, `${state} --${action}-->`);
    }
  }
});

t.test('terminated is final; every other state can reach it or leaves through provisioning', async (t) => {
  t.same(allowedActions('terminated'), []);
  for (const s of SIM_STATES.filter((x) => x !== 'terminated' && x !== 'provisioning')) t.equal(nextState(s, 'terminate'), 'terminated');
  t.equal(nextState('active', 'resume'), null);
  t.equal(nextState('suspended', 'suspend'), null);
  t.equal(nextState('inventory', 'suspend'), null);
});

t.test('a pending action blocks any other request', async (t) => {
  t.same(checkTransition('active', 'suspend', 'terminate'), { ok: false, reason: 'action-pending', state: 'active', pendingAction: 'suspend' });
  t.same(checkTransition('active', null, 'resume'), { ok: false, reason: 'illegal-transition', state: 'active', pendingAction: null });
  t.same(checkTransition('active', null, 'suspend'), { ok: true, to: 'suspended' });
});

t.test('effects: a deployed card is locked and its registry status follows; stock cards send nothing', async (t) => {
  t.same(effectsOf('active', 'suspend'), { ota: 'LOCK', chainStatus: 'suspended' });
  t.same(effectsOf('suspended', 'resume'), { ota: 'UNLOCK', chainStatus: 'active' });
  t.same(effectsOf('suspended', 'terminate'), { ota: 'TERMINATE', chainStatus: 'revoked' });
  t.same(effectsOf('inventory', 'terminate'), { ota: null, chainStatus: null });
  t.same(effectsOf('failed', 'terminate'), { ota: null, chainStatus: null });
});
