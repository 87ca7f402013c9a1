/**
 * Compiles contracts/src with solc-js (offline, pinned), writes one artifact per contract
 * (ABI, bytecode, NatSpec) to contracts/artifacts/ and TypeChain ethers-v6 bindings to
 * contracts/artifacts/types/. Both are generated, never committed.
 *
 * It runs before every test and start, so it is a no-op when nothing changed: a hash of the
 * compiler version, the settings, this file, every source and every imported file decides.
 *
 * Run: node --import tsx contracts/build.ts [--force]
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The only compiler accepted: the same sources always give the same bytecode. */
export const SOLC_VERSION = '0.8.37';

const CONTRACTS_DIR = dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = resolve(CONTRACTS_DIR, '..');

export const DEFAULT_SOURCE_DIR = join(CONTRACTS_DIR, 'src');
export const DEFAULT_OUT_DIR = join(CONTRACTS_DIR, 'artifacts');
const BUILD_INFO = 'build-info.json';
const TYPES_DIR = 'types';

/**
 * OpenZeppelin 5.7 emits mcopy, so the target is Cancun (PITFALLS.md, Chain). The optimizer
 * runs are tuned for calls, not deployment: a registry is deployed once and called forever.
 */
const SETTINGS = {
  evmVersion: 'cancun',
  optimizer: { enabled: true, runs: 10_000 },
  outputSelection: {
    '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object', 'userdoc', 'devdoc'] },
  },
} as const;

/** One contract's artifact, in the shape TypeChain and Hardhat read. */
export interface Artifact {
  contractName: string;
  sourceName: string;
  abi: unknown[];
  bytecode: string;
  deployedBytecode: string;
  userdoc: Record<string, unknown>;
  devdoc: Record<string, unknown>;
}

export interface BuildOptions {
  sourceDir?: string;
  outDir?: string;
  /** Compile even if the inputs are unchanged. */
  force?: boolean;
  log?: (line: string) => void;
}

export interface BuildResult {
  /** False when the inputs were unchanged and nothing was written. */
  compiled: boolean;
  contracts: string[];
  inputHash: string;
}

interface BuildInfo {
  inputHash: string;
  solcVersion: string;
  contracts: string[];
  /** Every imported file the compiler read, relative to the repository. */
  imports: string[];
}

interface SolcOutput {
  errors?: { severity: 'error' | 'warning' | 'info'; formattedMessage: string }[];
  contracts?: Record<
    string,
    Record<
      string,
      {
        abi: unknown[];
        evm: { bytecode: { object: string }; deployedBytecode: { object: string } };
        userdoc: Record<string, unknown>;
        devdoc: Record<string, unknown>;
      }
    >
  >;
}

export class ContractBuildError extends Error {
  override readonly name = 'ContractBuildError';
}

const require = createRequire(import.meta.url);

function listSources(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listSources(path));
    else if (entry.name.endsWith('.sol')) out.push(path);
  }
  return out.sort();
}

/** Source unit name as solc sees it: relative to the source dir, with forward slashes. */
function unitName(sourceDir: string, path: string): string {
  return relative(sourceDir, path).split(sep).join('/');
}

/** Resolve an import like `@openzeppelin/contracts/...` through node_modules. */
function resolveImport(path: string): string {
  return require.resolve(path, { paths: [REPO_ROOT] });
}

function hashInputs(sourceDir: string, sources: string[], imports: string[]): string {
  const h = createHash('sha256');
  h.update(`solc ${SOLC_VERSION}\n${JSON.stringify(SETTINGS)}\n`);
  h.update(readFileSync(fileURLToPath(import.meta.url)));
  for (const path of sources) h.update(`\0${unitName(sourceDir, path)}\0`).update(readFileSync(path));
  for (const path of imports) {
    // A vanished import means the tree changed: hash its absence so the build reruns.
    h.update(`\0${path}\0`);
    const full = resolve(REPO_ROOT, path);
    if (existsSync(full)) h.update(readFileSync(full));
  }
  return h.digest('hex');
}

function readBuildInfo(outDir: string): BuildInfo | undefined {
  try {
    return JSON.parse(readFileSync(join(outDir, BUILD_INFO), 'utf8')) as BuildInfo;
  } catch {
    return undefined;
  }
}

/** Staging directories of builds whose process died mid-way (they are not in .gitignore). */
function removeAbandonedStaging(outDir: string): void {
  const prefix = `${basename(outDir)}.staging-`;
  if (!existsSync(dirname(outDir))) return;
  for (const name of readdirSync(dirname(outDir))) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length));
    let alive = false;
    try {
      process.kill(pid, 0);
      alive = pid !== process.pid;
    } catch {
      alive = false;
    }
    if (!alive) rmSync(join(dirname(outDir), name), { recursive: true, force: true });
  }
}

