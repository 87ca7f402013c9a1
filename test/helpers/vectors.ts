/**
 * The shared test vectors (../shared/vectors/ota-vectors.json), read at run time, never
 * pasted into tests. A fresh clone may live anywhere, so the file is looked for beside the
 * checkout and its parents; SIMCHAIN_VECTORS names it explicitly. Missing vectors fail
 * the test run: they are never a reason to skip.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function vectorsPath(name = 'ota-vectors.json'): string {
  const fromEnv = process.env.SIMCHAIN_VECTORS;
  if (fromEnv) return name === 'ota-vectors.json' && fromEnv.endsWith('.json') ? fromEnv : join(fromEnv, name);
  let dir = REPO_ROOT;
  for (let i = 0; i < 4; i++) {
    const candidate = join(dir, '..', 'shared', 'vectors', name);
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  const fixed = join('/work/shared/vectors', name);
  if (existsSync(fixed)) return fixed;
  throw new Error(`test vectors ${name} not found beside ${REPO_ROOT}; set SIMCHAIN_VECTORS`);
}

export interface Vector {
  id: string;
  kind: string;
  description?: string;
  [field: string]: unknown;
}

let cache: Vector[] | undefined;

export function allVectors(): Vector[] {
  cache ??= (JSON.parse(readFileSync(vectorsPath(), 'utf8')) as { vectors: Vector[] }).vectors;
  return cache;
}

export function vectorsOfKind(kind: string): Vector[] {
  const found = allVectors().filter((v) => v.kind === kind);
  if (found.length === 0) throw new Error(`no vectors of kind ${kind}`);
  return found;
}

export function vectorById(id: string): Vector {
  const v = allVectors().find((x) => x.id === id);
  if (!v) throw new Error(`no vector ${id}`);
  return v;
}
