/**
 * TP-Service-Centre-Time-Stamp (TS 23.040 §9.2.3.11), also the absolute TP-VP format
 * (§9.2.3.12.2): seven swapped-BCD octets year, month, day, hour, minute, second, time
 * zone. The zone is in quarters of an hour; bit 3 of its octet (in the tens nibble) is the
 * sign. Nothing here reads the clock: times come in as values.
 */
import { fail } from '../../errors.js';
import { decodeBcdOctet, encodeBcdOctet } from './semi-octets.js';

export const SCTS_LENGTH = 7;

export interface Scts {
  /** Two digits as carried, 0–99 (see {@link sctsToDate} for the century). */
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** Local time minus GMT in quarter hours, -79..79 (two BCD digits and a sign). */
  tzQuarterHours: number;
}

const RANGES: ReadonlyArray<[keyof Scts, number, number]> = [
  ['year', 0, 99],
  ['month', 1, 12],
  ['day', 1, 31],
  ['hour', 0, 23],
  ['minute', 0, 59],
  ['second', 0, 59],
];

const TZ_SIGN = 0x08;
const MAX_TZ = 79;

export function encodeScts(scts: Scts, field = 'scts'): Uint8Array {
  if (scts === null || typeof scts !== 'object') fail('INVALID_ARGUMENT', `${field} must be an object`, { field });
  const out = new Uint8Array(SCTS_LENGTH);
  RANGES.forEach(([name, min, max], i) => {
    const v = scts[name];
    if (!Number.isInteger(v) || v < min || v > max) {
      fail('INVALID_ARGUMENT', `${field}.${name} must be ${min}..${max}`, { field: `${field}.${name}`, value: v });
    }
    out[i] = encodeBcdOctet(v, `${field}.${name}`);
  });
  const tz = scts.tzQuarterHours;
  if (!Number.isInteger(tz) || tz < -MAX_TZ || tz > MAX_TZ) {
    fail('INVALID_ARGUMENT', `${field}.tzQuarterHours must be -79..79`, { field: `${field}.tzQuarterHours`, value: tz });
  }
  out[6] = encodeBcdOctet(Math.abs(tz), `${field}.tzQuarterHours`) | (tz < 0 ? TZ_SIGN : 0);
  return out;
}

/** Seven octets at `offset`; digits that are not BCD or fields out of calendar range are MALFORMED. */
export function decodeScts(bytes: Uint8Array, offset = 0, field = 'scts'): Scts {
  if (offset + SCTS_LENGTH > bytes.length) fail('TRUNCATED', `${field} ends early`, { field, offset });
  const values: number[] = [];
  RANGES.forEach(([name, min, max], i) => {
    const v = decodeBcdOctet(bytes[offset + i]!, `${field}.${name}`);
    if (v < min || v > max) fail('MALFORMED', `${field}.${name} out of range`, { field: `${field}.${name}`, value: v });
    values.push(v);
  });
  const tzOctet = bytes[offset + 6]!;
  const quarters = decodeBcdOctet(tzOctet & ~TZ_SIGN, `${field}.tzQuarterHours`);
  const [year, month, day, hour, minute, second] = values as [number, number, number, number, number, number];
  return {
    year,
    month,
    day,
    hour,
    minute,
    second,
    // A negative zero (sign set, 00) reads as 0.
    tzQuarterHours: tzOctet & TZ_SIGN && quarters !== 0 ? -quarters : quarters,
  };
}

/** The instant a timestamp names, taking its years as 2000–2099. */
export function sctsToDate(scts: Scts): Date {
  const utc = Date.UTC(2000 + scts.year, scts.month - 1, scts.day, scts.hour, scts.minute, scts.second);
  return new Date(utc - scts.tzQuarterHours * 15 * 60_000);
}

/** The timestamp for `date` as seen in the zone `tzQuarterHours` (the date must fall in 2000–2099 there). */
export function sctsFromDate(date: Date, tzQuarterHours = 0): Scts {
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) fail('INVALID_ARGUMENT', 'date must be a valid Date', { field: 'date' });
  if (!Number.isInteger(tzQuarterHours) || Math.abs(tzQuarterHours) > MAX_TZ) {
    fail('INVALID_ARGUMENT', 'tzQuarterHours must be -79..79', { field: 'tzQuarterHours', value: tzQuarterHours });
  }
  const local = new Date(date.getTime() + tzQuarterHours * 15 * 60_000);
  const year = local.getUTCFullYear() - 2000;
  if (year < 0 || year > 99) fail('INVALID_ARGUMENT', 'date outside 2000..2099', { field: 'date', year: year + 2000 });
  return {
    year,
    month: local.getUTCMonth() + 1,
    day: local.getUTCDate(),
    hour: local.getUTCHours(),
    minute: local.getUTCMinutes(),
    second: local.getUTCSeconds(),
    tzQuarterHours,
  };
}
