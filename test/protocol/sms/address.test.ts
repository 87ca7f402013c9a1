import t from 'tap';
import fc from 'fast-check';
import { fromHex, toHex } from '../../../sim-applet/bytes.js';
import { decodeAddress, encodeAddress, NPI_VALUES, TON_VALUES, type Address, type Npi, type Ton } from '../../../sim-applet/protocol/sms/address.js';
import { vectorById, vectorsOfKind } from '../../helpers/vectors.js';
import { onlyProtocolErrors, throwsCode } from './expect-error.js';

interface AddrExpected {
  digits: string;
  ton: Ton;
  npi: Npi;
  trailer: string;
}

t.test('vectors sms-addr-*: decode, with the trailer after the address', async (t) => {
  const decodes = vectorsOfKind('sms').filter((v) => v.id.startsWith('sms-addr-') && v.expected !== undefined);
  t.ok(decodes.length >= 2, 'decode vectors present');
  for (const v of decodes) {
    const input = fromHex(v.input_hex as string);
    const want = v.expected as AddrExpected;
    const { address, next } = decodeAddress(input, 0);
    t.same([address.digits, address.ton, address.npi], [want.digits, want.ton, want.npi], v.id);
    t.equal(toHex(input.subarray(next)), want.trailer, `${v.id} trailer`);
  }
});

t.test('vectors sms-addr-encode-odd and sms-addr-roundtrip', async (t) => {
  const enc = vectorById('sms-addr-encode-odd');
  t.equal(toHex(encodeAddress(enc.input as Address)), enc.expected_hex);
  const rt = vectorById('sms-addr-roundtrip');
  t.equal(toHex(encodeAddress(decodeAddress(fromHex(rt.input_hex as string)).address)), rt.input_hex);
});

t.test('alphanumeric addresses (TON 5): GSM 7-bit packed, length in semi-octets', async (t) => {
  t.equal(toHex(encodeAddress({ ton: 'alphanumeric', npi: 'unknown', digits: 'ABC' })), '06d041e110', '3 septets = 21 bits = 6 semi-octets');
  t.same(decodeAddress(fromHex('06d041e110')).address, { ton: 'alphanumeric', npi: 'unknown', digits: 'ABC', ext: true });
  // 7 characters take 49 bits: the length 13 keeps a receiver from reading an eighth '@' from the fill bits.
  const seven = encodeAddress({ ton: 'alphanumeric', npi: 'unknown', digits: 'Simchai' });
  t.equal(seven[0], 13);
  t.equal(decodeAddress(seven).address.digits, 'Simchai');
  const eleven = encodeAddress({ ton: 'alphanumeric', npi: 'unknown', digits: 'OTA-Service' });
  t.same([eleven[0], eleven.length], [20, 12], '11 characters: the longest, 10 octets of value');
  throwsCode(t, () => encodeAddress({ ton: 'alphanumeric', npi: 'unknown', digits: 'OTA-Services' }), 'TOO_LONG', 'address.digits');
});

t.test('type of address octet, lengths and digits', async (t) => {
  t.equal(toHex(encodeAddress({ ton: 'international', npi: 'isdn_e164', digits: '447700900123' })), '0c91447700091032');
  t.equal(toHex(encodeAddress({ ton: 'national', npi: 'national', digits: '*#1' })), '03a8baf1');
  t.equal(toHex(encodeAddress({ ton: 'unknown', npi: 'unknown', digits: '' })), '0080', 'an empty address is 2 octets');
  t.equal(toHex(encodeAddress({ ton: 'unknown', npi: 'unknown', digits: '12', ext: false })), '020021', 'ext bit cleared on request');
  t.equal(decodeAddress(fromHex('020021')).address.ext, false);
  t.equal(encodeAddress({ ton: 'unknown', npi: 'unknown', digits: '1'.repeat(20) }).length, 12);
  throwsCode(t, () => encodeAddress({ ton: 'unknown', npi: 'unknown', digits: '1'.repeat(21) }), 'TOO_LONG', 'address.digits');
  throwsCode(t, () => encodeAddress({ ton: 'toString' as Ton, npi: 'unknown', digits: '1' }), 'INVALID_ARGUMENT', 'address.ton');
  throwsCode(t, () => encodeAddress({ ton: 'unknown', npi: 'x' as Npi, digits: '1' }), 'INVALID_ARGUMENT', 'address.npi');
  throwsCode(t, () => encodeAddress({ ton: 'unknown', npi: 'unknown', digits: '12-3' }), 'INVALID_ARGUMENT', 'address.digits');
});

t.test('malformed addresses give typed errors', async (t) => {
  throwsCode(t, () => decodeAddress(fromHex('04')), 'TRUNCATED', 'address', 'no type of address');
  throwsCode(t, () => decodeAddress(fromHex('058021')), 'TRUNCATED', 'address', 'digits cut');
  throwsCode(t, () => decodeAddress(fromHex('15' + '80' + '11'.repeat(11))), 'MALFORMED', 'address', 'length over 20');
  throwsCode(t, () => decodeAddress(fromHex('02f021')), 'MALFORMED', 'address.ton', 'reserved TON 7');
  throwsCode(t, () => decodeAddress(fromHex('028221')), 'MALFORMED', 'address.npi', 'reserved NPI 2');
  throwsCode(t, () => decodeAddress(fromHex('0480f143')), 'MALFORMED', 'address.digits', 'filler inside the digits');
});

const tons = Object.keys(TON_VALUES).filter((k) => k !== 'alphanumeric') as Ton[];
const npis = Object.keys(NPI_VALUES) as Npi[];
const numeric = fc.record({
  ton: fc.constantFrom(...tons),
  npi: fc.constantFrom(...npis),
  digits: fc.string({ unit: fc.constantFrom(...'0123456789*#abc'), maxLength: 20 }),
  ext: fc.boolean(),
});
const gsmBasic = [...'@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà'];
const alpha = fc.record({
  ton: fc.constant<Ton>('alphanumeric'),
  npi: fc.constantFrom(...npis),
  digits: fc.string({ unit: fc.constantFrom(...gsmBasic), maxLength: 11 }),
  ext: fc.boolean(),
});

t.test('property: encode → decode is the identity', async (t) => {
  fc.assert(
    fc.property(fc.oneof(numeric, alpha), fc.uint8Array({ maxLength: 3 }), (a, tail) => {
      const enc = encodeAddress(a);
      const withTail = new Uint8Array(enc.length + tail.length);
      withTail.set(enc);
      withTail.set(tail, enc.length);
      const { address, next } = decodeAddress(withTail);
      return next === enc.length && JSON.stringify(address) === JSON.stringify(a);
    }),
    { numRuns: 500 },
  );
  fc.assert(fc.property(fc.uint8Array({ maxLength: 14 }), (bytes) => onlyProtocolErrors(() => decodeAddress(bytes))), { numRuns: 2000 });
  t.pass('round trip holds');
});
