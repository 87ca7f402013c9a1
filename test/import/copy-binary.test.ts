/**
 * Binary COPY rows: the layout PostgreSQL reads (signature, field counts, big-endian
 * lengths, -1 for NULL, the trailer), a row that outgrows the room it reserved is caught,
 * and only ASCII goes in as ASCII.
 */
import t from 'tap';
import { BinaryCopyWriter, int8Bytes, uuidBytes } from '../../provisioning-api/db/copy-binary.js';

t.test('layout', async (t) => {
  const out = new BinaryCopyWriter(16);
  out.header().row(4, 100).ascii('8944').int4(-2).bytes(Buffer.from([1, 2, 3]), 1).null();
  out.row(1, 20).bytes(uuidBytes('0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0')).trailer();
  t.equal(out.take().toString('hex'), [
    Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1').toString('hex'), '00000000', '00000000',
    '0004', '00000004', Buffer.from('8944').toString('hex'), '00000004', 'fffffffe', '00000002', '0203', 'ffffffff',
    '0001', '00000010', '0f1e2d3c4b5a69788796a5b4c3d2e1f0',
    'ffff',
  ].join(''));
  t.equal(out.length, 0, 'take() starts afresh');
  t.equal(int8Bytes('9007199254740993').toString('hex'), '0020000000000001');
});

t.test('a row larger than its reservation, or not ASCII, is refused', async (t) => {
  const out = new BinaryCopyWriter(8);
  out.row(1, 6).ascii('too long for six bytes');
  t.throws(() => out.take(), RangeError);
  t.throws(() => new BinaryCopyWriter().row(1, 10).ascii('é'), TypeError);
  t.throws(() => uuidBytes('not-a-uuid'), TypeError);
});
