/**
 * The sender's SIM keysets (provisioning-api/smpp/sim-keys.ts) against the real database: a
 * SIM's keysets opened for its command are kept for its PoR (the same keys, no second
 * opening), a SIM whose sealed keysets changed (a rotation's switch) is opened afresh, and at
 * most `recent` SIMs are kept, the least recently used dropped first.
 */
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { MasterKeyring } from '../../provisioning-api/index.js';
import { createDataKey } from '../../provisioning-api/db/repositories/data-keys.js';
import { KeysetSealer } from '../../provisioning-api/secrets/keyset-cipher.js';
import { SimKeysets } from '../../provisioning-api/smpp/sim-keys.js';
import { testDatabase } from '../helpers/database.js';

const hex = (n: number) => randomBytes(n).toString('hex');
const keyset = (index: number) => ({ index, kic: hex(16), kid: hex(16), kik: hex(16), kicAlg: 'aes' as const, kidAlg: 'aes' as const, kikAlg: 'aes' as const });

t.test('keysets are kept for the PoR, opened afresh when the sealed keysets change, at most `recent` SIMs', async (t) => {
  const { pool } = await testDatabase();
  const keyring = new MasterKeyring({ version: 1, key: randomBytes(32) });
  const dataKey = await createDataKey(pool, keyring);
  const sealer = new KeysetSealer(dataKey.key);
  const sim = (iccid: string, keysets = [keyset(1), keyset(2)]) => ({ iccid, dataKeyId: dataKey.id, keysets: sealer.seal(iccid, keysets), plain: keysets });
  const keys = new SimKeysets(pool, keyring, 2);

  const a = sim('8944000000000000001');
  const opened = await keys.open(a);
  t.same([...opened.keys()], [1, 2]);
  t.same(JSON.parse(JSON.stringify(opened.get(2)!.kic)), { algorithm: 'aes', length: 16 }, 'keys, not their bytes');
  t.equal(await keys.open({ ...a, keysets: Buffer.from(a.keysets) }), opened, 'the same SIM and sealed keysets: the keysets opened before');

  // A rotation switched the SIM to new keysets: sealed again, so other bytes.
  const rotated = sim(a.iccid, [keyset(1), keyset(3)]);
  const reopened = await keys.open(rotated);
  t.not(reopened, opened, 'other sealed keysets: opened afresh');
  t.same([...reopened.keys()], [1, 3]);

  // Two SIMs kept: a, then b and c; a (least recently used) is dropped.
  const b = sim('8944000000000000002');
  const c = sim('8944000000000000003');
  const bOpened = await keys.open(b);
  t.equal(await keys.open(rotated), reopened, 'a is kept while two SIMs are');
  const cOpened = await keys.open(c);
  t.not(await keys.open(b), bOpened, 'b, least recently used, was dropped for c');
  t.equal(await keys.open(c), cOpened, 'c is kept');

  // A sealed blob that does not open (another SIM's, under this ICCID) is refused, never served from another SIM's entry.
  await t.rejects(keys.open({ ...b, iccid: '8944000000000000009' }), 'a keyset sealed for another ICCID does not open');
});
