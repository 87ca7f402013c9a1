import t from 'tap';
import fc from 'fast-check';
import { decodeDcs, encodeDcs, udlUnit, type DcsInput } from '../../../sim-applet/protocol/sms/dcs.js';
import { throwsCode } from './expect-error.js';

t.test('TS 23.038 §4 coding groups', async (t) => {
  t.same(decodeDcs(0xf6), { group: 'data_class', alphabet: '8bit', compressed: false, messageClass: 2 }, 'F6: OTA, 8-bit class 2 (SIM specific)');
  t.same(decodeDcs(0xf5), { group: 'data_class', alphabet: '8bit', compressed: false, messageClass: 1 }, 'F5: the vCard vector');
  t.same(decodeDcs(0xf0), { group: 'data_class', alphabet: 'gsm7', compressed: false, messageClass: 0 });
  t.same(decodeDcs(0x00), { group: 'general', alphabet: 'gsm7', compressed: false });
  t.same(decodeDcs(0x04), { group: 'general', alphabet: '8bit', compressed: false });
  t.same(decodeDcs(0x08), { group: 'general', alphabet: 'ucs2', compressed: false });
  t.same(decodeDcs(0x16), { group: 'general', alphabet: '8bit', compressed: false, messageClass: 2 });
  t.same(decodeDcs(0x10), { group: 'general', alphabet: 'gsm7', compressed: false, messageClass: 0 });
  t.same(decodeDcs(0x20), { group: 'general', alphabet: 'gsm7', compressed: true });
  t.same(decodeDcs(0x4a), { group: 'auto_deletion', alphabet: 'ucs2', compressed: false });
  t.same(decodeDcs(0x0c), { group: 'general', alphabet: 'gsm7', compressed: false }, 'reserved alphabet 11 reads as GSM 7-bit');
  t.same(decodeDcs(0x85), { group: 'reserved', alphabet: 'gsm7', compressed: false }, 'reserved groups read as GSM 7-bit');
  t.same(decodeDcs(0xc8), { group: 'mwi_discard', alphabet: 'gsm7', compressed: false, indication: { active: true, kind: 'voicemail' } });
  t.same(decodeDcs(0xd2), { group: 'mwi_store', alphabet: 'gsm7', compressed: false, indication: { active: false, kind: 'email' } });
  t.same(decodeDcs(0xe9), { group: 'mwi_store_ucs2', alphabet: 'ucs2', compressed: false, indication: { active: true, kind: 'fax' } });
});

t.test('TS 23.040 §9.2.3.16: the unit TP-UDL counts', async (t) => {
  t.equal(udlUnit(0x00), 'septets');
  t.equal(udlUnit(0xf0), 'septets');
  t.equal(udlUnit(0xf6), 'octets');
  t.equal(udlUnit(0x08), 'octets');
  t.equal(udlUnit(0x20), 'octets', 'compressed text counts octets');
  t.equal(udlUnit(0xe0), 'octets');
});

t.test('encoding', async (t) => {
  t.equal(encodeDcs({ alphabet: '8bit', messageClass: 2, group: 'data_class' }), 0xf6);
  t.equal(encodeDcs({ alphabet: 'gsm7', messageClass: 1, group: 'data_class' }), 0xf1);
  t.equal(encodeDcs({ alphabet: '8bit', messageClass: 2 }), 0x16);
  t.equal(encodeDcs({ alphabet: 'ucs2' }), 0x08);
  t.equal(encodeDcs({ alphabet: 'gsm7' }), 0x00);
  t.equal(encodeDcs({ alphabet: 'gsm7', compressed: true, group: 'auto_deletion' }), 0x60);
  throwsCode(t, () => encodeDcs({ alphabet: 'ucs2', messageClass: 0, group: 'data_class' }), 'INVALID_ARGUMENT', 'group');
  throwsCode(t, () => encodeDcs({ alphabet: '8bit', group: 'data_class' }), 'INVALID_ARGUMENT', 'group', 'data class group needs a class');
  throwsCode(t, () => encodeDcs({ alphabet: 'latin1' as DcsInput['alphabet'] }), 'INVALID_ARGUMENT', 'alphabet');
  throwsCode(t, () => encodeDcs({ alphabet: 'gsm7', messageClass: 4 as DcsInput['messageClass'] }), 'INVALID_ARGUMENT', 'messageClass');
});

t.test('property: every octet classifies; encode → decode keeps what was asked', async (t) => {
  for (let v = 0; v < 256; v++) decodeDcs(v);
  const input = fc.record({
    alphabet: fc.constantFrom('gsm7', '8bit', 'ucs2'),
    messageClass: fc.option(fc.constantFrom(0, 1, 2, 3), { nil: undefined }),
    compressed: fc.boolean(),
    group: fc.constantFrom('general', 'auto_deletion'),
  }) as fc.Arbitrary<DcsInput>;
  fc.assert(
    fc.property(input, (i) => {
      const d = decodeDcs(encodeDcs(i));
      return d.alphabet === i.alphabet && d.messageClass === i.messageClass && d.compressed === i.compressed && d.group === i.group;
    }),
  );
  t.pass('classification holds');
});
