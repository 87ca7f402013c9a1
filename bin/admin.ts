/**
 * `simchain admin`: administration that needs the database, not an API key: the way back in
 * when every admin key is lost, tenants for scripted setups, and master key rotation.
 */
import { parseArgs } from 'node:util';
import {
  createApiKey,
  getOperatorTenant,
  getTenantByName,
  insertTenant,
  isApiError,
  isRole,
  rewrapDataKeys,
  startBackend,
  type Backend,
} from '../provisioning-api/index.js';
import { CliError, UsageError, writeJson } from './cli-io.js';
import { cliConfig, cliLogger, explainStartupError } from './cli-runtime.js';
import type { Subcommand } from './subcommand.js';

function args(argv: string[], options: Record<string, { type: 'string' }>) {
  try {
    return parseArgs({ args: argv, allowPositionals: true, options });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

async function withBackend<T>(fn: (backend: Backend) => Promise<T>): Promise<T> {
  const backend = await startBackend({ config: cliConfig(), log: cliLogger() }).catch(explainStartupError);
  try {
    return await fn(backend);
  } finally {
    await backend.stop();
  }
}

async function createKey(argv: string[]): Promise<number> {
  const { values, positionals } = args(argv, { tenant: { type: 'string' }, role: { type: 'string' }, name: { type: 'string' } });
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
  const role = values.role ?? 'operator-admin';
  if (!isRole(role)) throw new UsageError(`unknown role '${role}'`);
  return withBackend(async ({ pool }) => {
    const tenant = values.tenant === undefined ? await getOperatorTenant(pool) : await getTenantByName(pool, values.tenant);
    if (!tenant) throw new CliError(`no tenant named '${values.tenant}'`);
    try {
      const { key, token } = await createApiKey(pool, tenant, role, values.name ?? `${role} (simchain admin)`);
      writeJson({ id: key.id, tenantId: tenant.id, tenant: tenant.name, role: key.role, name: key.name, token });
      return 0;
    } catch (e) {
      if (isApiError(e)) throw new CliError(e.message);
      throw e;
    }
  });
}

async function createTenant(argv: string[]): Promise<number> {
  const { positionals } = args(argv, {});
  if (positionals.length !== 1) throw new UsageError('usage: simchain admin create-tenant NAME');
  return withBackend(async ({ pool }) => {
    const existing = await getTenantByName(pool, positionals[0]!);
    const tenant = existing ?? (await insertTenant(pool, positionals[0]!, 'customer'));
    writeJson({ id: tenant.id, name: tenant.name, kind: tenant.kind, created: existing === null });
    return 0;
  });
}

async function rewrapKeys(argv: string[]): Promise<number> {
  if (argv.length > 0) throw new UsageError(`unexpected argument '${argv[0]}'`);
  return withBackend(async ({ pool, services }) => {
    const rewrapped = await rewrapDataKeys(pool, services.keyring);
    writeJson({ masterKeyVersion: services.keyring.current.version, rewrapped });
    return 0;
  });
}

export const command: Subcommand = {
  name: 'admin',
  summary: 'create API keys and tenants, rotate the master key (needs database access)',
  help: `usage: simchain admin create-key [--tenant NAME] [--role ROLE] [--name LABEL]
       simchain admin create-tenant NAME
       simchain admin rewrap-keys

create-key      a new API key, printed once as JSON (default: an operator-admin key of the
                operator tenant). Roles: operator-admin, carrier-ops, auditor for the operator;
                municipal-it, emergency-services, auditor for a customer tenant.
create-tenant   a customer tenant (a city, an agency); prints it, existing or new.
rewrap-keys     after putting a new master key first in SIMCHAIN_MASTER_KEY ("2:NEW,1:OLD"),
                rewrap every data key under it; then the old key can be removed.
`,
  async run(argv) {
    const [sub, ...rest] = argv;
    switch (sub) {
      case 'create-key':
        return createKey(rest);
      case 'create-tenant':
        return createTenant(rest);
      case 'rewrap-keys':
        return rewrapKeys(rest);
      default:
        throw new UsageError(sub === undefined ? 'usage: simchain admin create-key|create-tenant|rewrap-keys' : `unknown admin command '${sub}'`);
    }
  },
};
