/**
 * The fleet's card log: the latest state of each card survives a reopen, a record cut short
 * by a crash is dropped (the card is as before that write), and compaction keeps only the
 * latest records.
 */
import t from 'tap';
import { appendFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createVendorCa, inventory } from '../../sim-applet/index.js';
import { CardStore, VendorIndex } from '../../simulators/fleet/index.js';

t.test('card log: reopen, torn tail, compaction', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'simchain-cards-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'vendor.csv');
  writeFileSync(file, [...inventory.generateVendorFile({ format: 'csv', count: 3, random: randomBytes })].join('\n') + '\n');
  const index = await VendorIndex.build(file);
  t.teardown(() => index.close());
  const ca = createVendorCa({ random: randomBytes, now: new Date() });
  const msisdns = ['447700000000', '447700000001', '447700000002'];

  const store = new CardStore(dir, index, ca, 10, 1);
  t.equal(await store.get('447799999999'), null, 'no such card in the vendor file');
  const a = (await store.get(msisdns[0]!))!;
  t.equal(store.personalised, 1, 'personalised from its row on first use');
  t.equal(a.memory.state.iccid, inventory.iccidForSerial(0));
  for (let i = 0; i < 5; i++) {
    a.memory.state.keysets[0]!.counter = i + 1;
    store.save(msisdns[0]!, a);
  }
  t.ok(store.logBytes < 3 * 4096, 'compacted to the latest record (threshold 1 byte)');
  store.close();

  const reopened = new CardStore(dir, index, ca, 10, 1 << 30);
  t.equal((await reopened.get(msisdns[0]!))!.memory.state.keysets[0]!.counter, 5, 'the latest state after reopening');
  t.equal(reopened.personalised, 0, 'not personalised again');
  const size = statSync(join(dir, 'cards.log')).size;
  reopened.close();

  appendFileSync(join(dir, 'cards.log'), Buffer.from([0, 0, 0x10, 0, 1, 2, 3]));
  const afterCrash = new CardStore(dir, index, ca, 10, 1 << 30);
  t.equal(statSync(join(dir, 'cards.log')).size, size, 'the torn record is cut');
  t.equal((await afterCrash.get(msisdns[0]!))!.memory.state.keysets[0]!.counter, 5);
  t.equal(afterCrash.saved, 1);
  afterCrash.close();
});
