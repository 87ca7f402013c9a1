import t from 'tap';
import { isSuccessful, statusWordName, SW, swHex } from '../../sim-applet/protocol/status-words.js';

t.test('names', async (t) => {
  t.equal(statusWordName(0x9000), 'OK');
  t.equal(statusWordName(0x6982), 'SECURITY_STATUS_NOT_SATISFIED');
  t.equal(statusWordName(0x6110), 'BYTES_AVAILABLE(16)');
  t.equal(statusWordName(0x9f2c), 'GSM_RESPONSE_AVAILABLE(44)');
  t.equal(statusWordName(0x9123), 'PROACTIVE_PENDING(35)');
  t.equal(statusWordName(0x6c08), 'WRONG_LE(8)');
  t.equal(statusWordName(0x63c2), 'WARNING_COUNTER(2)');
  t.equal(statusWordName(0x1234), 'UNKNOWN');
  t.equal(swHex(SW.WRONG_DATA), '6A80');
});

t.test('TS 102 226: which status words let a script go on', async (t) => {
  for (const sw of [0x9000, 0x9110, 0x6120, 0x9f10, 0x6282, 0x63c1]) t.ok(isSuccessful(sw), swHex(sw));
  for (const sw of [0x6700, 0x6982, 0x6d00, 0x6e00, 0x6a80, 0x6f00]) t.notOk(isSuccessful(sw), swHex(sw));
});
