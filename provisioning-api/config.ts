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
 * | `SMPP_URL` | the operator's SMSC: `smpp://SYSTEM_ID:PASSWORD@HOST:PORT` (`smpps://` for TLS) | unset: `simchain start` runs the SMSC simulator; `serve` sends no OTA |
 * | `SMPP_SOURCE_ADDR` | originating address (international) of the operator's OTA SMS | 4912345 |
 * | `SMPP_BINDS` | transceiver binds opened at once | 1 |
 * | `SMPP_WINDOW` | submit_sm outstanding per bind | 100 |
 * | `OTA_POR_TIMEOUT` | seconds an OTA command waits for its PoR before it expires (and is retried) | 120 |
 * | `OTA_RETRY_BASE` | seconds before the first resend of a provisioning command without PoR (then ×4 each time) | 5 |
 * | `OTA_MAX_ATTEMPTS` | sends of a provisioning command before the SIM is reported failed | 4 |
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
  smpp: SmppSettings | null;
  smppSourceAddr: string;
  smppBinds: number;
  smppWindow: number;
  otaPorTimeoutSeconds: number;
  otaRetryBaseSeconds: number;
  otaMaxAttempts: number;
}

/** Where the operator's SMSC is and how to bind to it. */
export interface SmppSettings {
  host: string;
  port: number;
  systemId: string;
  password: string;
  tls: boolean;
}

/** `smpp://SYSTEM_ID:PASSWORD@HOST:PORT`, or `smpps://` for SMPP over TLS. */
export function parseSmppUrl(value: string): SmppSettings {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError('SMPP_URL must look like smpp://SYSTEM_ID:PASSWORD@HOST:PORT');
  }
  if (url.protocol !== 'smpp:' && url.protocol !== 'smpps:') throw new ConfigError('SMPP_URL must start with smpp:// or smpps://');
  if (!url.username || !url.hostname) throw new ConfigError('SMPP_URL needs a system id and a host: smpp://SYSTEM_ID:PASSWORD@HOST:PORT');
  const port = url.port === '' ? 2775 : Number(url.port);
  return {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port,
    systemId: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    tls: url.protocol === 'smpps:',
  };
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
  const smppUrl = env.SMPP_URL?.trim() || null;
  const smppSourceAddr = env.SMPP_SOURCE_ADDR?.trim() || '4912345';
  if (!/^\d{1,20}$/.test(smppSourceAddr)) throw new ConfigError('SMPP_SOURCE_ADDR must be 1 to 20 digits (an international number without +)');
  const smppBinds = positiveInt(env.SMPP_BINDS, 'SMPP_BINDS', 1, 64);
  const smppWindow = positiveInt(env.SMPP_WINDOW, 'SMPP_WINDOW', 100, 10_000);
  const otaPorTimeoutSeconds = positiveInt(env.OTA_POR_TIMEOUT, 'OTA_POR_TIMEOUT', 120, 7 * 86_400);
  const otaRetryBaseSeconds = positiveInt(env.OTA_RETRY_BASE, 'OTA_RETRY_BASE', 5, 3600);
  const otaMaxAttempts = positiveInt(env.OTA_MAX_ATTEMPTS, 'OTA_MAX_ATTEMPTS', 4, 20);
  if (otaMaxAttempts < 1) throw new ConfigError('OTA_MAX_ATTEMPTS must be at least 1');
  if (smppBinds < 1 || smppWindow < 1 || otaPorTimeoutSeconds < 1) throw new ConfigError('SMPP_BINDS, SMPP_WINDOW and OTA_POR_TIMEOUT must be at least 1');
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
    smpp: smppUrl === null ? null : parseSmppUrl(smppUrl),
    smppSourceAddr,
    smppBinds,
    smppWindow,
    otaPorTimeoutSeconds,
    otaRetryBaseSeconds,
    otaMaxAttempts,
  };
}
