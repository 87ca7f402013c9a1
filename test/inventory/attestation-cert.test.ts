/**
 * The ATTESTATION_CERT column through the vendor file reader: a card factory's file (the
 * generator with real certificates from the vendor CA) read back in both forms, the DER
 * bytes packed the same by the fast path and the general path, an empty field meaning none,
 * and every bad value refused with its line and column, by both paths and by the import's
 * streaming read.
 */
import { randomBytes, X509Certificate } from 'node:crypto';
import t, { type Test } from 'tap';
import { inventory } from '../../sim-applet/index.js';
import { packed, viaBytes, viaText } from './paths.js';
import { readInventory } from '../../provisioning-api/import/rows.js';
import { b64, cardFactory, minimalCertificate, shapedCertificate, tlv } from './certificates.js';

const enc = new TextEncoder();


/** A card factory that remembers what it issued, by serial, and checks what it is asked. */
function recordingFactory(t: Test) {
  const issue = cardFactory();
  const issued = new Map<number, Uint8Array>();
  const certificate = (iccid: string, serial: number): Uint8Array => {
    t.equal(iccid, inventory.iccidForSerial(serial), `the issuer is given card ${serial}'s ICCID`);
    const der = issue(iccid);
    issued.set(serial, der);
    return der;
  };
  return { certificate, issued };
}

/** Replace the value of `column` on data line `row` (0-based), in either form. */
function setField(lines: string[], row: number, column: string, value: string): string[] {
  const csv = !lines[0]!.startsWith('*');
  const header = csv ? lines[0]!.split(',') : lines.find((l) => l.startsWith('var_out:'))!.slice('var_out:'.length).trim().split('/');
  const at = header.indexOf(column);
  if (at < 0) throw new Error(`no column ${column}`);
  const first = csv ? 1 : lines.findIndex((l) => l.startsWith('var_out:')) + 1;
  return lines.map((l, i) => {
    if (i !== first + row) return l;
    const f = l.split(csv ? ',' : ' ');
    f[at] = value;
    return f.join(csv ? ',' : ' ');
  });
}

t.test('a card factory file: the reader accepts it and every certificate round-trips, both forms', async (t) => {
  for (const format of ['csv', 'out'] as const) {
    const { certificate, issued } = recordingFactory(t);
    const lines = [...inventory.generateVendorFile({ count: 12, format, random: randomBytes, firstSerial: 3000, attestationSerial: true, certificate })];
    t.equal(issued.size, 12, `${format}: one certificate per card`);
    const header = format === 'csv' ? lines[0]! : lines.find((l) => l.startsWith('var_out:'))!;
    t.match(header, format === 'csv' ? /,ATTESTATION_CERT$/ : /\/ATTESTATION_CERT$/, `${format}: the column is named`);
    const general = viaText(lines);
    const fast = viaBytes(lines);
    t.same(general.reader.problems, [], `${format}: no problem`);
    t.equal(general.typed.length, 12);
    t.same(fast.reader.problems, []);
    t.same(packed(fast.rows), packed(general.rows), `${format}: both paths pack the same bytes`);
    for (let r = 0; r < 12; r++) {
      const der = issued.get(3000 + r)!;
      const row = general.typed[r]!;
      t.same(row.attestationCertificate, der, `${format}: row ${r}'s DER as issued`);
      t.same(fast.rows.certificate(r), der, `${format}: row ${r} packed`);
      t.equal(new X509Certificate(row.attestationCertificate!).subject, `CN=${row.iccid}`, 'a certificate for that card');
    }
  }
});

t.test('a CSV file with certificates takes the fast path', async (t) => {
  const lines = [...inventory.generateVendorFile({ count: 5, format: 'csv', random: randomBytes, certificate: () => shapedCertificate(700) })];
  const reader = new inventory.VendorFileReader();
  reader.push(lines[0]!);
  t.not(reader.columnLayout!.attestationCertificate, null);
  t.equal(reader.columnLayout!.attestationCertificate, lines[0]!.split(',').indexOf('ATTESTATION_CERT'));
  const decoder = new inventory.CsvRowDecoder(reader.columnLayout!);
  const rows = new inventory.PackedRows();
  for (let i = 1; i < lines.length; i++) {
    const b = enc.encode(lines[i]!);
    t.ok(decoder.decode(b, 0, b.length, i + 1, rows), `line ${i + 1} judged on its bytes`);
  }
  t.same(rows.certificate(4), shapedCertificate(700));
});

