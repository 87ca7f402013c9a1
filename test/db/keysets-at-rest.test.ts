/**
 * OTA keys at rest: encrypted before they reach the database (no key byte appears in any
 * table), bound to their SIM, readable with the master key, and still readable after the
 * master key rotates and the data keys are rewrapped; whichever way the file came in
 * (staged by the API, or straight into the inventory by `simchain import`), one SIM's
 * keysets open from its own row alone, with its own ICCID only.
 */
import { createHash, randomBytes } from 'node:crypto';
import t from 'tap';
import { inventory } from '../../sim-applet/index.js';
import {
  importDirect,
  KeysetCipherError,
  loadDataKey,
  loadImport,
  MasterKeyring,
  MasterKeyError,
  openKeysets,
  parseMasterKeyring,
  receiveImport,
  rewrapDataKeys,
} from '../../provisioning-api/index.js';
import { testDatabase } from '../helpers/database.js';

t.test('keysets are sealed under a wrapped data key; rotation rewraps', async (t) => {
  const db = await testDatabase();
  const tenant = (await db.pool.query<{ id: string }>(`INSERT INTO tenants (name, kind) VALUES ('op', 'operator') RETURNING id`)).rows[0]!.id;
  const v1 = { version: 1, key: randomBytes(32) };
  const keyring = new MasterKeyring(v1);
  const lines = [...inventory.generateVendorFile({
    count: 20, format: 'csv', random: randomBytes,
    keysets: [{ index: 1, kicAlg: 'aes', kidAlg: 'aes' }, { index: 2, kicAlg: '3des3', kidAlg: '3des2' }],
  })];
  const reader = new inventory.VendorFileReader();
  const rows = lines.map((l) => reader.push(l)).filter((r) => r !== null);
  const outcome = await receiveImport({ pool: db.pool, keyring, tenantId: tenant, source: [lines.join('\n')] });
  t.equal(outcome.outcome, 'staged');
  if (outcome.outcome !== 'staged') return;
  await loadImport(db.pool, outcome.importId);

  // No key, in any case, in any column of any table.
  const dump = (await db.pool.query<{ t: string }>(`SELECT string_agg(x::text, ' ') AS t FROM (
      SELECT row_to_json(s)::text AS x FROM sims s UNION ALL SELECT row_to_json(i)::text FROM sim_imports i
      UNION ALL SELECT row_to_json(d)::text FROM data_keys d UNION ALL SELECT row_to_json(j)::text FROM jobs j) all_rows`)).rows[0]!.t.toLowerCase();
  for (const row of rows) {
    for (const k of row.keysets) {
      for (const key of [k.kic, k.kid, k.kik]) t.notOk(dump.includes(key), 'key bytes never stored in clear');
    }
  }

  const sim = (await db.pool.query<{ iccid: string; keysets: Buffer; data_key_id: string }>('SELECT iccid, keysets, data_key_id FROM sims ORDER BY iccid LIMIT 1')).rows[0]!;
  const dataKey = await loadDataKey(db.pool, keyring, sim.data_key_id);
  t.same(openKeysets(dataKey, sim.iccid, sim.keysets), rows[0]!.keysets, 'the keysets open with the master key');
  t.throws(() => openKeysets(dataKey, inventory.iccidForSerial(999), sim.keysets), KeysetCipherError, 'bound to its ICCID');
  const flipped = Buffer.from(sim.keysets);
  flipped[20] = flipped[20]! ^ 1;
  t.throws(() => openKeysets(dataKey, sim.iccid, flipped), KeysetCipherError, 'tampering is detected');

  // Rotation: v2 first, v1 still there to unwrap; rewrap; then v2 alone suffices.
  const v2 = { version: 2, key: randomBytes(32) };
  const rotated = new MasterKeyring(v2, [v1]);
  t.equal(await rewrapDataKeys(db.pool, rotated), 1);
  t.equal(await rewrapDataKeys(db.pool, rotated), 0, 'idempotent');
  const onlyV2 = new MasterKeyring(v2);
  t.same(openKeysets(await loadDataKey(db.pool, onlyV2, sim.data_key_id), sim.iccid, sim.keysets), rows[0]!.keysets);
  await t.rejects(loadDataKey(db.pool, new MasterKeyring(v1), sim.data_key_id), MasterKeyError, 'the old key alone no longer opens');
});

