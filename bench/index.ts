/**
 * `npm run bench` runs every benchmark; `npm run bench -- NAME [NAME...]` runs the named ones.
 * Each benchmark prints its own figures beside a baseline measured in the same run, since
 * these machines are noisy: compare ratios and medians, not single times. Nothing here is
 * asserted; speed is never a test.
 */
export interface Benchmark {
  name: string;
  /** What it measures, one line. */
  summary: string;
  run(): Promise<void>;
}

import { benchmark as otaEncode } from './ota-encode.js';
import { benchmark as cardRoundTrip } from './card-roundtrip.js';
import { benchmark as registryGas } from './registry-gas.js';
import { benchmark as merkleTree } from './merkle-tree.js';
import { benchmark as simImport } from './sim-import.js';
import { benchmark as otaRoundTrip } from './ota-roundtrip.js';
import { benchmark as provisioning } from './provisioning.js';

const benchmarks: Benchmark[] = [otaEncode, cardRoundTrip, registryGas, merkleTree, simImport, otaRoundTrip, provisioning];

async function main(): Promise<void> {
  const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const unknown = wanted.filter((w) => !benchmarks.some((b) => b.name === w));
  if (unknown.length > 0) {
    console.error(`unknown benchmark ${unknown.join(', ')}; known: ${benchmarks.map((b) => b.name).join(', ')}`);
    process.exit(2);
  }
  const selected = wanted.length > 0 ? benchmarks.filter((b) => wanted.includes(b.name)) : benchmarks;
  for (const b of selected) {
    console.log(`\n== ${b.name}: ${b.summary}`);
    await b.run();
  }
}

await main();
