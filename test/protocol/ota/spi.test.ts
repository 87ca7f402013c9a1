import t from 'tap';
import { fromHex, toHex } from '../../../sim-applet/bytes.js';
import { isProtocolError } from '../../../sim-applet/errors.js';
import { decodeSpi, encodeSpi, type Spi } from '../../../sim-applet/protocol/ota/index.js';
import { allVectors } from '../../helpers/vectors.js';

const INTEGRITY = ['none', 'rc', 'cc', 'ds'] as const;
const COUNTER = ['none', 'no-replay-check', 'higher', 'one-higher'] as const;
const POR = ['none', 'always', 'on-error'] as const;

function* everySpi(): Generator<Spi> {
  for (const integrity of INTEGRITY)
    for (const ciphered of [false, true])
      for (const counter of COUNTER)
        for (const por of POR)
          for (const porIntegrity of INTEGRITY)
            for (const porCiphered of [false, true])
              for (const porViaSubmit of [false, true]) yield { integrity, ciphered, counter, por, porIntegrity, porCiphered, porViaSubmit };
}

t.test('every SPI encodes to 2 bytes and decodes back', async (t) => {
  let n = 0;
  const wrong: Spi[] = [];
  const seen = new Set<string>();
  for (const spi of everySpi()) {
    const bytes = encodeSpi(spi);
    seen.add(toHex(bytes));
    if (bytes.length !== 2 || JSON.stringify(decodeSpi(bytes)) !== JSON.stringify(spi)) wrong.push(spi);
    n++;
  }
  t.equal(n, 4 * 2 * 4 * 3 * 4 * 2 * 2);
  t.equal(seen.size, n, 'no two SPIs share bytes');
  t.same(wrong, []);
});

t.test('bit layout (TS 102 225 §5.1.1)', async (t) => {
  const base: Spi = { integrity: 'none', ciphered: false, counter: 'none', por: 'none', porIntegrity: 'none', porCiphered: false, porViaSubmit: false };
  t.equal(toHex(encodeSpi(base)), '0000');
  t.equal(toHex(encodeSpi({ ...base, integrity: 'rc' })), '0100');
  t.equal(toHex(encodeSpi({ ...base, integrity: 'cc' })), '0200');
  t.equal(toHex(encodeSpi({ ...base, integrity: 'ds' })), '0300');
  t.equal(toHex(encodeSpi({ ...base, ciphered: true })), '0400');
  t.equal(toHex(encodeSpi({ ...base, counter: 'no-replay-check' })), '0800');
  t.equal(toHex(encodeSpi({ ...base, counter: 'higher' })), '1000');
  t.equal(toHex(encodeSpi({ ...base, counter: 'one-higher' })), '1800');
  t.equal(toHex(encodeSpi({ ...base, por: 'always' })), '0001');
  t.equal(toHex(encodeSpi({ ...base, por: 'on-error' })), '0002');
  t.equal(toHex(encodeSpi({ ...base, porIntegrity: 'rc' })), '0004');
  t.equal(toHex(encodeSpi({ ...base, porIntegrity: 'cc' })), '0008');
  t.equal(toHex(encodeSpi({ ...base, porIntegrity: 'ds' })), '000c');
  t.equal(toHex(encodeSpi({ ...base, porCiphered: true })), '0010');
  t.equal(toHex(encodeSpi({ ...base, porViaSubmit: true })), '0020');
});

t.test('all 65536 byte pairs: a valid SPI round-trips, anything else is MALFORMED on field spi', async (t) => {
  let valid = 0;
  let bad = 0;
  const wrong: string[] = [];
  for (let v = 0; v < 0x10000; v++) {
    const bytes = Uint8Array.of(v >>> 8, v & 0xff);
    const reserved = (bytes[0]! & 0xe0) !== 0 || (bytes[1]! & 0xc0) !== 0 || (bytes[1]! & 0x03) === 0x03;
    try {
      const spi = decodeSpi(bytes);
      if (reserved) wrong.push(`reserved ${toHex(bytes)} accepted`);
      if (toHex(encodeSpi(spi)) !== toHex(bytes)) wrong.push(`${toHex(bytes)} does not round-trip`);
      valid++;
    } catch (e) {
      if (!reserved) wrong.push(`valid ${toHex(bytes)} refused`);
      if (!isProtocolError(e, 'MALFORMED') || e.details.field !== 'spi') wrong.push(`${toHex(bytes)}: ${String(e)}`);
      bad++;
    }
  }
  t.same(wrong, []);
  t.equal(valid, 1536);
  t.equal(bad, 0x10000 - 1536);
});

