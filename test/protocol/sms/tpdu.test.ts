import t from 'tap';
import fc from 'fast-check';
import { fromHex } from '../../../sim-applet/bytes.js';
import { decodeSmsTpdu, tpduTypeName } from '../../../sim-applet/protocol/sms/tpdu.js';
import { vectorById } from '../../helpers/vectors.js';
import { onlyProtocolErrors, throwsCode } from './expect-error.js';

t.test('TP-MTI by direction', async (t) => {
  t.equal(decodeSmsTpdu(fromHex(vectorById('frame-proactive-comment').tpdu_hex as string), 'sc-to-ms').type, 'deliver');
  t.equal(decodeSmsTpdu(fromHex(vectorById('sms-submit-vcard').input_hex as string), 'ms-to-sc').type, 'submit');
  t.equal(decodeSmsTpdu(fromHex('0000'), 'ms-to-sc').type, 'deliver-report');
  t.equal((decodeSmsTpdu(fromHex('00d5'), 'ms-to-sc', { deliverReportError: true }) as { failureCause?: number }).failureCause, 0xd5);
  t.equal(tpduTypeName(0x02, 'sc-to-ms'), 'SMS-STATUS-REPORT');
  t.equal(tpduTypeName(0x02, 'ms-to-sc'), 'SMS-COMMAND');
  t.equal(tpduTypeName(0x01, 'sc-to-ms'), 'SMS-SUBMIT-REPORT');
  throwsCode(t, () => decodeSmsTpdu(fromHex('0100'), 'sc-to-ms'), 'UNSUPPORTED', 'mti', 'SMS-SUBMIT-REPORT');
  throwsCode(t, () => decodeSmsTpdu(fromHex('02'), 'ms-to-sc'), 'UNSUPPORTED', 'mti', 'SMS-COMMAND');
  throwsCode(t, () => decodeSmsTpdu(fromHex('03'), 'sc-to-ms'), 'MALFORMED', 'mti', 'reserved MTI');
  throwsCode(t, () => decodeSmsTpdu(fromHex('00'), 'up' as 'sc-to-ms'), 'INVALID_ARGUMENT', 'direction');
  throwsCode(t, () => decodeSmsTpdu(new Uint8Array(0), 'sc-to-ms'), 'TRUNCATED', 'tpdu');
});

t.test('property: random bytes raise only ProtocolError in both directions', async (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 180 }), fc.constantFrom('sc-to-ms' as const, 'ms-to-sc' as const), (b, dir) => onlyProtocolErrors(() => decodeSmsTpdu(b, dir))),
    { numRuns: 3000 },
  );
  t.pass('no foreign errors');
});
