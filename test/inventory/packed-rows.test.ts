/**
 * The byte-level fast path of the vendor file reader (CSV data lines judged on their bytes
 * and packed for the import) against the reader's general path on the same lines: the
 * same rows, the same bytes, the same problems, whatever the line holds. Random valid
 * lines are mutated (characters changed, dropped, doubled, quoted, padded, case flipped,
 * a CR added) and each file is read both ways.
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import t, { type Test } from 'tap';
import { inventory } from '../../sim-applet/index.js';
import { packed, viaBytes, viaText } from './paths.js';
import { b64, cardFactory, minimalCertificate, shapedCertificate } from './certificates.js';

const enc = new TextEncoder();


function same(t: Test, lines: string[], label: string) {
  const a = viaBytes(lines);
  const b = viaText(lines);
  t.same(a.reader.problems, b.reader.problems, `${label}: problems`);
  t.equal(a.reader.rowCount, b.reader.rowCount, `${label}: row count`);
  t.same(packed(a.rows), packed(b.rows), `${label}: packed rows`);
}

/** Certificate-shaped DER of a size that varies with the card (64..~700 bytes); every 7th card has none. */
const shaped = (_iccid: string, serial: number): Uint8Array =>
  serial % 7 === 3 ? new Uint8Array(0) : serial % 5 === 0 ? minimalCertificate(64 + (serial % 3)) : shapedCertificate(100 + ((serial * 97) % 600), (i) => (i + serial) & 0xff);
const factory = cardFactory();

const FILES: [string, Partial<inventory.VendorFileOptions>][] = [
  ['one AES keyset', {}],
  ['network secrets dropped', { networkSecrets: true }],
  ['attestation serial', { attestationSerial: true }],
  ['three keysets, mixed algorithms', {
    keysets: [{ index: 1, kicAlg: 'aes', kidAlg: 'aes' }, { index: 2, kicAlg: '3des2', kidAlg: 'des' }, { index: 5, kicAlg: '3des3', kidAlg: 'aes' }],
    attestationSerial: true, networkSecrets: true,
  }],
  ['attestation certificates, some rows without', { attestationSerial: true, certificate: shaped }],
  ['real attestation certificates, two keysets', {
    keysets: [{ index: 1, kicAlg: 'aes', kidAlg: 'aes' }, { index: 2, kicAlg: '3des2', kidAlg: 'des' }],
    certificate: (iccid) => factory(iccid), networkSecrets: true,
  }],
];

t.test('clean lines take the fast path and pack exactly what the general path does', async (t) => {
  for (const [label, options] of FILES) {
    const lines = [...inventory.generateVendorFile({ count: 50, format: 'csv', random: randomBytes, ...options })];
    same(t, lines, label);
    // The fast path did take them: the decoder alone accepts every data line.
    const reader = new inventory.VendorFileReader();
    reader.push(lines[0]!);
    const decoder = new inventory.CsvRowDecoder(reader.columnLayout!);
    const rows = new inventory.PackedRows();
    const taken = lines.slice(1).filter((l, i) => {
      const b = enc.encode(l);
      return decoder.decode(b, 0, b.length, i + 2, rows);
    }).length;
    t.equal(taken, 50, `${label}: every clean line decoded on its bytes`);
    t.equal(rows.text(0, inventory.ROW_ICCID), lines[1]!.split(',')[0], `${label}: ICCID packed as written`);
    t.equal(rows.text(0, inventory.ROW_MSISDN), lines[1]!.split(',')[2], `${label}: MSISDN packed with its +`);
    // The certificate column, packed as DER between the serial and the keyset plaintext.
    const header = lines[0]!.split(',');
    const certAt = header.indexOf('ATTESTATION_CERT');
    if (certAt < 0) {
      t.equal(rows.index[inventory.ROW_CERT], -1, `${label}: no certificate column, no certificate`);
      continue;
    }
    for (let r = 0; r < rows.count; r++) {
      const text = lines[r + 1]!.split(',')[certAt]!;
      const i = r * inventory.ROW_FIELDS;
      const x = rows.index;
      if (text === '') {
        t.equal(rows.certificate(r), null, `${label}: row ${r} has none`);
        t.equal(x[i + inventory.ROW_CERT], -1);
        continue;
      }
      const der = Buffer.from(text, 'base64');
      t.same(rows.certificate(r), der, `${label}: row ${r}'s certificate as DER`);
      t.equal(x[i + inventory.ROW_CERT], der.length);
      const plainStart = rows.plainStart(r);
      t.same(rows.bytes.subarray(plainStart - der.length, plainStart), der, 'right before the keyset plaintext');
      t.same(inventory.decodeKeysets(rows.bytes.subarray(plainStart, plainStart + x[i + inventory.ROW_PLAIN]!)).map((k) => k.index), header.filter((h) => /^KIC\d+$/.test(h)).map((h) => Number(h.slice(3))), 'the plaintext follows');
    }
    t.ok(rows.certificate(0) !== null || rows.certificate(1) !== null, `${label}: certificates were packed`);
  }
});

