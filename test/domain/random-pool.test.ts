import t from 'tap';
import { RandomPool } from '../../provisioning-api/secrets/random-pool.js';

t.test('the pool hands out fresh, unshared bytes of the length asked', async (t) => {
  const pool = new RandomPool();
  const seen = new Set<string>();
  const taken: Buffer[] = [];
  // 1,000 salts cross several refills of the 4 KB pool.
  for (let i = 0; i < 1000; i++) {
    const b = pool.take(32);
    t.equal(b.length, 32);
    seen.add(b.toString('hex'));
    taken.push(b);
  }
  t.equal(seen.size, 1000, 'no value handed out twice');
  const before = taken[0]!.toString('hex');
  for (let i = 0; i < 300; i++) pool.take(32);
  t.equal(taken[0]!.toString('hex'), before, 'a value handed out does not change when the pool refills');
  const bits = taken.reduce((n, b) => n + [...b].reduce((m, x) => m + x.toString(2).replace(/0/g, '').length, 0), 0);
  t.ok(Math.abs(bits / (1000 * 256) - 0.5) < 0.01, `about half the bits set (${(bits / (1000 * 256)).toFixed(4)})`);
  const others = taken.slice(1, 200).map((b) => b.toString('hex'));
  taken[0]!.fill(0);
  t.same(taken.slice(1, 200).map((b) => b.toString('hex')), others, 'each value is its own copy: overwriting one changes no other');
  t.equal(pool.take(0).length, 0);
  t.equal(pool.take(4096).length, 4096, 'a whole pool at once');
  t.throws(() => pool.take(4097), RangeError);
  t.throws(() => pool.take(-1), RangeError);
  t.throws(() => pool.take(1.5), RangeError);
});
