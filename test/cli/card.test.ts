/**
 * `simchain card new` and `simchain card apdu` as outside checks drive them: real processes,
 * a card file on disk, and an OTA exchange made only with `simchain ota` and hex APDUs.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  decodeProactiveCommand,
  decodeSmsSubmit,
  encodeSmsDeliver,
  encodeSmsPpDownloadApdu,
  encodeTerminalResponse,
  fromHex,
  parseKeyTemplate,
  sctsFromDate,
  toHex,
  vendorCaToPem,
  verifyAttestation,
} from '../../sim-applet/index.js';
import { inventoryRow, KEYSETS, vendorCa } from '../helpers/card.js';

const BIN = fileURLToPath(new URL('../../bin/simchain.js', import.meta.url));
const run = (args: string[], input: string) => {
  const r = spawnSync(process.execPath, [BIN, ...args], { input, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
const dir = mkdtempSync(join(tmpdir(), 'simchain-card-cli-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test('card new personalises from a row and a vendor CA; bad rows are refused', async (t) => {
  const row = { ...inventoryRow(), vendorCa: vendorCaToPem(vendorCa()) };
  const r = run(['card', 'new'], JSON.stringify(row));
  t.equal(r.code, 0, r.err);
  const state = JSON.parse(r.out);
  t.equal(state.format, 'simchain-card/1');
  t.equal(state.iccid, row.iccid);
  t.equal(state.lifecycle, 'personalised');
  t.equal(state.attestation.caCertificate, toHex(vendorCa().certificate), 'issued by the given CA');
  const generated = JSON.parse(run(['card', 'new'], JSON.stringify(inventoryRow())).out);
  t.not(generated.attestation.caCertificate, state.attestation.caCertificate, 'without a CA one is generated');
  for (const [bad, message] of [
    [{ ...inventoryRow(), iccid: '8988211000000467286' }, /iccid.*check digit/],
    [{ ...inventoryRow(), imsi: '12345' }, /imsi/],
    [{ ...inventoryRow(), keysets: [{ ...inventoryRow().keysets[0], kic: 'abcd' }] }, /kic/],
    [{ ...inventoryRow(), keysets: [{ ...inventoryRow().keysets[0], kicAlg: 'rc4' }] }, /kicAlg/],
    [{ ...inventoryRow(), vendorCa: { key: 'x', certificate: 'y' } }, /vendor CA/],
  ] as const) {
    const e = run(['card', 'new'], JSON.stringify(bad));
    t.equal(e.code, 1);
    t.equal(e.out, '');
    t.match(e.err, message);
    t.equal(e.err.trim().split('\n').length, 1);
  }
});

t.test('card apdu: an OTA GENERATE KEY PAIR driven entirely through the CLI', async (t) => {
  const file = join(dir, 'card.json');
  writeFileSync(file, run(['card', 'new'], JSON.stringify({ ...inventoryRow(), vendorCa: vendorCaToPem(vendorCa()) })).out);
  // The operator: simchain ota encode.
  const ks = KEYSETS[1];
  const enc = run(['ota', 'encode'], JSON.stringify({ spi: '1639', kic: '12', kid: '12', tar: 'bfff01', cntr: '0000000001', kicKey: ks.kic, kidKey: ks.kid, data: '80d4010100' }));
  t.equal(enc.code, 0, enc.err);
  const userData = fromHex(JSON.parse(enc.out).userData);
  const tpdu = encodeSmsDeliver({ oa: { ton: 'international', npi: 'isdn_e164', digits: '4912345' }, pid: 0x7f, dcs: 0xf6, scts: sctsFromDate(new Date()), ud: userData, udhi: true });
  // The handset: ENVELOPE, then FETCH / TERMINAL RESPONSE for each SEND SHORT MESSAGE.
  let r = run(['card', 'apdu', file], toHex(encodeSmsPpDownloadApdu({ tpdu })) + '\n');
  t.equal(r.code, 0, r.err);
  let sw = r.out.trim().slice(-4);
  t.match(sw, /^91/, 'PoR waiting as a proactive command');
  const parts: Uint8Array[] = [];
  while (sw.startsWith('91')) {
    r = run(['card', 'apdu', file], `80120000${sw.slice(2)}\n`);
    const fetched = fromHex(r.out.trim());
    t.equal(toHex(fetched.subarray(-2)), '9000');
    const cmd = decodeProactiveCommand(fetched.subarray(0, -2));
    parts.push(decodeSmsSubmit(cmd.tpdu!).ud);
    const tr = encodeTerminalResponse({ commandNumber: cmd.commandNumber, commandType: cmd.commandType, result: 0 });
    r = run(['card', 'apdu', file], `80140000${tr.length.toString(16).padStart(2, '0')}${toHex(tr)}\n`);
    sw = r.out.trim().slice(-4);
  }
  t.equal(sw, '9000');
  t.ok(parts.length >= 2, `PoR in ${parts.length} SMS-SUBMIT`);
  // The operator reads the PoR: simchain ota por.
  const por = run(['ota', 'por'], JSON.stringify({ spi: '1639', kic: '12', kid: '12', kicKey: ks.kic, kidKey: ks.kid, segments: parts.map(toHex) }));
  t.equal(por.code, 0, por.err);
  const decoded = JSON.parse(por.out);
  t.equal(decoded.ccValid, true);
  t.equal(decoded.response.sw, '9000');
  const key = parseKeyTemplate(fromHex(decoded.response.data));
  const v = verifyAttestation({ iccid: inventoryRow().iccid, curve: key.curve, slot: 1, publicKey: key.publicKey, signature: key.attestationSignature!, certificate: key.certificate!, caCertificate: vendorCa().certificate, at: new Date() });
  t.equal(v.ok, true, 'attestation chain verifies');
  const saved = JSON.parse(readFileSync(file, 'utf8'));
  t.equal(saved.lifecycle, 'operational', 'the state was saved back');
  t.equal(saved.keysets[0].counter, 1);
  t.equal(statSync(file).mode & 0o777, 0o600, 'the card file is private: it holds keys');
});

t.test('card apdu: GET RESPONSE within and across runs, --reset, comments', async (t) => {
  const file = join(dir, 'card2.json');
  writeFileSync(file, run(['card', 'new'], JSON.stringify(inventoryRow())).out);
  const r = run(['card', 'apdu', file], '# select the applet, FCI behind 61xx\n00a4040009f0534d4348414e0101\n\n');
  t.match(r.out.trim(), /^61[0-9a-f]{2}$/);
  const again = run(['card', 'apdu', file], `00c00000${r.out.trim().slice(2)}\n`);
  t.match(again.out.trim(), /^6f.*9000$/, 'the pending response survived between runs');
  const reset = run(['card', 'apdu', '--reset', file], '00c0000010\n');
  t.equal(reset.out.trim(), '6985', 'after --reset nothing is pending');
});

t.test('card apdu: bad input changes nothing', async (t) => {
  const file = join(dir, 'card3.json');
  writeFileSync(file, run(['card', 'new'], JSON.stringify(inventoryRow())).out);
  const before = readFileSync(file, 'utf8');
  for (const [input, message] of [['80f4000000\nzz\n', /line 2: not hex/], ['80f4\n', /line 1: a C-APDU has at least 4 bytes/], ['80f40000000\n', /line 1/]] as const) {
    const r = run(['card', 'apdu', file], input);
    t.equal(r.code, 1);
    t.match(r.err, message);
    t.equal(readFileSync(file, 'utf8'), before, 'file untouched');
  }
  const missing = run(['card', 'apdu', join(dir, 'none.json')], '80f4000000\n');
  t.equal(missing.code, 1);
  t.match(missing.err, /cannot read/);
  writeFileSync(join(dir, 'junk.json'), '{"a":1}');
  t.match(run(['card', 'apdu', join(dir, 'junk.json')], '').err, /not a card state/);
  t.equal(run(['card', 'apdu'], '').code, 2, 'usage error');
  t.match(run(['card', '--help'], '').out, /ENVELOPE/);
});