t.test('an empty field: no certificate for that row', async (t) => {
  const certificate = (_: string, serial: number) => (serial % 2 === 0 ? new Uint8Array(0) : shapedCertificate(250));
  const lines = [...inventory.generateVendorFile({ count: 4, format: 'csv', random: randomBytes, certificate })];
  t.match(lines[1], /,$/, 'the field is empty');
  const general = viaText(lines);
  const fast = viaBytes(lines);
  t.same(general.reader.problems, []);
  t.same(packed(fast.rows), packed(general.rows));
  t.same(general.typed.map((r) => r.attestationCertificate?.length ?? null), [null, 250, null, 250], 'rows 0 and 2 have none');
  t.notOk('attestationCertificate' in general.typed[0]!, 'the key is absent, not undefined');
  t.same([0, 1, 2, 3].map((r) => fast.rows.index[r * inventory.ROW_FIELDS + inventory.ROW_CERT]), [-1, 250, -1, 250]);
  t.same([0, 1, 2, 3].map((r) => fast.rows.certificate(r)?.length ?? null), [null, 250, null, 250]);
  // Quoted empty, or spaces only: still none (the general path's CSV rules).
  const quoted = viaText(setField(lines, 1, 'ATTESTATION_CERT', '""'));
  t.same(quoted.reader.problems, []);
  t.equal(quoted.typed[1]!.attestationCertificate, undefined);
  // An out file's fields are whitespace-separated: it cannot hold an empty one, and the
  // generator will not write a line that reads as a field too few.
  t.throws(() => [...inventory.generateVendorFile({ count: 4, format: 'out', random: randomBytes, certificate })], TypeError);
  // Without the column, the layout says so and no row has one.
  const plain = viaText([...inventory.generateVendorFile({ count: 2, format: 'csv', random: randomBytes })]);
  t.equal(plain.reader.columnLayout!.attestationCertificate, null);
  t.equal(plain.rows.certificate(0), null);
});

const good = shapedCertificate(300);
const goodText = b64(good);
const withHead = (head: number[]) => {
  const der = shapedCertificate(300);
  der.set(head, 0);
  return b64(der);
};