t.test('SIMCHAIN_MASTER_KEY syntax', async (t) => {
  const k1 = randomBytes(32);
  const k2 = randomBytes(32);
  t.equal(parseMasterKeyring(k1.toString('hex')).current.version, 1);
  t.equal(parseMasterKeyring(k1.toString('base64')).current.key.equals(k1), true);
  const ring = parseMasterKeyring(`2:${k2.toString('base64')},1:${k1.toString('hex')}`);
  t.equal(ring.current.version, 2);
  t.same(ring.versions, [2, 1]);
  t.throws(() => parseMasterKeyring('short'), MasterKeyError);
  t.throws(() => parseMasterKeyring(`${k1.toString('hex')},${k2.toString('hex')}`), MasterKeyError, 'several keys need versions');
  t.throws(() => parseMasterKeyring(`1:${k1.toString('hex')},1:${k2.toString('hex')}`), MasterKeyError, 'versions are unique');
});

t.test('one SIM\'s keysets open from its row alone, with its ICCID only', async (t) => {
  const db = await testDatabase();
  const tenant = (await db.pool.query<{ id: string }>(`INSERT INTO tenants (name, kind) VALUES ('op', 'operator') RETURNING id`)).rows[0]!.id;
  const keyring = new MasterKeyring({ version: 1, key: randomBytes(32) });
  const text = [...inventory.generateVendorFile({
    count: 3000, format: 'out', random: randomBytes,
    keysets: [{ index: 1, kicAlg: 'aes', kidAlg: 'aes' }, { index: 2, kicAlg: '3des2', kidAlg: 'des' }],
  })].join('\n');
  const reader = new inventory.VendorFileReader();
  const rows = text.split('\n').map((l) => reader.push(l)).filter((r) => r !== null);
  const outcome = await importDirect({ pool: db.pool, keyring, tenantId: tenant, open: () => [text], sha256: createHash('sha256').update(text).digest() });
  t.equal(outcome.outcome, 'completed');

  // What the OTA sender reads for one SIM: its row, then its import's data key.
  const sim = async (iccid: string) => (await db.pool.query<{ keysets: Buffer; data_key_id: string }>('SELECT keysets, data_key_id FROM sims WHERE iccid = $1', [iccid])).rows[0]!;
  for (const i of [0, 1499, 2999]) {
    const row = await sim(rows[i]!.iccid);
    t.same(openKeysets(await loadDataKey(db.pool, keyring, row.data_key_id), rows[i]!.iccid, row.keysets), rows[i]!.keysets, `line ${i + 1}`);
  }
  const a = await sim(rows[10]!.iccid);
  const b = await sim(rows[11]!.iccid);
  const dataKey = await loadDataKey(db.pool, keyring, a.data_key_id);
  t.throws(() => openKeysets(dataKey, rows[11]!.iccid, a.keysets), KeysetCipherError, 'a row\'s keysets moved onto another SIM do not open');
  await db.pool.query('UPDATE sims SET keysets = $2 WHERE iccid = $1', [rows[11]!.iccid, a.keysets]);
  const moved = (await sim(rows[11]!.iccid)).keysets;
  t.throws(() => openKeysets(dataKey, rows[11]!.iccid, moved), KeysetCipherError, 'not even when written into its row');
  t.same(openKeysets(dataKey, rows[11]!.iccid, b.keysets), rows[11]!.keysets, 'its own still do');
  const dump = (await db.pool.query<{ t: string }>(`SELECT string_agg(encode(keysets, 'hex'), ' ') AS t FROM sims`)).rows[0]!.t;
  for (const row of rows.slice(0, 200)) for (const k of row.keysets) t.notOk(dump.includes(k.kic) || dump.includes(k.kik), 'no key in clear');
});
