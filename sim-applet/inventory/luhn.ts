/**
 * The Luhn check digit ("modulus 10, double-add-double"), ISO/IEC 7812-1 Annex B, which
 * ITU-T E.118 prescribes for the last digit of an ICCID.
 */

/** The check digit to append to `digits` (a string of decimal digits, without its check digit). */
export function luhnCheckDigit(digits: string): number {
  let sum = 0;
  // The rightmost payload digit is doubled: it sits next to the check digit.
  let double = true;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return (10 - (sum % 10)) % 10;
}

/** Whether the last digit of `digits` is the Luhn check digit of the ones before it. */
export function isLuhnValid(digits: string): boolean {
  if (digits.length < 2) return false;
  return luhnCheckDigit(digits.slice(0, -1)) === digits.charCodeAt(digits.length - 1) - 48;
}
