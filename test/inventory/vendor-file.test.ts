/**
 * The vendor file reader: both forms, and every rule with a file that breaks it (each
 * problem reported with its line). Rules that need the whole inventory (duplicates) are
 * tested against the database in test/import/.
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import t from 'tap';
import { inventory } from '../../sim-applet/index.js';
import { b64, minimalCertificate, shapedCertificate } from './certificates.js';

function read(lines: string[], maxProblems?: number) {
  const reader = new inventory.VendorFileReader(maxProblems === undefined ? {} : { maxProblems });
  const rows: inventory.InventoryRow[] = [];
  for (const line of lines) {
    const row = reader.push(line);
    if (row) rows.push(row);
  }
  reader.end();
  return { reader, rows };
}

const csv = (count = 3, extra: Partial<inventory.VendorFileOptions> = {}) =>
  [...inventory.generateVendorFile({ count, format: 'csv', random: randomBytes, ...extra })];
const out = (count = 3, extra: Partial<inventory.VendorFileOptions> = {}) =>
  [...inventory.generateVendorFile({ count, format: 'out', random: randomBytes, ...extra })];

/** Replace field `column` of data line `row` (0-based) in a CSV file. */
function setField(lines: string[], row: number, column: string, value: string): string[] {
  const header = lines[0]!.split(',');
  const at = header.indexOf(column);
  if (at < 0) throw new Error(`no column ${column}`);
  return lines.map((l, i) => {
    if (i !== row + 1) return l;
    const f = l.split(',');
    f[at] = value;
    return f.join(',');
  });
}

t.test('both forms give the same typed rows; secrets dropped; metadata kept', async (t) => {
  const keysets = [{ index: 1, kicAlg: 'aes', kidAlg: 'aes' }, { index: 3, kicAlg: '3des2', kidAlg: 'des' }] as const;
  const seed = 7;
  const fixed = () => {
    let n = seed;
    return (len: number) => Uint8Array.from({ length: len }, () => (n = (n * 1103515245 + 12345) & 0xff));
  };
  const a = read([...inventory.generateVendorFile({ count: 4, format: 'csv', random: fixed(), keysets: [...keysets], networkSecrets: true, attestationSerial: true })]);
  const b = read([...inventory.generateVendorFile({ count: 4, format: 'out', random: fixed(), keysets: [...keysets], networkSecrets: true, attestationSerial: true })]);
  t.equal(a.reader.problemCount, 0);
  t.equal(b.reader.problemCount, 0);
  t.same(a.rows, b.rows);
  t.equal(a.rows.length, 4);
  t.same(a.reader.droppedColumns, ['KI', 'OPC']);
  t.equal(b.reader.format, 'out');
  t.equal(b.reader.metadata.Profile, 'SIMCHAIN-IOT-01');
  const row = a.rows[0]!;
  t.same(Object.keys(row).sort(), ['attestationSerial', 'iccid', 'imsi', 'keysets', 'msisdn', 'tar']);
  t.same(row.keysets.map((k) => [k.index, k.kicAlg, k.kidAlg, k.kikAlg, k.kic.length / 2, k.kid.length / 2, k.kik.length / 2]), [
    [1, 'aes', 'aes', 'aes', 16, 16, 16],
    [3, '3des2', 'des', '3des2', 16, 8, 16],
  ]);
  t.match(row.msisdn, /^\+\d+$/);
  t.equal(row.tar, 'b00010');
  t.notOk(JSON.stringify(a.rows).match(/"ki"|"opc"/i), 'no KI/OPC in the rows');
});

t.test('CRLF line ends, blank lines, quoted CSV fields and file-wide out-file defaults', async (t) => {
  const lines = csv(2).map((l) => l + '\r');
  lines.splice(2, 0, '');
  lines[1] = lines[1]!.split(',').map((f) => `"${f.replace('\r', '')}"`).join(',');
  const { reader, rows } = read(lines);
  t.equal(reader.problemCount, 0);
  t.equal(rows.length, 2);
  const o = out(2).map((l) => l.replace(/^KIC1_ALG .*/, 'KIC_ALG : AES').replace(/^KID1_ALG .*/, 'KID_ALG: aes'));
  const r = read(o);
  t.equal(r.reader.problemCount, 0, 'KIC_ALG and KID_ALG apply to every keyset');
  t.equal(r.rows[0]!.keysets[0]!.kicAlg, 'aes');
});

