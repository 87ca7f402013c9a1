import t from 'tap';
import {
  API_ERRORS,
  ApiError,
  canAccessTenant,
  canMoveOutbox,
  isFinalOutboxState,
  openOutboxStates,
  roleFitsTenant,
  ROLES,
  type Principal,
} from '../../provisioning-api/index.js';

t.test('roles fit tenant kinds', async (t) => {
  t.ok(roleFitsTenant('operator-admin', 'operator'));
  t.notOk(roleFitsTenant('operator-admin', 'customer'));
  t.notOk(roleFitsTenant('municipal-it', 'operator'));
  t.ok(roleFitsTenant('auditor', 'customer'));
  t.ok(roleFitsTenant('auditor', 'operator'));
  t.equal(ROLES.length, 5);
});

t.test('tenant scope: the operator sees all, a customer only itself', async (t) => {
  const city: Principal = { keyId: 'k', tenantId: 'a', tenantKind: 'customer', role: 'municipal-it' };
  const op: Principal = { keyId: 'k', tenantId: 'o', tenantKind: 'operator', role: 'auditor' };
  t.ok(canAccessTenant(city, 'a'));
  t.notOk(canAccessTenant(city, 'b'));
  t.ok(canAccessTenant(op, 'b'));
});

t.test('outbox state machines', async (t) => {
  t.ok(canMoveOutbox('ota.command', 'queued', 'submitted'));
  t.ok(canMoveOutbox('ota.command', 'delivered', 'por-received'));
  t.ok(canMoveOutbox('ota.command', 'submitted', 'expired'));
  t.notOk(canMoveOutbox('ota.command', 'queued', 'por-received'), 'no PoR before submission');
  t.notOk(canMoveOutbox('ota.command', 'por-received', 'failed'), 'final states stay');
  t.ok(canMoveOutbox('chain.tx', 'planned', 'sent'));
  t.ok(canMoveOutbox('chain.tx', 'mined', 'confirmed'));
  t.ok(canMoveOutbox('chain.tx', 'sent', 'replaced'));
  t.notOk(canMoveOutbox('chain.tx', 'planned', 'mined'));
  t.notOk(canMoveOutbox('chain.tx', 'sent', 'submitted'), 'states of another kind');
  t.same(openOutboxStates('chain.tx'), ['planned', 'sent', 'mined']);
  t.same(openOutboxStates('ota.command'), ['queued', 'submitted', 'delivered']);
  t.ok(isFinalOutboxState('ota.command', 'expired'));
});

t.test('error registry: stable codes with 4xx/5xx statuses', async (t) => {
  for (const [code, { status }] of Object.entries(API_ERRORS)) t.ok(status >= 400 && status < 600, code);
  const e = new ApiError('ILLEGAL_TRANSITION', 'no', { state: 'active' });
  t.equal(e.status, 409);
  t.equal(e.code, 'ILLEGAL_TRANSITION');
  t.same(e.extensions, { state: 'active' });
});
