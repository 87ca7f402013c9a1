/**
 * The ATTESTATION_CERT field checker (sim-applet/inventory/certificate-der.ts): strict
 * canonical base64, 64..2048 bytes, one DER SEQUENCE whose first element is a SEQUENCE.
 * Each fault on its own; the byte decoder and the string decoder agreeing on any text; and
 * Node's lax decoder as the reference for what valid text decodes to.
 */
import { X509Certificate } from 'node:crypto';
import fc from 'fast-check';
import t from 'tap';
import { inventory } from '../../sim-applet/index.js';
import { b64, cardFactory, minimalCertificate, shapedCertificate, tlv } from './certificates.js';

const { CertificateFault: F } = inventory;
const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

/** The byte decoder's verdict on `text`, placed mid-buffer, decoded mid-buffer. */
function viaBytes(text: string): number | Uint8Array {
  const src = ascii(`,,${text},`);
  const out = new Uint8Array(5 + 2048 + 5).fill(0xee);
  const r = inventory.decodeCertificateBase64Into(src, 2, src.length - 1, out, 5);
  return r < 0 ? r : out.slice(5, 5 + r);
}

t.test('canonical base64 of certificate-shaped DER decodes to its bytes, both ways', async (t) => {
  const ders = [
    minimalCertificate(64),
    minimalCertificate(65),
    minimalCertificate(66),
    shapedCertificate(100),
    shapedCertificate(127 + 2 + 84),
    shapedCertificate(300),
    shapedCertificate(2048),
    shapedCertificate(500, undefined, 4, 3), // long form, not minimal: accepted
    shapedCertificate(200, undefined, 1, 2),
    tlv(0x30, [...tlv(0x30, new Array(100).fill(1), 1)], 2), // a TBS of 100 bytes in 0x81 0x64 form inside 0x82 0x00 0x67
  ];
  for (const der of ders) {
    const text = b64(der);
    t.equal(inventory.encodeCertificateBase64(der), text, `${der.length} bytes: encoded as Node encodes`);
    const got = inventory.decodeCertificateBase64(text);
    t.same(got, der, `${der.length} bytes: the string decoder gives the bytes`);
    t.ok(got instanceof Uint8Array && got.length === der.length, 'exact length');
    t.same(viaBytes(text), der, `${der.length} bytes: the byte decoder gives the bytes`);
    t.equal(inventory.checkCertificateShape(der, 0, der.length), 0);
  }
});

t.test('a real attestation certificate from the card factory', async (t) => {
  const iccid = inventory.iccidForSerial(42);
  const der = cardFactory()(iccid);
  const got = inventory.decodeCertificateBase64(b64(der));
  t.ok(got instanceof Uint8Array);
  t.same(got, der);
  t.equal(new X509Certificate(got as Uint8Array).subject, `CN=${iccid}`, 'the bytes are the certificate');
});

const good = shapedCertificate(300);
const goodText = b64(good);

/** Certificate-shaped DER except for the bytes given at the start. */
function withHead(head: number[], size = 300): Uint8Array {
  const der = shapedCertificate(size);
  der.set(head, 0);
  return der;
}

