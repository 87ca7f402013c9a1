import fc from 'fast-check';
import t from 'tap';
import { inventory } from '../../sim-applet/index.js';

const ok = inventory.iccidForSerial(42);

t.test('ICCID (E.118)', async (t) => {
  t.equal(inventory.checkIccid(ok), null);
  t.equal(ok.length, 19);
  t.equal(inventory.checkIccid(ok.slice(0, -1) + String((Number(ok.at(-1)) + 1) % 10))?.code, 'ICCID_CHECK_DIGIT');
  t.equal(inventory.checkIccid('12' + ok.slice(2))?.code, 'ICCID_FORMAT', 'not the telecom MII 89');
  t.equal(inventory.checkIccid(ok.slice(0, 17))?.code, 'ICCID_FORMAT', 'too short');
  t.equal(inventory.checkIccid(ok + '00')?.code, 'ICCID_FORMAT', 'too long');
  t.equal(inventory.checkIccid(ok.slice(0, -2) + 'F' + ok.at(-1))?.code, 'ICCID_FORMAT', 'BCD filler is not a digit');
});

t.test('IMSI is 15 digits', async (t) => {
  t.equal(inventory.checkImsi('001010000000042'), null);
  t.equal(inventory.checkImsi('00101000000004')?.code, 'IMSI_FORMAT');
  t.equal(inventory.checkImsi('00101000000004x')?.code, 'IMSI_FORMAT');
});

t.test('MSISDN in E.164 form', async (t) => {
  t.equal(inventory.normalizeMsisdn('+447700900123'), '+447700900123');
  t.equal(inventory.normalizeMsisdn('447700900123'), '+447700900123');
  t.same(typeof inventory.normalizeMsisdn('+0447700900'), 'object', 'no leading 0 country code');
  t.same(typeof inventory.normalizeMsisdn('+1234567890123456'), 'object', 'over 15 digits');
  t.same(typeof inventory.normalizeMsisdn('+44 7700'), 'object');
});

t.test('TAR, keys, certificate serial', async (t) => {
  t.equal(inventory.checkTar('B00010'), null);
  t.equal(inventory.checkTar('B0001')?.code, 'TAR_FORMAT');
  t.ok(inventory.keyLengthFits('des', 8));
  t.ok(inventory.keyLengthFits('3des2', 16));
  t.ok(inventory.keyLengthFits('3des3', 24));
  for (const n of [16, 24, 32]) t.ok(inventory.keyLengthFits('aes', n));
  t.notOk(inventory.keyLengthFits('aes', 8));
  t.notOk(inventory.keyLengthFits('des', 16));
  t.equal(inventory.checkCertificateSerial('01'), null);
  t.equal(inventory.checkCertificateSerial('00')?.code, 'CERT_SERIAL_FORMAT');
  t.equal(inventory.checkCertificateSerial('ab'.repeat(21))?.code, 'CERT_SERIAL_FORMAT');
});

t.test('CSV lines (RFC 4180)', async (t) => {
  t.same(inventory.splitCsvLine('a, b ,c'), ['a', 'b', 'c']);
  t.same(inventory.splitCsvLine('"a,1","b""q",c'), ['a,1', 'b"q', 'c']);
  t.same(inventory.splitCsvLine('a,,'), ['a', '', '']);
  t.equal(inventory.splitCsvLine('"open,b'), null);
  t.equal(inventory.splitCsvLine('a"b,c'), null);
  t.same(inventory.splitCsvLine('\u00a0a\t,b\u3000,\ufeffc\r'), ['a', 'b', 'c'], 'every character trim() removes');
});

t.test('property: an unquoted CSV line splits and trims as split + trim would', async () => {
  const blank = fc.constantFrom(' ', '\t', '\u00a0', '\u2003', '\u3000', '\ufeff', '\u2028', '\u180e', '');
  const field = fc.tuple(blank, fc.stringMatching(/^[0-9A-Za-z+ \u00e9]{0,8}$/), blank).map((p) => p.join(''));
  fc.assert(
    fc.property(fc.array(field, { minLength: 1, maxLength: 12 }), (fields) => {
      const line = fields.join(',');
      return JSON.stringify(inventory.splitCsvLine(line)) === JSON.stringify(line.split(',').map((f) => f.trim()));
    }),
    { numRuns: 500 },
  );
});

t.test('hex: either case, even length, nothing else', async (t) => {
  t.ok(inventory.isHex('00aAfF9'.slice(0, 6)));
  t.ok(inventory.isHex(''));
  t.notOk(inventory.isHex('abc'));
  for (const bad of ['0g', 'g0', '0x', ' 0', '0\u0130', '\uff10\uff10']) t.notOk(inventory.isHex(bad), JSON.stringify(bad));
});
