/**
 * Batch Merkle tree of 2,000,000 leaves: time to hash the leaves as they stream in and to build
 * the tree, and the peak RSS of the process that does it (measured in a child process, so
 * nothing else counts). Baselines in the same run: the bare keccak rate (the tree needs about
 * 3 hashes per leaf, so 3n / rate is the floor), and @openzeppelin/merkle-tree on a batch it
 * can manage, against this tree on the same batch.
 *
 * Inputs are generated per leaf into small reused buffers, as rows stream from the database:
 * the measured memory is the tree's, not a test array's.
 *
 * Run alone: node --import tsx bench/merkle-tree.ts
 */
import { spawn } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { createKeccak } from 'hash-wasm';
import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { MerkleTreeBuilder } from '../provisioning-api/domain/merkle.js';
import type { Benchmark } from './index.js';
import { fmtRate, measureRate, median } from './measure.js';

const LEAVES = 2_000_000;
const ROUNDS = 3;
const OZ_LEAVES = 50_000;

interface ChildResult {
  leavesMs: number[];
  buildMs: number[];
  root: string;
  maxRssMb: number;
}

/**
 * Deterministic (device, commitment) pairs, one at a time into the same two buffers, from a
 * xorshift generator: a few nanoseconds per pair, so the timing is the tree's.
 */
function* pairs(n: number, seed: number): Generator<[Uint8Array, Uint8Array]> {
  const words = new Uint32Array(13);
  const bytes = new Uint8Array(words.buffer);
  const device = bytes.subarray(0, 20);
  const commitment = bytes.subarray(20, 52);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    for (let w = 0; w < 13; w++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      words[w] = x >>> 0;
    }
    yield [device, commitment];
  }
}

async function ours(n: number): Promise<{ leavesMs: number; buildMs: number; root: string }> {
  const t0 = performance.now();
  const b = await MerkleTreeBuilder.create(n);
  for (const [d, c] of pairs(n, 0x5eed)) b.add(d, c);
  const t1 = performance.now();
  const tree = b.build();
  const t2 = performance.now();
  return { leavesMs: t1 - t0, buildMs: t2 - t1, root: tree.rootHex };
}

/** The child: build the tree ROUNDS times, report times and the process's peak RSS. */
async function child(kind: string, n: number): Promise<void> {
  if (kind === 'oz') {
    const values: [string, string][] = [];
    for (const [d, c] of pairs(n, 0x5eed)) values.push([`0x${Buffer.from(d).toString('hex')}`, `0x${Buffer.from(c).toString('hex')}`]);
    const t0 = performance.now();
    const tree = StandardMerkleTree.of(values, ['address', 'bytes32']);
    const ms = performance.now() - t0;
    const out: ChildResult = { leavesMs: [0], buildMs: [ms], root: tree.root, maxRssMb: process.resourceUsage().maxRSS / 1024 };
    process.stdout.write(JSON.stringify(out));
    return;
  }
  const out: ChildResult = { leavesMs: [], buildMs: [], root: '', maxRssMb: 0 };
  for (let r = 0; r < ROUNDS; r++) {
    const res = await ours(n);
    out.leavesMs.push(res.leavesMs);
    out.buildMs.push(res.buildMs);
    out.root = res.root;
  }
  out.maxRssMb = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(JSON.stringify(out));
}

function inChild(kind: string, n: number): Promise<ChildResult> {
  const self = fileURLToPath(import.meta.url);
  return new Promise((resolvePromise, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', self, '--child', kind, String(n)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    p.stdout.on('data', (d: Buffer) => (text += d.toString()));
    p.on('exit', (code) => (code === 0 ? resolvePromise(JSON.parse(text) as ChildResult) : reject(new Error(`child exited ${code}`))));
  });
}

async function run(): Promise<void> {
  const h = await createKeccak(256);
  const input = new Uint8Array(64);
  const rate = measureRate(() => {
    h.init();
    h.update(input);
    h.digest('binary');
  }, { batch: 1000 });
  const floorS = (3 * LEAVES) / rate.median;
  console.log(`  baseline: hash-wasm keccak256 of 64 bytes, reused hasher: ${fmtRate(rate.median)}`);
  console.log(`  floor for ${LEAVES.toLocaleString('en-US')} leaves (~3 hashes per leaf): ${floorS.toFixed(1)} s`);

  const big = await inChild('ours', LEAVES);
  const leaves = median(big.leavesMs) / 1000;
  const build = median(big.buildMs) / 1000;
  const total = median(big.leavesMs.map((l, i) => l + big.buildMs[i]!)) / 1000;
  console.log(`  ${LEAVES.toLocaleString('en-US')} leaves, median of ${ROUNDS}: leaf hashing ${leaves.toFixed(1)} s + tree ${build.toFixed(1)} s = ${total.toFixed(1)} s` +
    ` (${(total / floorS).toFixed(2)}x the bare-hash floor); peak RSS ${big.maxRssMb.toFixed(0)} MB`);

  const small = await inChild('ours', OZ_LEAVES);
  const oz = await inChild('oz', OZ_LEAVES);
  const smallS = median(small.leavesMs.map((l, i) => l + small.buildMs[i]!)) / 1000;
  const ozS = oz.buildMs[0]! / 1000;
  if (small.root !== oz.root) throw new Error(`roots differ at ${OZ_LEAVES} leaves: ${small.root} vs ${oz.root}`);
  console.log(`  ${OZ_LEAVES.toLocaleString('en-US')} leaves, same root: this tree ${smallS.toFixed(2)} s, ${small.maxRssMb.toFixed(0)} MB peak;` +
    ` @openzeppelin/merkle-tree ${ozS.toFixed(2)} s, ${oz.maxRssMb.toFixed(0)} MB peak (${(ozS / smallS).toFixed(0)}x slower)`);
}

export const benchmark: Benchmark = {
  name: 'merkle-tree',
  summary: 'Merkle tree of 2,000,000 leaves: build time and peak RSS, vs bare keccak and @openzeppelin/merkle-tree',
  run,
};

const self = process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (self) {
  const i = process.argv.indexOf('--child');
  if (i >= 0) await child(process.argv[i + 1]!, Number(process.argv[i + 2]));
  else await run();
}