interface Case {
  name: string;
  lines: string[];
  code: inventory.InventoryErrorCode;
  line: number;
  column?: string;
}

const base = csv(3, { attestationSerial: true, certificate: (_, serial) => shapedCertificate(200 + serial) });
const badCertificate = (bytes: number[]) => {
  const der = shapedCertificate(300);
  der.set(bytes, 0);
  return b64(der);
};
const cases: Case[] = [
  { name: 'empty file', lines: [], code: 'HEADER_MISSING', line: 0 },
  { name: 'out file without var_out', lines: out(2).filter((l) => !l.startsWith('var_out')).slice(0, 15), code: 'HEADER_MISSING', line: 15 },
  { name: 'out header line that is not Name: value', lines: ['*HEADER', 'just words', ...out(1).slice(1)], code: 'HEADER_MALFORMED', line: 2 },
  { name: 'var_out with no columns', lines: ['*HEADER', 'var_out:'], code: 'HEADER_MALFORMED', line: 2 },
  { name: 'unknown column', lines: [base[0] + ',COLOUR', ...base.slice(1).map((l) => l + ',red')], code: 'UNKNOWN_COLUMN', line: 1 },
  { name: 'duplicate column', lines: [base[0] + ',IMSI', ...base.slice(1).map((l) => l + ',1')], code: 'DUPLICATE_COLUMN', line: 1 },
  { name: 'missing IMSI column', lines: [base[0]!.replace('IMSI', 'ACC'), ...base.slice(1)], code: 'MISSING_COLUMN', line: 1 },
  { name: 'keyset without its algorithm column', lines: [base[0]!.replace('KID1_ALG', 'ACC'), ...base.slice(1)], code: 'MISSING_COLUMN', line: 1 },
  { name: 'no TAR column nor default', lines: [base[0]!.replace('TAR', 'ACC'), ...base.slice(1)], code: 'MISSING_COLUMN', line: 1 },
  { name: 'no keyset at all', lines: ['ICCID,IMSI,MSISDN,TAR', `${inventory.iccidForSerial(1)},001010000000001,+447700000001,B00010`], code: 'MISSING_COLUMN', line: 1 },
  { name: 'a row with a field too few', lines: [base[0]!, base[1]!, base[2]!.split(',').slice(1).join(',')], code: 'FIELD_COUNT', line: 3 },
  { name: 'a malformed quote', lines: [base[0]!, base[1]!.replace(',', ',"')], code: 'FIELD_COUNT', line: 2 },
  { name: 'Quantity that does not match', lines: out(3).map((l) => l.replace(/^Quantity .*/, 'Quantity : 4')), code: 'QUANTITY_MISMATCH', line: 4 },
  { name: 'header and no rows', lines: [base[0]!], code: 'NO_ROWS', line: 1 },
  { name: 'ICCID not 19-20 digits', lines: setField(base, 1, 'ICCID', '8999900000001'), code: 'ICCID_FORMAT', line: 3 },
  { name: 'ICCID with a wrong check digit', lines: setField(base, 0, 'ICCID', inventory.iccidForSerial(0).slice(0, -1) + '9'), code: 'ICCID_CHECK_DIGIT', line: 2 },
  { name: 'IMSI of 14 digits', lines: setField(base, 2, 'IMSI', '00101000000000'), code: 'IMSI_FORMAT', line: 4 },
  { name: 'MSISDN not E.164', lines: setField(base, 0, 'MSISDN', '07700900123'), code: 'MSISDN_FORMAT', line: 2 },
  { name: 'TAR of 2 bytes', lines: setField(base, 0, 'TAR', 'B000'), code: 'TAR_FORMAT', line: 2 },
  { name: 'attestation serial of zero', lines: setField(base, 1, 'ATTESTATION_SN', '0000'), code: 'CERT_SERIAL_FORMAT', line: 3 },
  { name: 'KIc that is not hex', lines: setField(base, 0, 'KIC1', 'zz'.repeat(16)), code: 'KEY_FORMAT', line: 2 },
  { name: 'AES KID of 8 bytes', lines: setField(base, 0, 'KID1', 'ab'.repeat(8)), code: 'KEY_LENGTH', line: 2 },
  { name: 'DES KIc of 16 bytes', lines: setField(setField(base, 0, 'KIC1_ALG', 'des'), 0, 'KIK1', 'ab'.repeat(8)), code: 'KEY_LENGTH', line: 2 },
  { name: 'KIk too long for the KIc algorithm', lines: setField(base, 2, 'KIK1', 'ab'.repeat(20)), code: 'KEY_LENGTH', line: 4 },
  { name: 'unknown algorithm', lines: setField(base, 0, 'KIC1_ALG', 'rc4'), code: 'UNKNOWN_ALGORITHM', line: 2 },
  { name: 'unknown algorithm in the out header', lines: out(2).map((l) => l.replace(/^KIC1_ALG .*/, 'KIC1_ALG : blowfish')), code: 'UNKNOWN_ALGORITHM', line: 12 },
  { name: 'keyset with KIk missing', lines: setField(base, 1, 'KIK1', ''), code: 'KEYSET_INCOMPLETE', line: 3 },
  { name: 'attestation certificate with a bad character', lines: setField(base, 1, 'ATTESTATION_CERT', b64(shapedCertificate(300)).replace(/^(.{9})./, '$1*')), code: 'CERT_BASE64', line: 3, column: 'ATTESTATION_CERT' },
  { name: 'attestation certificate of 63 bytes', lines: setField(base, 0, 'ATTESTATION_CERT', b64(minimalCertificate(63))), code: 'CERT_SIZE', line: 2, column: 'ATTESTATION_CERT' },
  { name: 'attestation certificate that is not a SEQUENCE', lines: setField(base, 2, 'ATTESTATION_CERT', badCertificate([0x04])), code: 'CERT_DER', line: 4, column: 'ATTESTATION_CERT' },
  { name: 'row with no keyset', lines: setField(setField(setField(base, 0, 'KIC1', ''), 0, 'KID1', ''), 0, 'KIK1', ''), code: 'NO_KEYSET', line: 2 },
];