t.test('reserved bits are reported with the byte and the bits', async (t) => {
  t.throws(() => decodeSpi(fromHex('2000')), { code: 'MALFORMED', details: { field: 'spi', byte: 1, reservedBits: 0x20 } });
  t.throws(() => decodeSpi(fromHex('0080')), { code: 'MALFORMED', details: { field: 'spi', byte: 2, reservedBits: 0x80 } });
  t.throws(() => decodeSpi(fromHex('0003')), { code: 'MALFORMED', details: { field: 'spi', byte: 2, reservedBits: 0x03 } });
});

t.test('bad input is INVALID_ARGUMENT', async (t) => {
  t.throws(() => decodeSpi(fromHex('06')), { name: 'ProtocolError', code: 'INVALID_ARGUMENT', details: { field: 'spi' } });
  t.throws(() => decodeSpi(fromHex('061900')), { code: 'INVALID_ARGUMENT', details: { field: 'spi' } });
  t.throws(() => decodeSpi('0619' as unknown as Uint8Array), { code: 'INVALID_ARGUMENT', details: { field: 'spi' } });
  const good: Spi = { integrity: 'cc', ciphered: true, counter: 'none', por: 'always', porIntegrity: 'cc', porCiphered: true, porViaSubmit: false };
  t.throws(() => encodeSpi({ ...good, integrity: 'crc' as 'rc' }), { code: 'INVALID_ARGUMENT', details: { field: 'spi.integrity' } });
  t.throws(() => encodeSpi({ ...good, counter: 'lower' as 'higher' }), { code: 'INVALID_ARGUMENT', details: { field: 'spi.counter' } });
  t.throws(() => encodeSpi({ ...good, por: 'sometimes' as 'always' }), { code: 'INVALID_ARGUMENT', details: { field: 'spi.por' } });
  t.throws(() => encodeSpi({ ...good, porIntegrity: 'x' as 'cc' }), { code: 'INVALID_ARGUMENT', details: { field: 'spi.porIntegrity' } });
  t.throws(() => encodeSpi({ ...good, ciphered: 1 as unknown as boolean }), { code: 'INVALID_ARGUMENT', details: { field: 'spi.ciphered' } });
  t.throws(() => encodeSpi(null as unknown as Spi), { code: 'INVALID_ARGUMENT', details: { field: 'spi' } });
});

// pySim's names (vectors' spi_fields) mapped to ours; its counter mode 3 "must be lower"
// is the standard's "one higher".
const PYSIM_INTEGRITY: Record<string, Spi['integrity']> = { no_rc_cc_ds: 'none', rc: 'rc', cc: 'cc', ds: 'ds' };
const PYSIM_COUNTER: Record<string, Spi['counter']> = {
  no_counter: 'none',
  counter_no_replay_or_seq: 'no-replay-check',
  counter_must_be_higher: 'higher',
  counter_must_be_lower: 'one-higher',
};
const PYSIM_POR: Record<string, Spi['por']> = { no_por: 'none', por_required: 'always', por_only_when_error: 'on-error' };

t.test('every vector SPI decodes to the fields pySim names', async (t) => {
  const withSpi = allVectors().filter((v) => typeof v.spi === 'string' && typeof v.spi_fields === 'object');
  t.ok(withSpi.length > 30);
  for (const v of withSpi) {
    const f = v.spi_fields as Record<string, string | boolean>;
    t.same(
      decodeSpi(fromHex(v.spi as string)),
      {
        integrity: PYSIM_INTEGRITY[f.rc_cc_ds as string],
        ciphered: f.ciphering,
        counter: PYSIM_COUNTER[f.counter as string],
        por: PYSIM_POR[f.por as string],
        porIntegrity: PYSIM_INTEGRITY[f.por_rc_cc_ds as string],
        porCiphered: f.por_shall_be_ciphered,
        porViaSubmit: f.por_in_submit,
      },
      v.id,
    );
  }
});