t.test('the fast path refuses what it cannot judge, and nothing is packed then', async (t) => {
  const lines = [...inventory.generateVendorFile({ count: 1, format: 'csv', random: randomBytes, attestationSerial: true })];
  const reader = new inventory.VendorFileReader();
  reader.push(lines[0]!);
  const decoder = new inventory.CsvRowDecoder(reader.columnLayout!);
  const good = lines[1]!;
  const variants = [
    ['a space', good.replace(',', ', ')],
    ['a quote', `"${good.slice(0, 5)}"${good.slice(5)}`],
    ['a wrong check digit', good.replace(/^(\d{18})(\d)/, (_, a: string, d: string) => a + String((Number(d) + 1) % 10))],
    ['a short IMSI', good.replace(/,(\d{15}),/, (_, i: string) => `,${i.slice(1)},`)],
    ['a missing field', good.replace(/,[^,]*$/, '')],
    ['an extra field', `${good},x`],
    ['an empty line', ''],
    ['a non-ASCII byte', good.replace('+', '\u00e9')],
  ] as const;
  for (const [label, line] of variants) {
    const rows = new inventory.PackedRows();
    const b = enc.encode(line);
    t.equal(decoder.decode(b, 0, b.length, 2, rows), false, label);
    t.equal(rows.count, 0, `${label}: no row`);
    t.equal(rows.used, 0, `${label}: no bytes`);
    same(t, [lines[0]!, line], label);
  }
});

t.test('mutated lines: both paths agree on every problem and every row', async (t) => {
  const alphabet = '0123456789abcdefABCDEF+, "\t\r\u00e9xX'.split('');
  const mutation = fc.oneof(
    fc.record({ kind: fc.constant('set' as const), at: fc.nat(), ch: fc.constantFrom(...alphabet) }),
    fc.record({ kind: fc.constant('drop' as const), at: fc.nat(), ch: fc.constant('') }),
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), ch: fc.constantFrom(...alphabet) }),
    fc.record({ kind: fc.constant('case' as const), at: fc.nat(), ch: fc.constant('') }),
  );
  const options = fc.constantFrom(...FILES.map(([, o]) => o));
  let mutatedRows = 0;
  await fc.assert(
    fc.property(options, fc.array(fc.tuple(fc.nat(9), fc.array(mutation, { minLength: 1, maxLength: 3 })), { maxLength: 6 }), (o, edits) => {
      const lines = [...inventory.generateVendorFile({ count: 10, format: 'csv', random: randomBytes, ...o })];
      for (const [row, ms] of edits) {
        let line = lines[row + 1]!;
        for (const m of ms) {
          const at = m.at % (line.length + 1);
          if (m.kind === 'set') line = line.slice(0, at) + m.ch + line.slice(at + 1);
          else if (m.kind === 'drop') line = line.slice(0, at) + line.slice(at + 1);
          else if (m.kind === 'insert') line = line.slice(0, at) + m.ch + line.slice(at);
          else line = line.slice(0, at) + line.slice(at).toLowerCase();
        }
        lines[row + 1] = line;
        mutatedRows++;
      }
      const a = viaBytes(lines);
      const b = viaText(lines);
      return JSON.stringify([a.reader.problems, a.reader.rowCount, packed(a.rows)]) === JSON.stringify([b.reader.problems, b.reader.rowCount, packed(b.rows)]);
    }),
    { numRuns: 400 },
  );
  t.ok(mutatedRows > 400, 'lines were mutated');
});

t.test('a header the general path reads, then data on bytes; out files go the general way', async (t) => {
  const outLines = [...inventory.generateVendorFile({ count: 5, format: 'out', random: randomBytes })];
  same(t, outLines, 'out file');
  t.equal(viaBytes(outLines).rows.count, 5, 'out file rows packed');
  const bom = [...inventory.generateVendorFile({ count: 5, format: 'csv', random: randomBytes })];
  bom[0] = '\uFEFF' + bom[0]!;
  same(t, bom, 'CSV with a byte order mark');
  t.equal(viaBytes(bom).rows.count, 5, 'BOM file rows packed');
});

