/**
 * The fleet's card log: the latest state of each card survives a reopen, a record cut short
 * by a crash is dropped (the card is as before that write), and compaction keeps only the
 * latest records.
 */
import t, { type Test } from 'tap';
import { appendFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createVendorCa, inventory } from '../../sim-applet/index.js';
import { CardStore, VendorIndex } from '../../simulators/fleet/index.js';

/** A directory for the log, a vendor file of `count` cards indexed, and a vendor CA; removed when the test ends. */
async function fleetFiles(t: Test, count: number) {
  const dir = mkdtempSync(join(tmpdir(), 'simchain-cards-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'vendor.csv');
  writeFileSync(file, [...inventory.generateVendorFile({ format: 'csv', count, random: randomBytes })].join('\n') + '\n');
  const index = await VendorIndex.build(file);
  t.teardown(() => index.close());
  return { dir, index, ca: createVendorCa({ random: randomBytes, now: new Date() }) };
}

t.test('card log: reopen, torn tail, compaction', async (t) => {
  const { dir, index, ca } = await fleetFiles(t, 3);
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

t.test('card log: records of any size and any text through one reused buffer', async (t) => {
  const { dir, index, ca } = await fleetFiles(t, 2);
  const [m0, m1] = ['447700000000', '447700000001'];
  const store = new CardStore(dir, index, ca, 10, 1 << 30);
  const a = (await store.get(m0))!;
  const b = (await store.get(m1))!;
  // A record far past the buffer's first 16 KB, with text of 2, 3 and 4 UTF-8 bytes a
  // character, then a short one after it: each must read back as written, nothing of the
  // long one left in the short one.
  const long = `é€😀${'x'.repeat(40_000)}`;
  a.memory.state.applet.version = long;
  store.save(m0, a);
  b.memory.state.keysets[0]!.counter = 7;
  store.save(m1, b);
  a.memory.state.applet.version = 'ü';
  store.save(m0, a);
  store.close();
  const reopened = new CardStore(dir, index, ca, 10, 1 << 30);
  t.equal((await reopened.get(m0))!.memory.state.applet.version, 'ü', 'the short record after the long one');
  t.equal((await reopened.get(m1))!.memory.state.keysets[0]!.counter, 7, 'the other card');
  t.equal(reopened.saved, 2);
  reopened.close();
  // The long record itself, read from the log before the short one replaced it.
  const dir2 = mkdtempSync(join(tmpdir(), 'simchain-cards-'));
  t.teardown(() => rmSync(dir2, { recursive: true, force: true }));
  const again = new CardStore(dir2, index, ca, 10, 1 << 30);
  const c = (await again.get(m0))!;
  c.memory.state.applet.version = long;
  again.save(m0, c);
  again.close();
  const read = new CardStore(dir2, index, ca, 10, 1 << 30);
  t.equal((await read.get(m0))!.memory.state.applet.version, long, 'a 40 KB record with multi-byte text');
  read.close();
});

t.test('card log: compaction keeps every card\'s latest record, whatever the order of the saves and the size of a record', async (t) => {
  const count = 40;
  const { dir, index, ca } = await fleetFiles(t, count);
  const msisdns = Array.from({ length: count }, (_, i) => `4477${String(i).padStart(8, '0')}`);
  // Threshold 1 byte: the log is rewritten whenever it is past twice what its latest records
  // need, once no card was saved for 50 ms (each round ends with a pause), or at once past four times.
  const store = new CardStore(dir, index, ca, count, 1, 50);
  const cards = await Promise.all(msisdns.map(async (m) => (await store.get(m))!));
  const expected = new Map<string, number>();
  for (let round = 1; round <= 6; round++) {
    // Each round saves the cards in a new order (runs of adjacent records broken up) and, in
    // rounds 3 and 4, only half of them; card 7's record is over 4 MB
    // from round 3 on.
    const order = msisdns.map((m, i) => ({ m, i, k: Math.random() })).sort((a, b) => a.k - b.k).slice(0, round === 3 || round === 4 ? count / 2 : count);
    for (const { m, i } of order) {
      const card = cards[i]!;
      card.memory.state.keysets[0]!.counter = round * 1000 + i;
      card.memory.state.applet.version = round >= 3 && i === 7 ? 'v'.repeat(4_300_000) : `r${round}`;
      store.save(m, card);
      expected.set(m, round * 1000 + i);
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  t.ok(store.compactions >= 2, `compacted ${store.compactions} times`);
  const sizeAfter = store.logBytes;
  store.close();
  t.equal(statSync(join(dir, 'cards.log')).size, sizeAfter, 'the file is as long as the store says');
  const reopened = new CardStore(dir, index, ca, count, 1 << 30);
  const wrong: string[] = [];
  for (const m of msisdns) {
    const counter = (await reopened.get(m))!.memory.state.keysets[0]!.counter;
    if (counter !== (expected.get(m) ?? 0)) wrong.push(`${m}: ${counter}, not ${expected.get(m) ?? 0}`);
  }
  t.same(wrong, [], 'every card as last saved');
  t.equal((await reopened.get(msisdns[7]!))!.memory.state.applet.version.length, 4_300_000, 'the large record whole');
  t.equal(reopened.saved, count, 'every card has its record');
  reopened.close();
});

t.test('card log: past twice its needs the log waits for a quiet moment to be rewritten; past four times it is rewritten at once', async (t) => {
  const { dir, index, ca } = await fleetFiles(t, 1);
  const m = '447700000000';
  const store = new CardStore(dir, index, ca, 10, 1, 200);
  t.teardown(() => store.close());
  const card = (await store.get(m))!;
  const save = (counter: number) => {
    card.memory.state.keysets[0]!.counter = counter;
    store.save(m, card);
  };
  save(11);
  save(12);
  const three = store.logBytes;
  t.equal(store.compactions, 0, 'three records for one: not rewritten while cards are being saved');
  await new Promise((r) => setTimeout(r, 500));
  t.equal(store.compactions, 1, 'rewritten once no card was saved for the quiet period');
  // Records of counters 11 to 16 have one length.
  const record = store.logBytes;
  t.ok(three > 2 * record && three < 4 * record, 'to the latest record');
  save(13);
  save(14);
  save(15);
  t.equal(store.compactions, 1, 'four records for one: still waiting');
  save(16);
  t.equal(store.compactions, 2, 'five records for one: rewritten at once, busy or not');
  t.equal(store.logBytes, record);
  store.close();
  const reopened = new CardStore(dir, index, ca, 10, 1 << 30);
  t.equal((await reopened.get(m))!.memory.state.keysets[0]!.counter, 16, 'the latest state survives');
  reopened.close();
});
