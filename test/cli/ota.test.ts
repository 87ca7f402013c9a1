/** `simchain ota encode|decode|por` as carrier engineers and outside checks call it: a real process, JSON on stdin. */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { vectorById, vectorsOfKind } from '../helpers/vectors.js';

const BIN = fileURLToPath(new URL('../../bin/simchain.js', import.meta.url));

export function simchain(args: string[], input: string): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { input, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const nibble = { AES: 2, '3DES': 5 } as Record<string, number>;

t.test('encode reproduces the command vectors', async (t) => {
  for (const v of vectorsOfKind('command').slice(0, 4)) {
    const n = nibble[v.algorithm as string]!;
    const input = {
      spi: v.spi,
      kic: ((v.kic_idx as number) * 16 + n).toString(16).padStart(2, '0'),
      kid: ((v.kid_idx as number) * 16 + n).toString(16).padStart(2, '0'),
      tar: v.tar,
      cntr: (v.cntr as number).toString(16).padStart(10, '0'),
      kicKey: v.kic,
      kidKey: v.kid,
      data: (v.apdus as string[]).join(''),
    };
    const r = simchain(['ota', 'encode'], JSON.stringify(input));
    t.equal(r.code, 0, v.id);
    t.same(JSON.parse(r.out), { userData: (v.expected_user_data_hex as string).toLowerCase() }, v.id);
  }
});

t.test('a packet over one SMS comes with its segments, which decode back to it', async (t) => {
  const input = {
    spi: '1621', kic: '12', kid: '12', tar: 'bfff01', cntr: '00000000a5',
    kicKey: '000102030405060708090a0b0c0d0e0f', kidKey: '0f0e0d0c0b0a09080706050403020100',
    data: '80e28000' + 'c8'.padEnd(2 + 0, '') + 'aa'.repeat(250),
  };
  const r = simchain(['ota', 'encode'], JSON.stringify(input));
  t.equal(r.code, 0, r.err);
  const out = JSON.parse(r.out) as { userData: string; segments: string[] };
  t.ok(out.segments.length >= 2);
  for (const s of out.segments.slice(0, -1)) t.equal(s.length, 280, 'every part but the last is 140 octets');
  t.match(out.segments[0]!, /^070003a5..017000/, 'first part: concatenation IE (ref = counter low byte) then 70 00');
  const d = simchain(['ota', 'decode'], JSON.stringify({ segments: out.segments, kicKey: input.kicKey, kidKey: input.kidKey }));
  t.equal(d.code, 0, d.err);
  const decoded = JSON.parse(d.out);
  t.equal(decoded.data, input.data);
  t.equal(decoded.ccValid, true);
  t.equal(decoded.cntr, input.cntr);
  const wrongKey = simchain(['ota', 'decode'], JSON.stringify({ userData: out.userData, kicKey: input.kicKey, kidKey: '00'.repeat(16) }));
  t.equal(wrongKey.code, 0);
  t.match(JSON.parse(wrongKey.out), { status: 1, ccValid: false }, 'the card would answer 01');
});

t.test('por decodes the PoR vectors, and a bad CC is reported, not trusted', async (t) => {
  for (const id of ['ota-aes128-por-ciphered-cc', 'ota-3des-por-cc', 'ota-3des-por-cc-bad', 'doc-3des-por-2apdus']) {
    const v = vectorById(id);
    const n = nibble[v.algorithm as string]!;
    const input = {
      spi: v.spi,
      kic: ((v.kic_idx as number) * 16 + n).toString(16).padStart(2, '0'),
      kid: ((v.kid_idx as number) * 16 + n).toString(16).padStart(2, '0'),
      kicKey: v.kic, kidKey: v.kid, userData: v.por_user_data_hex,
    };
    const r = simchain(['ota', 'por'], JSON.stringify(input));
    t.equal(r.code, 0, `${id}: ${r.err}`);
    const out = JSON.parse(r.out);
    const expected = v.decoded_by_pysim as Record<string, unknown> | undefined;
    if (expected) {
      t.equal(out.tar, expected.tar, id);
      t.equal(out.cntr, expected.cntr, id);
      t.equal(out.pcntr, expected.pcntr, id);
      t.equal(out.status, expected.response_status_code, id);
      t.equal(out.ccValid, expected.cc_verified, id);
    } else {
      t.equal(out.ccValid, false, `${id}: the altered PoR is not valid`);
    }
  }
});

t.test('bad input: one line on stderr, non-zero exit, no stack trace', async (t) => {
  const cases: [string[], string, RegExp][] = [
    [['ota', 'encode'], 'not json', /not valid JSON/],
    [['ota', 'encode'], '', /got nothing/],
    [['ota', 'encode'], '{"spi":"06"}', /spi must be 2 bytes/],
    [['ota', 'encode'], '{"spi":"0619","kic":"22","kid":"22","tar":"b00011","cntr":"0000000000","kicKey":"0011","kidKey":"00","data":""}', /key|length/i],
    [['ota', 'encode'], '{"spi":"0619","kic":"23","kid":"22","tar":"b00011","cntr":"0000000000","kicKey":"00","kidKey":"00","data":""}', /algorithm/i],
    [['ota', 'encode'], '{"spi":"0619","kic":"22","kid":"22","tar":"b00011","cntr":"0000000000","kicKey":"zz","kidKey":"00","data":""}', /hex/],
    [['ota', 'encode'], '{"spi":"0619","kic":"22","kid":"22","tar":"b00011","cntr":"0000000000","data":""}', /kicKey is missing/],
    [['ota', 'por'], '{"spi":"0619","kic":"22","kid":"22","userData":"0271000002"}', /./],
    [['ota', 'encode'], '{"spi":"0619","spy":1}', /unknown field 'spy'/],
    [['ota', 'frob'], '{}', /encode, decode or por/],
  ];
  for (const [args, input, message] of cases) {
    const r = simchain(args, input);
    t.not(r.code, 0, `${input}: exit code`);
    t.equal(r.out, '', `${input}: nothing on stdout`);
    t.equal(r.err.trim().split('\n').length, 1, `${input}: one line`);
    t.match(r.err, message, input);
    t.notMatch(r.err, /\n\s+at /, `${input}: no stack trace`);
  }
});

t.test('--help documents the fields', async (t) => {
  const r = simchain(['ota', '--help'], '');
  t.equal(r.code, 0);
  for (const field of ['spi', 'kic', 'kid', 'tar', 'cntr', 'kicKey', 'kidKey', 'data', 'userData', 'segments', 'ccValid', 'pcntr']) t.match(r.out, field);
});
