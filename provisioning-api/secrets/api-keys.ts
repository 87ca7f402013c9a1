/**
 * API key tokens: `sck_<prefix>_<secret>`, where the prefix (12 hex digits) finds the row and
 * the secret is 256 random bits. Only the SHA-256 of the whole token is stored; the token
 * is shown once, when the key is created.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const TOKEN = /^sck_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

export interface NewApiKey {
  token: string;
  prefix: string;
  sha256: Buffer;
}

export function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

export function generateApiKey(): NewApiKey {
  const prefix = randomBytes(6).toString('hex');
  const token = `sck_${prefix}_${randomBytes(32).toString('base64url')}`;
  return { token, prefix, sha256: sha256(token) };
}

/** The prefix and hash of a presented token, or null when it is not one of ours. */
export function parseApiKey(token: string): { prefix: string; sha256: Buffer } | null {
  const m = TOKEN.exec(token);
  if (!m) return null;
  return { prefix: m[1]!, sha256: sha256(token) };
}

export function hashesEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
