/**
 * Process configuration from the environment (DESIGN.md section 6):
 *
 * | variable | meaning | default |
 * | --- | --- | --- |
 * | `PORT` | HTTP port on 127.0.0.1 | 3000 |
 * | `HOST` | listen address | 127.0.0.1 |
 * | `SIMCHAIN_HOME` | all local state (embedded database, key files) | `.simchain` in the working directory |
 * | `DATABASE_URL` | PostgreSQL to use instead of the embedded one | unset: embedded |
 * | `SIMCHAIN_MASTER_KEY` | master keyring for keysets at rest (see secrets/master-key.ts) | unset: generated key file |
 * | `SIMCHAIN_OPERATOR_NAME` | name of the operator tenant created on first start | operator |
 * | `SIMCHAIN_RATE_LIMIT` | requests per minute per API key (or per address without one) | 600 |
 * | `CHAIN_RPC_URL` | JSON-RPC of the EVM chain to use | unset: `simchain start` runs an embedded anvil; `serve` runs without a chain |
 * | `CHAIN_SIGNER_KEY` | hex private key of the operator's signer on that chain | required with CHAIN_RPC_URL |
 * | `CHAIN_CONFIRMATIONS` | blocks deep before a transaction or an event counts | 1 |
 * | `LOG_LEVEL` | pino level | info |
 */
import { resolve } from 'node:path';

export interface Config {
  home: string;
  host: string;
  port: number;
  databaseUrl: string | null;
  operatorName: string;
  rateLimitPerMinute: number;
  logLevel: string;
  chainRpcUrl: string | null;
  chainSignerKey: string | null;
  chainConfirmations: number;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code = 'CONFIG_INVALID';
}

function positiveInt(value: string | undefined, name: string, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined || value.trim() === '') return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0 || n > max) throw new ConfigError(`${name} must be an integer from 0 to ${max}`);
  return n;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const url = env.DATABASE_URL?.trim();
  const chainRpcUrl = env.CHAIN_RPC_URL?.trim() || null;
  const chainSignerKey = env.CHAIN_SIGNER_KEY?.trim() || null;
  if (chainRpcUrl !== null && chainSignerKey === null) throw new ConfigError('CHAIN_RPC_URL needs CHAIN_SIGNER_KEY: the operator signer that anchors batches');
  if (chainSignerKey !== null && !/^(0x)?[0-9a-fA-F]{64}$/.test(chainSignerKey)) throw new ConfigError('CHAIN_SIGNER_KEY must be a 32-byte private key in hex');
  const chainConfirmations = positiveInt(env.CHAIN_CONFIRMATIONS, 'CHAIN_CONFIRMATIONS', 1, 1000);
  if (chainConfirmations < 1) throw new ConfigError('CHAIN_CONFIRMATIONS must be at least 1');
  return {
    home: resolve(cwd, env.SIMCHAIN_HOME?.trim() || '.simchain'),
    host: env.HOST?.trim() || '127.0.0.1',
    port: positiveInt(env.PORT, 'PORT', 3000, 65535),
    databaseUrl: url ? url : null,
    operatorName: env.SIMCHAIN_OPERATOR_NAME?.trim() || 'operator',
    rateLimitPerMinute: positiveInt(env.SIMCHAIN_RATE_LIMIT, 'SIMCHAIN_RATE_LIMIT', 600),
    logLevel: env.LOG_LEVEL?.trim() || 'info',
    chainRpcUrl,
    chainSignerKey,
    chainConfirmations,
  };
}