for (const c of cases) {
  t.test(`rejects ${c.name}: ${c.code}`, async (t) => {
    const { reader } = read(c.lines);
    t.ok(reader.problemCount > 0, 'the file is refused');
    const found = reader.problems.find((p) => p.code === c.code);
    t.ok(found, `a ${c.code} problem among ${JSON.stringify(reader.problems)}`);
    if (c.line > 0) t.equal(found?.line, c.line, 'on the right line');
    if (c.column !== undefined) t.equal(found?.column, c.column, 'in the right column');
  });
}

t.test('every problem is counted, the first maxProblems kept', async (t) => {
  let lines = csv(50);
  for (let i = 0; i < 50; i++) lines = setField(lines, i, 'IMSI', '1');
  const { reader, rows } = read(lines, 10);
  t.equal(reader.problemCount, 50);
  t.equal(reader.problems.length, 10);
  t.equal(rows.length, 0);
  t.same(reader.problems.map((p) => p.line), [2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
});

t.test('property: any generated file reads back clean, row for row', async () => {
  const alg = fc.constantFrom(...inventory.KEY_ALGORITHMS);
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 30 }),
      fc.constantFrom('csv' as const, 'out' as const),
      fc.uniqueArray(fc.integer({ min: 1, max: 15 }), { minLength: 1, maxLength: 3 }),
      fc.array(fc.tuple(alg, alg), { minLength: 3, maxLength: 3 }),
      fc.boolean(),
      fc.nat({ max: 1_000_000 }),
      fc.boolean(),
      (count, format, indexes, algs, secrets, firstSerial, certificates) => {
        const keysets = indexes.map((index, i) => ({ index, kicAlg: algs[i]![0], kidAlg: algs[i]![1] }));
        const certificate = (_: string, serial: number) => shapedCertificate(100 + (serial % 1900), (i) => (i ^ serial) & 0xff);
        const { reader, rows } = read([...inventory.generateVendorFile({
          count, format, random: randomBytes, keysets, networkSecrets: secrets, firstSerial, ...(certificates ? { certificate } : {}),
        })]);
        return reader.problemCount === 0 && rows.length === count && rows.every((r, i) =>
          r.iccid === inventory.iccidForSerial(firstSerial + i) && r.keysets.length === keysets.length
          && (certificates
            ? Buffer.from(r.attestationCertificate!).equals(certificate(r.iccid, firstSerial + i))
            : r.attestationCertificate === undefined));
      },
    ),
    { numRuns: 60 },
  );
});
