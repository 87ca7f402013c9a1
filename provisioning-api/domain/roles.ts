/**
 * Tenants, roles and what each role may do. A tenant is the operator itself or one of its
 * customers (a city). Every API key belongs to one tenant and carries one role; every route
 * names the roles it admits. The operator's keys act on every tenant's resources (the
 * operator owns the inventory); a customer's keys see only their own tenant's.
 */
export const TENANT_KINDS = ['operator', 'customer'] as const;
export type TenantKind = (typeof TENANT_KINDS)[number];

export const ROLES = ['operator-admin', 'carrier-ops', 'municipal-it', 'emergency-services', 'auditor'] as const;
export type Role = (typeof ROLES)[number];

/** Which roles a key of each tenant kind may have. `auditor` is read-only on either side. */
export const ROLES_BY_TENANT_KIND: Readonly<Record<TenantKind, readonly Role[]>> = Object.freeze({
  operator: ['operator-admin', 'carrier-ops', 'auditor'],
  customer: ['municipal-it', 'emergency-services', 'auditor'],
});

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

export function roleFitsTenant(role: Role, kind: TenantKind): boolean {
  return ROLES_BY_TENANT_KIND[kind].includes(role);
}

/** The caller behind an API key. */
export interface Principal {
  keyId: string;
  tenantId: string;
  tenantKind: TenantKind;
  role: Role;
}

/** Whether the caller may see or act on a resource owned by `ownerTenantId`. */
export function canAccessTenant(principal: Principal, ownerTenantId: string): boolean {
  return principal.tenantKind === 'operator' || principal.tenantId === ownerTenantId;
}

/** Role groups used by the route table. */
export const ANY_ROLE: readonly Role[] = ROLES;
export const OPERATOR_STAFF: readonly Role[] = ['operator-admin', 'carrier-ops'];
export const OPERATOR_READERS: readonly Role[] = ['operator-admin', 'carrier-ops', 'auditor'];
/** Who may suspend or resume a SIM: the operator's staff, and a customer on its own SIMs. */
export const SIM_OPERATORS: readonly Role[] = ['operator-admin', 'carrier-ops', 'municipal-it', 'emergency-services'];
