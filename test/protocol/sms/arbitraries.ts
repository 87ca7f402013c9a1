/** fast-check generators shared by the SMS codec tests. */
import fc from 'fast-check';
import { NPI_VALUES, TON_VALUES, type Address, type Npi, type Ton } from '../../../sim-applet/protocol/sms/address.js';
import { udlUnit } from '../../../sim-applet/protocol/sms/dcs.js';
import type { Scts } from '../../../sim-applet/protocol/sms/timestamp.js';
import type { InformationElement } from '../../../sim-applet/protocol/sms/udh.js';

const tons = Object.keys(TON_VALUES).filter((k) => k !== 'alphanumeric') as Ton[];
const npis = Object.keys(NPI_VALUES) as Npi[];
const gsmBasic = [...'@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà'];

export const addressArb: fc.Arbitrary<Address> = fc.oneof(
  fc.record({
    ton: fc.constantFrom(...tons),
    npi: fc.constantFrom(...npis),
    digits: fc.string({ unit: fc.constantFrom(...'0123456789*#abc'), maxLength: 20 }),
    ext: fc.boolean(),
  }),
  fc.record({
    ton: fc.constant<Ton>('alphanumeric'),
    npi: fc.constantFrom(...npis),
    digits: fc.string({ unit: fc.constantFrom(...gsmBasic), maxLength: 11 }),
    ext: fc.boolean(),
  }),
);

export const sctsArb: fc.Arbitrary<Scts> = fc.record({
  year: fc.integer({ min: 0, max: 99 }),
  month: fc.integer({ min: 1, max: 12 }),
  day: fc.integer({ min: 1, max: 31 }),
  hour: fc.integer({ min: 0, max: 23 }),
  minute: fc.integer({ min: 0, max: 59 }),
  second: fc.integer({ min: 0, max: 59 }),
  tzQuarterHours: fc.integer({ min: -79, max: 79 }),
});

/** A coding with a header and a payload that fit one SMS in it. */
export const userDataArb: fc.Arbitrary<{ dcs: number; udh: InformationElement[] | undefined; payload: Uint8Array }> = fc
  .tuple(
    fc.constantFrom(0x00, 0x04, 0x08, 0x10, 0xf0, 0xf2, 0xf6, 0x16),
    fc.option(fc.array(fc.record({ iei: fc.integer({ min: 0, max: 255 }), value: fc.uint8Array({ maxLength: 6 }) }), { maxLength: 3 }), { nil: undefined }),
    fc.uint8Array({ max: 127, maxLength: 150 }),
  )
  .map(([dcs, udh, raw]) => {
    const header = udh === undefined ? 0 : 1 + udh.reduce((n, ie) => n + 2 + ie.value.length, 0);
    const room = udlUnit(dcs) === 'septets' ? 160 - Math.ceil((header * 8) / 7) : 140 - header;
    return { dcs, udh, payload: raw.subarray(0, Math.max(0, room)) };
  });

export function sameIes(a: readonly InformationElement[] | undefined, b: readonly InformationElement[] | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.length === b.length && a.every((ie, i) => ie.iei === b[i]!.iei && Buffer.compare(ie.value, b[i]!.value) === 0);
}
