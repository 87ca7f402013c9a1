import t from 'tap';
import { isPorStatusCode, PorStatus, porStatusName } from '../../../sim-applet/protocol/ota/index.js';

t.test('TS 102 225 Table 5 / TS 31.115 §7 status codes and names', async (t) => {
  const table: [keyof typeof PorStatus, number, string][] = [
    ['OK', 0x00, 'ok'],
    ['RC_CC_DS_FAILED', 0x01, 'rc-cc-ds-failed'],
    ['COUNTER_LOW', 0x02, 'counter-low'],
    ['COUNTER_HIGH', 0x03, 'counter-high'],
    ['COUNTER_BLOCKED', 0x04, 'counter-blocked'],
    ['CIPHERING_ERROR', 0x05, 'ciphering-error'],
    ['UNDEFINED_SECURITY_ERROR', 0x06, 'undefined-security-error'],
    ['INSUFFICIENT_MEMORY', 0x07, 'insufficient-memory'],
    ['MORE_TIME', 0x08, 'more-time'],
    ['TAR_UNKNOWN', 0x09, 'tar-unknown'],
    ['INSUFFICIENT_SECURITY_LEVEL', 0x0a, 'insufficient-security-level'],
    ['RESPONSE_VIA_SMS_SUBMIT', 0x0b, 'response-via-sms-submit'],
    ['RESPONSE_VIA_USSD', 0x0c, 'response-via-ussd'],
  ];
  t.equal(Object.keys(PorStatus).length, table.length);
  for (const [constant, code, name] of table) {
    t.equal(PorStatus[constant], code, constant);
    t.equal(porStatusName(code), name);
    t.ok(isPorStatusCode(code));
  }
});

t.test('0x0D..0xFF are reserved', async (t) => {
  for (const code of [0x0d, 0x10, 0x7f, 0xff]) {
    t.equal(porStatusName(code), 'reserved');
    t.notOk(isPorStatusCode(code));
  }
  t.notOk(isPorStatusCode(-1));
  t.notOk(isPorStatusCode(1.5));
  t.notOk(isPorStatusCode('0'));
});
