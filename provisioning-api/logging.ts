/**
 * The process logger: pino (fastify's own), JSON lines, with every path that may carry a
 * secret redacted: API key tokens, the Authorization header, OTA keys, the master key.
 */
import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger };

export const REDACTED_LOG_PATHS = [
  'req.headers.authorization',
  'headers.authorization',
  'authorization',
  'token',
  '*.token',
  'adminToken',
  'keysets',
  '*.keysets',
  'kic',
  'kid',
  'kik',
  '*.kic',
  '*.kid',
  '*.kik',
  'masterKey',
  '*.masterKey',
  'password',
  '*.password',
];

/** A logger to `stream`, or to stdout; `stderr: true` keeps stdout free for a command's output. */
export function createLogger(options: { level?: string; stream?: DestinationStream; stderr?: boolean } = {}): Logger {
  const config = { level: options.level ?? 'info', redact: { paths: REDACTED_LOG_PATHS, censor: '[redacted]' } };
  if (options.stream) return pino(config, options.stream);
  return options.stderr ? pino(config, pino.destination(2)) : pino(config);
}
