/**
 * The contracts build: solc-js offline with imports from node_modules, artifacts and TypeChain
 * bindings written, a no-op when nothing changed, compile errors reported; and NatSpec on every
 * function, event and error the project's contracts declare.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { ContractBuildError, DEFAULT_SOURCE_DIR, SOLC_VERSION, buildContracts, type Artifact } from '../../contracts/build.js';
import { CONTRACT_NAMES, loadArtifact } from '../../contracts/index.js';

const dir = mkdtempSync(join(tmpdir(), 'simchain-build-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test('the project build is a no-op when nothing changed', async (t) => {
  const result = await buildContracts();
  t.equal(result.compiled, false);
  t.same([...result.contracts].sort(), [...CONTRACT_NAMES].sort());
});

t.test('a fresh build: imports from node_modules, artifacts, bindings, then no-op, then rebuild on change', async (t) => {
  const src = join(dir, 'src');
  const out = join(dir, 'artifacts');
  mkdirSync(src, { recursive: true });
  const source = (n: number): string => `// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
/// @notice A probe.
contract Probe is Ownable {
    /// @notice Creates it.
    constructor() Ownable(msg.sender) {}
    /// @notice Answers ${n}.
    function answer() external pure returns (uint256) { return ${n}; }
}
`;
  writeFileSync(join(src, 'Probe.sol'), source(42));
  const first = await buildContracts({ sourceDir: src, outDir: out });
  t.equal(first.compiled, true);
  t.same(first.contracts, ['Probe']);
  const artifact = JSON.parse(readFileSync(join(out, 'Probe.json'), 'utf8')) as Artifact;
  t.match(artifact, { contractName: 'Probe', sourceName: 'Probe.sol' });
  t.match(artifact.bytecode, /^0x[0-9a-f]{100,}$/);
  t.ok(artifact.abi.some((f) => (f as { name?: string }).name === 'owner'), 'the inherited ABI is there');
  t.ok(existsSync(join(out, 'types', 'factories', 'Probe__factory.ts')), 'TypeChain factory');
  t.match(readFileSync(join(out, 'types', 'index.ts'), 'utf8'), /from "\.\/factories\/Probe__factory\.js"/, 'NodeNext-style imports');
  const info = JSON.parse(readFileSync(join(out, 'build-info.json'), 'utf8')) as { solcVersion: string; imports: string[] };
  t.equal(info.solcVersion, SOLC_VERSION);
  t.ok(info.imports.some((p) => p.endsWith('@openzeppelin/contracts/access/Ownable.sol')), 'imports recorded for the input hash');

  const second = await buildContracts({ sourceDir: src, outDir: out });
  t.equal(second.compiled, false, 'unchanged inputs: nothing to do');
  t.equal(second.inputHash, first.inputHash);

  writeFileSync(join(src, 'Probe.sol'), source(43));
  const third = await buildContracts({ sourceDir: src, outDir: out });
  t.equal(third.compiled, true, 'a changed source compiles again');
  t.not(third.inputHash, first.inputHash);
  t.same(readdirSync(dirname(out)).filter((f) => f.includes('staging')), [], 'no staging directory left behind');
});

t.test('compile errors are reported, not written', async (t) => {
  const src = join(dir, 'bad');
  mkdirSync(src, { recursive: true });
  writeFileSync(join(src, 'Bad.sol'), 'pragma solidity ^0.8.24; contract Bad { function f() external { undefinedThing(); } }');
  const error = await buildContracts({ sourceDir: src, outDir: join(dir, 'bad-out') }).catch((e: unknown) => e);
  t.ok(error instanceof ContractBuildError);
  t.match((error as Error).message, /Undeclared identifier/);
  t.notOk(existsSync(join(dir, 'bad-out')));
  writeFileSync(join(src, 'Bad.sol'), 'pragma solidity ^0.8.24; import "@openzeppelin/contracts/NoSuch.sol"; contract Bad {}');
  const missing = await buildContracts({ sourceDir: src, outDir: join(dir, 'bad-out') }).catch((e: unknown) => e);
  t.match((missing as Error).message, /not found in node_modules/);
});

/** Declarations in a Solidity source: external/public functions, events, errors. */
function declarations(source: string): { functions: string[]; events: string[]; errors: string[] } {
  const functions = [...source.matchAll(/function\s+(\w+)\s*\(([^)]*)\)[^{;]*?\b(external|public)\b/g)].map((m) => m[1]!);
  const events = [...source.matchAll(/^\s*event\s+(\w+)/gm)].map((m) => m[1]!);
  const errors = [...source.matchAll(/^\s*error\s+(\w+)/gm)].map((m) => m[1]!);
  return { functions, events, errors };
}

t.test('NatSpec on every function, event and error the contracts declare', async (t) => {
  const here = dirname(fileURLToPath(import.meta.url));
  t.equal(DEFAULT_SOURCE_DIR, join(here, '..', '..', 'contracts', 'src'));
  for (const name of CONTRACT_NAMES) {
    const artifact = loadArtifact(name);
    const source = readFileSync(join(DEFAULT_SOURCE_DIR, artifact.sourceName), 'utf8');
    const { functions, events, errors } = declarations(source);
    const userdoc = artifact.userdoc as { methods?: Record<string, { notice?: string }>; events?: Record<string, { notice?: string }>; errors?: Record<string, { notice?: string }[]> };
    const noticed = (table: Record<string, unknown> | undefined, n: string): boolean =>
      Object.entries(table ?? {}).some(([sig, doc]) => sig.startsWith(`${n}(`) && JSON.stringify(doc).includes('notice'));
    for (const f of functions) t.ok(noticed(userdoc.methods, f), `${name}.${f} has a @notice`);
    for (const e of events) t.ok(noticed(userdoc.events, e), `${name} event ${e} has a @notice`);
    for (const e of errors) t.ok(noticed(userdoc.errors, e), `${name} error ${e} has a @notice`);
    t.ok(functions.length > 0, `${name} declares functions`);
  }
});
