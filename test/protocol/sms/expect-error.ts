/** Assertions on ProtocolError codes shared by the protocol codec tests. */
import { isProtocolError, type ProtocolErrorCode } from '../../../sim-applet/errors.js';

interface Asserts {
  ok(value: unknown, message: string): unknown;
  equal(found: unknown, wanted: unknown, message: string): unknown;
}

/** `fn` must raise a ProtocolError with `code` (and `details.field` when given). */
export function throwsCode(t: Asserts, fn: () => unknown, code: ProtocolErrorCode, field?: string, what = ''): void {
  const label = what === '' ? code : `${what}: ${code}`;
  try {
    fn();
  } catch (e) {
    const got = isProtocolError(e) ? e.code : String(e);
    t.ok(isProtocolError(e, code), `${label} (got ${got})`);
    if (field !== undefined && isProtocolError(e)) t.equal(e.details.field, field, `${label} details.field`);
    return;
  }
  t.ok(false, `${label}: nothing was thrown`);
}

/** For fast-check: run `fn` on garbage; anything thrown other than a ProtocolError fails the property. */
export function onlyProtocolErrors(fn: () => unknown): true {
  try {
    fn();
  } catch (e) {
    if (!isProtocolError(e)) throw e;
  }
  return true;
}