async function loadSolc(): Promise<{ version(): string; compile(input: string, callbacks: object): string }> {
  // Loaded only when compiling: the compiler takes about a second to load.
  const mod = (await import('solc')) as unknown as { default: { version(): string; compile(i: string, c: object): string } };
  const solc = mod.default;
  const version = solc.version();
  if (!version.startsWith(`${SOLC_VERSION}+`)) {
    throw new ContractBuildError(`solc ${version} installed, the build is pinned to ${SOLC_VERSION}`);
  }
  return solc;
}

async function compile(sourceDir: string, sources: string[]): Promise<{ output: SolcOutput; imports: string[] }> {
  const solc = await loadSolc();
  const input = {
    language: 'Solidity',
    sources: Object.fromEntries(sources.map((p) => [unitName(sourceDir, p), { content: readFileSync(p, 'utf8') }])),
    settings: SETTINGS,
  };
  const imports = new Set<string>();
  const findImports = (path: string): { contents: string } | { error: string } => {
    try {
      const full = resolveImport(path);
      imports.add(relative(REPO_ROOT, full).split(sep).join('/'));
      return { contents: readFileSync(full, 'utf8') };
    } catch {
      return { error: `import ${path} not found in node_modules` };
    }
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports })) as SolcOutput;
  return { output, imports: [...imports].sort() };
}

async function writeBindings(cwd: string, artifactFiles: string[], outDir: string): Promise<void> {
  const { runTypeChain } = await import('typechain');
  await runTypeChain({
    cwd,
    filesToProcess: artifactFiles,
    allFiles: artifactFiles,
    outDir,
    target: 'ethers-v6',
    // NodeNext resolution needs the .js suffixes in relative imports.
    flags: { alwaysGenerateOverloads: false, discriminateTypes: false, node16Modules: true, environment: undefined },
  });
}

export async function buildContracts(options: BuildOptions = {}): Promise<BuildResult> {
  const sourceDir = resolve(options.sourceDir ?? DEFAULT_SOURCE_DIR);
  const outDir = resolve(options.outDir ?? DEFAULT_OUT_DIR);
  const log = options.log ?? (() => {});
  const sources = listSources(sourceDir);
  if (sources.length === 0) throw new ContractBuildError(`no .sol files under ${sourceDir}`);

  const previous = readBuildInfo(outDir);
  if (!options.force && previous && previous.solcVersion === SOLC_VERSION) {
    const hash = hashInputs(sourceDir, sources, previous.imports);
    if (hash === previous.inputHash && existsSync(join(outDir, TYPES_DIR, 'index.ts'))) {
      return { compiled: false, contracts: previous.contracts, inputHash: hash };
    }
  }

  const started = Date.now();
  const { output, imports } = await compile(sourceDir, sources);
  const problems = output.errors ?? [];
  for (const p of problems.filter((e) => e.severity === 'warning')) log(p.formattedMessage.trimEnd());
  const errors = problems.filter((e) => e.severity === 'error');
  if (errors.length > 0) {
    throw new ContractBuildError(`solc failed:\n${errors.map((e) => e.formattedMessage.trimEnd()).join('\n')}`);
  }

  // Build beside the output and swap it in whole, so a reader never sees half a build.
  removeAbandonedStaging(outDir);
  const staging = `${outDir}.staging-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  const own = new Set(sources.map((p) => unitName(sourceDir, p)));
  const contracts: string[] = [];
  const artifactFiles: string[] = [];
  for (const [sourceName, units] of Object.entries(output.contracts ?? {})) {
    if (!own.has(sourceName)) continue;
    for (const [contractName, c] of Object.entries(units)) {
      if (contracts.includes(contractName)) {
        throw new ContractBuildError(`two contracts are named ${contractName}: names must be unique across src/`);
      }
      const artifact: Artifact = {
        contractName,
        sourceName,
        abi: c.abi,
        bytecode: c.evm.bytecode.object === '' ? '0x' : `0x${c.evm.bytecode.object}`,
        deployedBytecode: c.evm.deployedBytecode.object === '' ? '0x' : `0x${c.evm.deployedBytecode.object}`,
        userdoc: c.userdoc,
        devdoc: c.devdoc,
      };
      const file = join(staging, `${contractName}.json`);
      writeFileSync(file, JSON.stringify(artifact, null, 2) + '\n');
      contracts.push(contractName);
      artifactFiles.push(file);
    }
  }
  contracts.sort();
  await writeBindings(staging, artifactFiles, join(staging, TYPES_DIR));

  const info: BuildInfo = {
    inputHash: hashInputs(sourceDir, sources, imports),
    solcVersion: SOLC_VERSION,
    contracts,
    imports,
  };
  writeFileSync(join(staging, BUILD_INFO), JSON.stringify(info, null, 2) + '\n');
  rmSync(outDir, { recursive: true, force: true });
  renameSync(staging, outDir);
  log(`contracts: compiled ${contracts.length} contracts with solc ${SOLC_VERSION} in ${Date.now() - started} ms`);
  return { compiled: true, contracts, inputHash: info.inputHash };
}

const runDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (runDirectly) {
  try {
    await buildContracts({ force: process.argv.includes('--force'), log: (line) => console.log(line) });
  } catch (e) {
    process.stderr.write(`contracts/build: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  }
}
