/**
 * Revert data decoded into a tagged union: a custom error of one of the project's contracts
 * (by name, with its arguments), Solidity's `Error(string)` or `Panic(uint256)`, or bytes
 * no known ABI explains. Arguments are made JSON-safe (bigint as decimal string) so a
 * decoded revert can be stored with an outbox entry as it is.
 */
import { AbiCoder, type Interface, type Result } from 'ethers';
import { contractInterfaces } from '../../contracts/index.js';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export type DecodedRevert =
  | { kind: 'custom'; name: string; signature: string; selector: string; args: Record<string, JsonValue> }
  | { kind: 'error'; message: string }
  | { kind: 'panic'; code: number; reason: string }
  | { kind: 'unknown'; data: string }
  | { kind: 'empty' };

const ERROR_SELECTOR = '0x08c379a0';
const PANIC_SELECTOR = '0x4e487b71';

/** Solidity's panic codes (docs: "Panic via assert and other errors"). */
const PANIC_REASONS: Record<number, string> = {
  0x00: 'generic compiler panic',
  0x01: 'assertion failed',
  0x11: 'arithmetic overflow or underflow',
  0x12: 'division or modulo by zero',
  0x21: 'invalid enum value',
  0x22: 'corrupt storage byte array',
  0x31: 'pop on an empty array',
  0x32: 'array index out of bounds',
  0x41: 'out of memory',
  0x51: 'call to an uninitialised internal function',
};

let known: Interface[] | undefined;

function jsonSafe(value: unknown): JsonValue {
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || value === null) return value;
  if (Array.isArray(value)) return value.map(jsonSafe);
  return String(value);
}

function namedArgs(result: Result, names: readonly string[]): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {};
  names.forEach((name, i) => {
    out[name === '' ? String(i) : name] = jsonSafe(result[i]);
  });
  return out;
}

/**
 * Decode revert data with the project's contract ABIs (or the interfaces given). Never
 * throws: what cannot be decoded comes back as kind 'unknown'.
 */
export function decodeRevert(data: string | null | undefined, interfaces?: readonly Interface[]): DecodedRevert {
  if (data === null || data === undefined || data === '0x' || data === '') return { kind: 'empty' };
  const selector = data.slice(0, 10).toLowerCase();
  const coder = AbiCoder.defaultAbiCoder();
  try {
    if (selector === ERROR_SELECTOR) {
      return { kind: 'error', message: String(coder.decode(['string'], '0x' + data.slice(10))[0]) };
    }
    if (selector === PANIC_SELECTOR) {
      const code = Number(coder.decode(['uint256'], '0x' + data.slice(10))[0] as bigint);
      return { kind: 'panic', code, reason: PANIC_REASONS[code] ?? 'unknown panic code' };
    }
    for (const iface of interfaces ?? (known ??= contractInterfaces())) {
      const fragment = iface.getError(selector);
      if (fragment === null) continue;
      const result = iface.decodeErrorResult(fragment, data);
      return {
        kind: 'custom',
        name: fragment.name,
        signature: fragment.format('sighash'),
        selector: fragment.selector,
        args: namedArgs(result, fragment.inputs.map((p) => p.name)),
      };
    }
  } catch {
    // Data that claims a known selector but does not decode is reported as unknown below.
  }
  return { kind: 'unknown', data };
}