t.test('edge values of every checked column: both paths agree', async (t) => {
  const lines = [...inventory.generateVendorFile({
    count: 1, format: 'csv', random: randomBytes, attestationSerial: true, certificate: () => shapedCertificate(300),
    keysets: [{ index: 1, kicAlg: 'aes', kidAlg: 'aes' }, { index: 2, kicAlg: 'des', kidAlg: '3des2' }],
  })];
  const header = lines[0]!.split(',');
  const withField = (column: string, value: string): string[] => {
    const fields = lines[1]!.split(',');
    fields[header.indexOf(column)] = value;
    return [lines[0]!, fields.join(',')];
  };
  const iccid = lines[1]!.split(',')[0]!;
  const edges: [string, string[]][] = [
    ['ICCID', [iccid.slice(0, 18), iccid + '0', '88' + iccid.slice(2), iccid.slice(0, -1) + 'a', '8900000000000000000', '89000000000000000000', '89000000000000000001']],
    ['IMSI', ['00101000000000', '0010100000000000', '00101000000000a', '001010000000000']],
    ['MSISDN', ['+04477000000', '04477000000', '4477000000', '+1234567', '+12345678', '+123456789012345', '+1234567890123456', '++44770000', '44+770000000', '+']],
    ['TAR', ['b0001', 'b000100', 'B0001F', 'b0001g', '']],
    ['ATTESTATION_SN', ['', '0', '00', '0001', 'abc', 'ABCD', '1'.repeat(40), '1'.repeat(42), 'zz']],
    ['ATTESTATION_CERT', certificateEdges()],
    ['KIC1', ['', '00'.repeat(15), '00'.repeat(24), '00'.repeat(32), '00'.repeat(33), 'AbCd'.repeat(8), '0'.repeat(31)]],
    ['KIC2', ['00'.repeat(8), '00'.repeat(16), 'g0'.repeat(8)]],
    ['KID2', ['00'.repeat(16), '00'.repeat(24)]],
    ['KIC1_ALG', ['AES', 'Aes', '3DES2', 'des3', '', 'aes2']],
    ['KID2_ALG', ['3des3', 'DES', 'des']],
  ];
  let cases = 0;
  for (const [column, values] of edges) {
    t.ok(header.includes(column), `the file has ${column}`);
    for (const v of values) {
      same(t, withField(column, v), `${column}=${JSON.stringify(v)}`);
      cases++;
    }
  }
  // Keysets given in part, or not at all.
  same(t, withField('KID1', ''), 'keyset 1 incomplete');
  const none = lines[1]!.split(',');
  for (const c of ['KIC1', 'KID1', 'KIK1', 'KIC2', 'KID2', 'KIK2']) none[header.indexOf(c)] = '';
  same(t, [lines[0]!, none.join(',')], 'no keyset');
  t.ok(cases > 80);
});

/** Values at and around every rule of the certificate field. */
function certificateEdges(): string[] {
  const text = b64(shapedCertificate(300));
  const odd = b64(shapedCertificate(301));
  const head = (bytes: number[]) => {
    const der = shapedCertificate(300);
    der.set(bytes, 0);
    return b64(der);
  };
  return [
    '', text, text.toLowerCase(), b64(minimalCertificate(64)), b64(minimalCertificate(63)), b64(shapedCertificate(2048)), b64(shapedCertificate(2049)),
    b64(shapedCertificate(400, undefined, 3, 2)), odd, odd.replace(/=+$/, ''), odd.replace(/==$/, 'A='), odd.replace(/.==$/, '==='), odd.replace(/A==$/, 'B=='),
    text.slice(1), text.slice(0, 30) + '=' + text.slice(31), text.slice(0, 30) + '-' + text.slice(31), text.slice(0, 30) + '\u00e9' + text.slice(31),
    ` ${text}`, `${text} `, text.slice(0, 30) + ' ' + text.slice(31), head([0x31]), head([0x30, 0x80]), head([0x30, 0x82, 0x01, 0x27]), head([0x30, 0x82, 0x01, 0x28, 0x04]),
    head([0x30, 0x82, 0x01, 0x28, 0x30, 0x82, 0x01, 0x29]), head([0x30, 0x81, 0xff]),
  ];
}

t.test('the room reserved for a line holds its row, certificate included', async (t) => {
  // Each line packed into an empty buffer: the fast path's reserve alone makes its room, so a
  // row longer than that would lose its last bytes (typed array writes past the end are dropped).
  const lines = [...inventory.generateVendorFile({
    count: 40, format: 'csv', random: randomBytes, attestationSerial: true,
    certificate: (_iccid, serial) => shapedCertificate(serial % 2 === 0 ? 2048 : 100 + serial, (i) => (i * serial) & 0xff),
    keysets: [{ index: 1, kicAlg: 'des', kidAlg: 'des' }, { index: 2, kicAlg: 'des', kidAlg: 'des' }],
  })];
  const reader = new inventory.VendorFileReader();
  reader.push(lines[0]!);
  const decoder = new inventory.CsvRowDecoder(reader.columnLayout!);
  for (let i = 1; i < lines.length; i++) {
    const b = enc.encode(lines[i]!);
    const tight = new inventory.PackedRows();
    tight.bytes = new Uint8Array(0);
    t.ok(decoder.decode(b, 0, b.length, i + 1, tight), `line ${i + 1} decoded`);
    t.equal(tight.bytes.length, b.length + 16, 'the room is the reserve');
    t.ok(tight.used <= tight.bytes.length, 'the row fits in it');
    const row = reader.push(lines[i]!);
    const general = new inventory.PackedRows();
    general.append(row!, reader.line);
    t.same(packed(tight), packed(general), `line ${i + 1}: every byte the general path packs`);
    t.equal(tight.certificate(0)?.length, i % 2 === 1 ? 2048 : 100 + i - 1);
  }
});
