/**
 * The master keyring: the AES-256 keys that wrap the data keys (envelope encryption).
 *
 * `SIMCHAIN_MASTER_KEY` holds one key (64 hex digits or base64 of 32 bytes; version 1) or
 * a comma-separated list `VERSION:KEY,...` whose first entry is the current key and the
 * rest older ones still able to unwrap. Rotation: put the new key first, run
 * `simchain admin rewrap-keys`, then drop the old one. Without the variable (the embedded
 * defaults) a generated key is kept in `$SIMCHAIN_HOME/master.key` (mode 0600), with a warning:
 * a key on the same disk as the database protects backups, not the machine.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface MasterKey {
  version: number;
  key: Buffer;
}

export class MasterKeyring {
  private readonly keys: Map<number, Buffer>;

  constructor(readonly current: MasterKey, older: MasterKey[] = []) {
    this.keys = new Map([[current.version, current.key]]);
    for (const k of older) {
      if (this.keys.has(k.version)) throw new MasterKeyError(`master key version ${k.version} appears twice`);
      this.keys.set(k.version, k.key);
    }
  }

  get(version: number): Buffer {
    const key = this.keys.get(version);
    if (!key) throw new MasterKeyError(`master key version ${version} is not in SIMCHAIN_MASTER_KEY`);
    return key;
  }

  get versions(): number[] {
    return [...this.keys.keys()];
  }
}

export class MasterKeyError extends Error {
  override readonly name = 'MasterKeyError';
  readonly code = 'MASTER_KEY_INVALID';
}

function decodeKey(text: string): Buffer {
  const t = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64');
  if (key.length !== 32) throw new MasterKeyError('a master key must be 32 bytes (64 hex digits or base64)');
  return key;
}

/** Parse the `SIMCHAIN_MASTER_KEY` syntax. */
export function parseMasterKeyring(text: string): MasterKeyring {
  const entries = text.split(',').map((e) => e.trim()).filter((e) => e !== '');
  if (entries.length === 0) throw new MasterKeyError('SIMCHAIN_MASTER_KEY is empty');
  const keys = entries.map((entry): MasterKey => {
    const m = /^(\d+):(.+)$/.exec(entry);
    if (!m) {
      if (entries.length > 1) throw new MasterKeyError('with several master keys, each needs its version: VERSION:KEY');
      return { version: 1, key: decodeKey(entry) };
    }
    const version = Number(m[1]);
    if (!Number.isSafeInteger(version) || version < 1) throw new MasterKeyError('a master key version is a positive integer');
    return { version, key: decodeKey(m[2]!) };
  });
  return new MasterKeyring(keys[0]!, keys.slice(1));
}

export function formatMasterKeyring(keys: MasterKey[]): string {
  return keys.map((k) => `${k.version}:${k.key.toString('base64')}`).join(',');
}

export interface LoadedKeyring {
  keyring: MasterKeyring;
  /** Where it came from: the environment, or the generated file. */
  source: 'env' | 'file';
  /** Set when a new key file was written. */
  generated: boolean;
  file?: string;
}

/** The keyring from the environment, or from (or into) the key file under `home`. */
export function loadMasterKeyring(env: NodeJS.ProcessEnv, home: string): LoadedKeyring {
  const fromEnv = env.SIMCHAIN_MASTER_KEY;
  if (fromEnv !== undefined && fromEnv.trim() !== '') return { keyring: parseMasterKeyring(fromEnv), source: 'env', generated: false };
  const file = join(home, 'master.key');
  if (existsSync(file)) return { keyring: parseMasterKeyring(readFileSync(file, 'utf8')), source: 'file', generated: false, file };
  mkdirSync(home, { recursive: true });
  writeFileSync(file, formatMasterKeyring([{ version: 1, key: randomBytes(32) }]) + '\n', { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return { keyring: parseMasterKeyring(readFileSync(file, 'utf8')), source: 'file', generated: true, file };
}