const cases: [string, string, inventory.CertificateFault, inventory.InventoryErrorCode][] = [
  ['a character outside the alphabet', goodText.slice(0, 10) + '!' + goodText.slice(11), F.BASE64_CHARACTER, 'CERT_BASE64'],
  ['base64url "-"', goodText.slice(0, 20) + '-' + goodText.slice(21), F.BASE64_CHARACTER, 'CERT_BASE64'],
  ['base64url "_"', goodText.slice(0, 20) + '_' + goodText.slice(21), F.BASE64_CHARACTER, 'CERT_BASE64'],
  ['a space', goodText.slice(0, 20) + ' ' + goodText.slice(21), F.BASE64_CHARACTER, 'CERT_BASE64'],
  ['a non-ASCII character', goodText.slice(0, 20) + '\u00e9' + goodText.slice(21), F.BASE64_CHARACTER, 'CERT_BASE64'],
  ['a bad character in the padded quad', b64(shapedCertificate(301)).replace(/..==$/, 'A*=='), F.BASE64_CHARACTER, 'CERT_BASE64'],
  ['a length not a multiple of 4', goodText.slice(0, -1), F.BASE64_LENGTH, 'CERT_BASE64'],
  ['padding missing', b64(shapedCertificate(301)).replace(/=+$/, ''), F.BASE64_LENGTH, 'CERT_BASE64'],
  ['a line break inside', goodText.slice(0, 76) + '\n' + goodText.slice(76), F.BASE64_LENGTH, 'CERT_BASE64'],
  ['= in the middle', goodText.slice(0, 40) + '=' + goodText.slice(41), F.BASE64_PADDING, 'CERT_BASE64'],
  ['= before a character at the end', b64(shapedCertificate(301)).replace(/==$/, '=A'), F.BASE64_PADDING, 'CERT_BASE64'],
  ['three =', b64(shapedCertificate(301)).replace(/.==$/, '==='), F.BASE64_PADDING, 'CERT_BASE64'],
  ['padding bits not zero (==)', b64(shapedCertificate(301)).replace(/(.)==$/, (_, c: string) => String.fromCharCode(c.charCodeAt(0) + 1) + '=='), F.BASE64_NONCANONICAL, 'CERT_BASE64'],
  ['63 bytes', b64(minimalCertificate(63)), F.TOO_SHORT, 'CERT_SIZE'],
  ['4 characters', 'MAA=', F.TOO_SHORT, 'CERT_SIZE'],
  ['2049 bytes', b64(shapedCertificate(2049)), F.TOO_LONG, 'CERT_SIZE'],
  ['not a SEQUENCE (SET)', b64(withHead([0x31])), F.NOT_SEQUENCE, 'CERT_DER'],
  ['not a SEQUENCE (PEM text, base64 again)', Buffer.from('-----BEGIN CERTIFICATE-----\n' + goodText.slice(0, 60)).toString('base64'), F.NOT_SEQUENCE, 'CERT_DER'],
  ['an indefinite length', b64(withHead([0x30, 0x80])), F.LENGTH_FORM, 'CERT_DER'],
  ['a reserved length form', b64(withHead([0x30, 0xff])), F.LENGTH_FORM, 'CERT_DER'],
  ['a length one short', b64(withHead([0x30, 0x82, 0x01, 0x27])), F.LENGTH_MISMATCH, 'CERT_DER'],
  ['a length one long', b64(withHead([0x30, 0x82, 0x01, 0x29])), F.LENGTH_MISMATCH, 'CERT_DER'],
  ['a trailing byte after the SEQUENCE', b64(Uint8Array.from([...good, 0])), F.LENGTH_MISMATCH, 'CERT_DER'],
  ['two certificates', b64(Uint8Array.from([...minimalCertificate(64), ...minimalCertificate(64)])), F.LENGTH_MISMATCH, 'CERT_DER'],
  ['a huge long-form length', b64(withHead([0x30, 0x84, 0x7f, 0xff, 0xff, 0xff])), F.LENGTH_MISMATCH, 'CERT_DER'],
  ['inner element an INTEGER', b64(withHead([0x30, 0x82, 0x01, 0x28, 0x02])), F.INNER_NOT_SEQUENCE, 'CERT_DER'],
  ['inner element a context tag', b64(withHead([0x30, 0x82, 0x01, 0x28, 0xa0])), F.INNER_NOT_SEQUENCE, 'CERT_DER'],
  ['inner length past the end', b64(withHead([0x30, 0x82, 0x01, 0x28, 0x30, 0x82, 0x01, 0x29])), F.INNER_LENGTH, 'CERT_DER'],
  ['inner length truncated (126 octets announced)', b64(tlv(0x30, [0x30, 0xfe, ...new Array(62).fill(1)])), F.LENGTH_FORM, 'CERT_DER'],
  ['inner element missing its tag (filler first)', b64(tlv(0x30, [...new Array(60).fill(0), 0x30, 0x84, 0x01])), F.INNER_NOT_SEQUENCE, 'CERT_DER'],
  ['inner indefinite length', b64(withHead([0x30, 0x82, 0x01, 0x28, 0x30, 0x80])), F.LENGTH_FORM, 'CERT_DER'],
];

t.test('each fault: its code, from both decoders', async (t) => {
  t.equal(good.length, 300);
  t.same(good.subarray(0, 4), [0x30, 0x82, 0x01, 0x28], 'the base case has the header the cases edit');
  t.same(viaBytes(goodText), good, 'the base case is accepted');
  for (const [label, text, fault, code] of cases) {
    t.equal(viaBytes(text), fault, `${label}: byte decoder`);
    const p = inventory.decodeCertificateBase64(text);
    t.notOk(p instanceof Uint8Array, `${label}: refused`);
    if (p instanceof Uint8Array) continue;
    t.equal(p.code, code, `${label}: ${code}`);
    t.ok(p.message.startsWith(inventory.certificateProblem(fault).message), `${label}: ${p.message}`);
  }
  const bad = inventory.decodeCertificateBase64(goodText.slice(0, 10) + '!' + goodText.slice(11));
  t.match((bad as inventory.FieldProblem).message, /character 11 of 400/, 'the bad character is located');
  // Why a hand-written decoder: Node's skips the bad character and decodes something else.
  t.equal(Buffer.from(goodText.slice(0, 10) + '!' + goodText.slice(11), 'base64').length, 299, 'Buffer.from accepts it silently');
});

t.test('property: both decoders agree on any text, and valid text decodes as Node decodes it', async (t) => {
  let accepted = 0, refused = 0;
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.split('');
  const mutation = fc.record({ at: fc.nat(), ch: fc.constantFrom(...alphabet, '=', '-', '_', ' ', '!', '\u00e9', '') });
  fc.assert(
    fc.property(fc.integer({ min: 100, max: 700 }), fc.array(mutation, { maxLength: 3 }), fc.nat(255), (size, ms, x) => {
      let text = b64(shapedCertificate(size, (i) => (i * x + 3) & 0xff));
      for (const m of ms) {
        const at = m.at % text.length;
        text = text.slice(0, at) + m.ch + text.slice(at + 1);
      }
      const bytes = viaBytes(text);
      const string = inventory.decodeCertificateBase64(text);
      if (typeof bytes === 'number') refused++;
      else accepted++;
      if (typeof bytes === 'number') return !(string instanceof Uint8Array) && string.code === inventory.certificateProblem(bytes as inventory.CertificateFault).code;
      return string instanceof Uint8Array && Buffer.from(string).equals(Buffer.from(bytes)) && Buffer.from(text, 'base64').equals(Buffer.from(bytes))
        && inventory.encodeCertificateBase64(bytes) === text;
    }),
    { numRuns: 500 },
  );
  t.ok(accepted > 50 && refused > 50, `both outcomes exercised (${accepted} accepted, ${refused} refused)`);
});

t.test('encodeCertificateBase64 is Node base64 for any bytes', async () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 20_000 }), (bytes) => inventory.encodeCertificateBase64(bytes) === Buffer.from(bytes).toString('base64')), { numRuns: 200 });
});
