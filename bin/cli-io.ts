/**
 * What every subcommand shares: reading stdin, writing JSON, and turning any failure into
 * one line on stderr and a non-zero exit, never a stack trace (DESIGN.md section 6).
 */
import { isProtocolError } from '../sim-applet/errors.js';

/** A failure the user can act on: printed as is, exit code 1 (2 for usage). */
export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

export class UsageError extends CliError {
  constructor(message: string) {
    super(message, 2);
  }
}

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Parse stdin as one JSON object. */
export async function readJsonObject(what: string): Promise<Record<string, unknown>> {
  const text = (await readStdin()).trim();
  if (text === '') throw new CliError(`expected ${what} as one JSON object on stdin, got nothing`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new CliError(`stdin is not valid JSON: ${(e as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new CliError(`expected ${what} as one JSON object on stdin`);
  }
  return value as Record<string, unknown>;
}

export function writeJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value) + '\n');
}

/** One line describing any error, for stderr. */
export function describeError(e: unknown): string {
  if (e instanceof CliError) return e.message;
  if (isProtocolError(e)) {
    const field = typeof e.details.field === 'string' ? `${e.details.field}: ` : '';
    return `${field}${e.shortMessage} [${e.code}]`;
  }
  const code = e instanceof Error ? (e as Error & { code?: unknown }).code : undefined;
  if (e instanceof Error && typeof code === 'string') return `${e.message} [${code}]`;
  return e instanceof Error ? e.message : String(e);
}

export function exitCodeOf(e: unknown): number {
  return e instanceof CliError ? e.exitCode : 1;
}
