/**
 * `simchain demo` as a user runs it: a real process that starts everything in a home of its
 * own, provisions its fleet end to end and proves the result; exit 0 with each proof line and
 * the figures on stdout, the progress on stderr, and nothing left behind. Bad options are a
 * message and exit 2, never a stack trace.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const SIMCHAIN = fileURLToPath(new URL('../../bin/simchain.js', import.meta.url));
const SIMS = 200;

function demo(args: string[], timeoutMs = 240_000): Promise<{ code: number | null; out: string; err: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'error' };
  // The demo must use nothing of the caller's: these would be ignored anyway.
  env.DATABASE_URL = 'postgres://nobody@127.0.0.1:1/none';
  env.SMPP_URL = 'smpp://nobody:x@127.0.0.1:1';
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SIMCHAIN, 'demo', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`simchain demo did not finish: ${out}\n${err}`));
    }, timeoutMs);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

t.test(`simchain demo --sims ${SIMS} provisions every SIM and proves it`, async (t) => {
  const { code, out, err } = await demo(['--sims', String(SIMS)]);
  t.equal(code, 0, `exit 0\n${out}\n${err.slice(-2000)}`);
  t.match(out, new RegExp(`ok +batch [0-9a-f-]{36} completed: ${SIMS} done, 0 failed`));
  t.match(out, new RegExp(`ok +one Merkle root anchored for the batch: 0x[0-9a-f]{64} over ${SIMS} devices, transaction 0x[0-9a-f]{64}`));
  t.match(out, new RegExp(`ok +every SIM active: ${SIMS} of ${SIMS}`));
  t.match(out, new RegExp(`ok +every device verified on chain through its proof: ${SIMS} of ${SIMS} \\(DeviceRegistry\\.verify at 0x[0-9a-fA-F]{40}\\)`));
  t.match(out, new RegExp(`ok +every card holds its identity .*: ${SIMS} of ${SIMS}`));
  t.notMatch(out, /FAIL/, 'no check failed');
  for (const figure of ['import', 'key generation', 'anchoring', 'identity push', 'provisioning', 'overall']) {
    t.match(out, new RegExp(`\\n {2}${figure} +[\\d.,]+ s`), `a figure for ${figure}`);
  }
  t.match(out, /anchoring +[\d.,]+ s, 1 transaction, gas [\d,]+ \([\d.,]+ gas per SIM\)/);
  t.match(out, new RegExp(`OTA +${2 * SIMS} commands \\(${2 * SIMS} with a verified PoR\\)`), 'two OTA commands per SIM, each with its PoR');
  t.match(out, /failures +0\n/);
  t.match(out, /demo: every check holds/);
  t.match(err, /provision +\[#+\] 100% +completed/, 'a progress bar on stderr');
  const home = /home (\S+)\n/.exec(out)?.[1];
  t.ok(home, 'the home is announced');
  t.notOk(existsSync(home!), 'the temporary home is removed');
});

t.test('bad options and a home in use are refused without a stack trace', async (t) => {
  const bad = await demo(['--sims', '0'], 30_000);
  t.equal(bad.code, 2);
  t.match(bad.err, /--sims must be an integer/);
  t.notMatch(bad.err, /\n\s+at /);

  const unknown = await demo(['--fast'], 30_000);
  t.equal(unknown.code, 2);

  const used = mkdtempSync(join(tmpdir(), 'simchain-demo-used-'));
  t.teardown(() => rmSync(used, { recursive: true, force: true }));
  chmodSync(used, 0o755);
  writeFileSync(join(used, 'something'), 'x');
  const taken = await demo(['--home', used, '--sims', '5'], 30_000);
  t.equal(taken.code, 1);
  t.match(taken.err, /is not empty/);
});