const BAD: [string, string, inventory.InventoryErrorCode][] = [
  ['a bad character', goodText.slice(0, 50) + '*' + goodText.slice(51), 'CERT_BASE64'],
  ['base64url characters', goodText.replace(/\+/g, '-').replace(/\//g, '_').replace(/^./, '_'), 'CERT_BASE64'],
  ['a bad length', goodText + 'AAA', 'CERT_BASE64'],
  ['a misplaced =', goodText.slice(0, 50) + '=' + goodText.slice(51), 'CERT_BASE64'],
  ['PEM armour', '-----BEGIN' + goodText.slice(10), 'CERT_BASE64'],
  ['too short (63 bytes)', b64(minimalCertificate(63)), 'CERT_SIZE'],
  ['too long (2049 bytes)', b64(shapedCertificate(2049)), 'CERT_SIZE'],
  ['not a SEQUENCE', withHead([0x02]), 'CERT_DER'],
  ['a length that does not match', withHead([0x30, 0x82, 0x01, 0x20]), 'CERT_DER'],
  ['a byte after the certificate', b64(Uint8Array.from([...good, 0x00])), 'CERT_DER'],
  ['the inner element not a SEQUENCE', b64(tlv(0x30, [0x04, 0x40, ...new Array(64).fill(7)])), 'CERT_DER'],
];

t.test('each bad value is refused with its line and column, by both paths and in both forms', async (t) => {
  const certificate = (_: string, serial: number) => shapedCertificate(200 + serial);
  const csv = [...inventory.generateVendorFile({ count: 6, format: 'csv', random: randomBytes, certificate })];
  const out = [...inventory.generateVendorFile({ count: 6, format: 'out', random: randomBytes, certificate })];
  const outFirst = out.findIndex((l) => l.startsWith('var_out:')) + 2; // the physical line of data row 0
  for (const [label, value, code] of BAD) {
    for (const row of [0, 4]) {
      const lines = setField(csv, row, 'ATTESTATION_CERT', value);
      const general = viaText(lines);
      const fast = viaBytes(lines);
      t.same(general.reader.problems.map((p) => [p.line, p.column, p.code]), [[row + 2, 'ATTESTATION_CERT', code]], `CSV, ${label}, row ${row}: ${code} on line ${row + 2}`);
      t.same(fast.reader.problems, general.reader.problems, `CSV, ${label}: the fast path sends it to the same verdict`);
      t.same(packed(fast.rows), packed(general.rows), `CSV, ${label}: the other rows packed alike`);
      t.equal(fast.rows.count, 5, 'the other rows are valid');
    }
    const o = viaText(setField(out, 3, 'ATTESTATION_CERT', value));
    t.same(o.reader.problems.map((p) => [p.line, p.column, p.code]), [[outFirst + 3, 'ATTESTATION_CERT', code]], `out file, ${label}: line ${outFirst + 3}`);
  }
});

t.test("the import's streaming read reports the problem with its line", async (t) => {
  const lines = [...inventory.generateVendorFile({ count: 300, format: 'csv', random: randomBytes, certificate: (_, s) => shapedCertificate(150 + s) })];
  const text = setField(lines, 250, 'ATTESTATION_CERT', withHead([0x31])).join('\n') + '\n';
  const bytes = Buffer.from(text);
  // In chunks of odd sizes, so that lines (and certificates) straddle them.
  const chunks = [];
  for (let at = 0; at < bytes.length; at += 4099) chunks.push(bytes.subarray(at, at + 4099));
  const reader = new inventory.VendorFileReader();
  const seen: (number | null)[] = [];
  await readInventory({
    source: chunks, reader, batchRows: 64,
    onRows: (batch) => {
      for (let r = 0; r < batch.count; r++) seen.push(batch.certificate(r)?.length ?? null);
    },
  });
  t.same(reader.problems.map((p) => [p.line, p.column, p.code]), [[252, 'ATTESTATION_CERT', 'CERT_DER']]);
  t.equal(reader.rowCount, 300);
  t.ok(seen.length > 0 && seen.length <= 250, 'only rows before the problem were handed over');
  t.same(seen, seen.map((_, i) => 150 + i), 'each with its certificate');

  const clean = Buffer.from(lines.join('\n') + '\n');
  const again = new inventory.VendorFileReader();
  const all: number[] = [];
  await readInventory({
    source: [clean.subarray(0, 1000), clean.subarray(1000, 1001), clean.subarray(1001)], reader: again,
    onRows: (batch) => {
      for (let r = 0; r < batch.count; r++) all.push(batch.certificate(r)!.length);
    },
  });
  t.equal(again.problemCount, 0);
  t.same(all, lines.slice(1).map((_, i) => 150 + i), 'a clean file hands over every certificate');
});

t.test('header: the column is known, once', async (t) => {
  const lines = [...inventory.generateVendorFile({ count: 1, format: 'csv', random: randomBytes, certificate: () => good })];
  const twice = viaText([lines[0] + ',ATTESTATION_CERT', lines[1] + ',' + goodText]);
  t.same(twice.reader.problems.map((p) => [p.line, p.column, p.code]), [[1, 'ATTESTATION_CERT', 'DUPLICATE_COLUMN']]);
  const lower = viaText([lines[0]!.replace('ATTESTATION_CERT', 'attestation_cert'), lines[1]!]);
  t.same(lower.reader.problems, [], 'names are case-insensitive');
  t.same(lower.typed[0]!.attestationCertificate, good);
});
