/**
 * Delivery receipts against the real schema (recordReceipts): which parts a message has
 * delivered, when it counts as delivered, and what a failing receipt leaves in last_error.
 * The statement takes a shortcut for the usual case (the first and only part of a message)
 * and sorts only otherwise: both paths are here.
 */
import t from 'tap';
import { markSubmitted, recordReceipts } from '../../provisioning-api/db/repositories/ota-messages.js';
import { testDatabase } from '../helpers/database.js';

t.test('receipts set the delivered parts, the state and the error of their messages', async (t) => {
  const db = await testDatabase();
  const insert = async (n: number, parts: number) => (await db.pool.query<{ id: string }>(
    `INSERT INTO ota_messages (iccid, msisdn, tar, keyset_index, cntr, spi, user_data, expires_at)
     SELECT lpad(g::text, 19, '0'), '+4477' || lpad(g::text, 8, '0'), 'bfff01', 1, g + $2::int * 1000, '1621',
            array_fill('\\x00'::bytea, ARRAY[$2::int]), now() + interval '1 day'
       FROM generate_series(1, $1::int) g RETURNING id::text`, [n, parts])).rows.map((r) => r.id);
  const single = await insert(3, 1);
  const double = await insert(3, 2);
  const sent = [...single.map((id) => [id, 1] as const), ...double.flatMap((id) => [[id, 1] as const, [id, 2] as const])];
  await markSubmitted(db.pool, sent.map(([id, part]) => ({ otaMessageId: id, part, attempt: 1, smppMessageId: `m${id}-${part}`, at: new Date() })));
  const at = new Date('2026-11-24T12:00:00Z');
  const receipt = (id: string, part: number, stat: string) => ({ smppMessageId: `m${id}-${part}`, stat, err: stat === 'DELIVRD' ? '000' : '001', at });
  const row = async (id: string) => (await db.pool.query(
    `SELECT state, delivered_parts AS parts, delivered_at AS "deliveredAt", last_error AS "lastError", finished_at AS "finishedAt" FROM ota_messages WHERE id = $1`, [id])).rows[0];

  // One call: the single-part messages (delivered, undelivered, expired) and the second part
  // of the two-part ones before their first.
  const r1 = await recordReceipts(db.pool, [
    receipt(single[0]!, 1, 'DELIVRD'), receipt(single[1]!, 1, 'UNDELIV'), receipt(single[2]!, 1, 'EXPIRED'),
    receipt(double[0]!, 2, 'DELIVRD'), receipt(double[1]!, 2, 'DELIVRD'), receipt(double[2]!, 2, 'UNDELIV'), receipt(double[2]!, 1, 'EXPIRED'),
  ]);
  t.equal(r1.matched, 7, 'every receipt found its submission');
  t.same(new Set(r1.messageIds), new Set([...single, ...double]), 'every message updated');
  t.match(await row(single[0]!), { state: 'delivered', parts: [1], deliveredAt: at, lastError: null, finishedAt: null });
  t.match(await row(single[1]!), { state: 'failed', parts: [], deliveredAt: null, lastError: 'delivery receipt UNDELIV', finishedAt: at });
  t.match(await row(single[2]!), { state: 'expired', parts: [], lastError: 'delivery receipt EXPIRED', finishedAt: at });
  t.match(await row(double[0]!), { state: 'submitted', parts: [2], deliveredAt: null }, 'one part of two: not delivered yet');
  t.match(await row(double[2]!), { state: 'failed', parts: [], lastError: 'delivery receipt EXPIRED,UNDELIV' }, 'both stats named, in order');

  // The first parts arrive: the parts are sorted and the message is delivered.
  const r2 = await recordReceipts(db.pool, [receipt(double[0]!, 1, 'DELIVRD'), receipt(double[1]!, 1, 'DELIVRD')]);
  t.equal(r2.matched, 2);
  t.match(await row(double[0]!), { state: 'delivered', parts: [1, 2], deliveredAt: at });
  t.match(await row(double[1]!), { state: 'delivered', parts: [1, 2] });

  // A receipt delivered again changes nothing.
  const before = await row(double[0]!);
  const r3 = await recordReceipts(db.pool, [receipt(double[0]!, 1, 'DELIVRD'), receipt(single[0]!, 1, 'UNDELIV')]);
  t.same(r3, { matched: 0, messageIds: [] }, 'a redelivered receipt matches nothing');
  t.same(await row(double[0]!), before);
  t.match(await row(single[0]!), { state: 'delivered', lastError: null });
});
