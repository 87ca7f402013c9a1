import fc from 'fast-check';
import t from 'tap';
import { inventory } from '../../sim-applet/index.js';

t.test('known ICCIDs and card numbers check', async (t) => {
  // The ISO/IEC 7812 Annex B example number.
  t.equal(inventory.luhnCheckDigit('7992739871'), 3);
  t.ok(inventory.isLuhnValid('79927398713'));
  // Worked by hand: doubled digits from the right 4,1,0,0,2,8,8,5,9 give 38, the others 26: 64, so 6.
  t.equal(inventory.luhnCheckDigit('896588081210001114'), 6);
  t.notOk(inventory.isLuhnValid('79927398710'));
});

t.test('the check digit always validates, and any single-digit change is caught', async () => {
  fc.assert(
    fc.property(fc.stringMatching(/^[0-9]{10,19}$/), fc.nat(), fc.integer({ min: 1, max: 9 }), (body, at, delta) => {
      const full = body + String(inventory.luhnCheckDigit(body));
      if (!inventory.isLuhnValid(full)) return false;
      const i = at % full.length;
      const changed = full.slice(0, i) + String((Number(full[i]) + delta) % 10) + full.slice(i + 1);
      return !inventory.isLuhnValid(changed);
    }),
  );
});
