/**
 * What the crash tests share: a fresh database with an imported vendor file of `cards` SIMs
 * (its vendor CA configured), the operator and a carrier-ops key, the master key both as the
 * keyring and as SIMCHAIN_MASTER_KEY for worker processes, and a scratch directory.
 */
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createVendorCa, inventory, type VendorCa } from '../../sim-applet/index.js';
import {
  createApiKey, formatMasterKeyring, insertTenant, loadImport, MasterKeyring, receiveImport, setVendorCa, type Principal,
} from '../../provisioning-api/index.js';
import { testDatabase, type TestDatabase } from './database.js';

export interface CrashInventory {
  db: TestDatabase;
  dir: string;
  keyring: MasterKeyring;
  /** SIMCHAIN_MASTER_KEY for the worker processes. */
  masterKey: string;
  vendorFile: string;
  vendorCa: VendorCa;
  importId: string;
  /** A carrier-ops caller of the operator tenant. */
  principal: Principal;
}

export async function crashInventory(cards: number, firstSerial: number): Promise<CrashInventory> {
  const db = await testDatabase();
  const dir = mkdtempSync(join(tmpdir(), 'simchain-crash-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const masterBytes = randomBytes(32);
  const keyring = new MasterKeyring({ version: 1, key: masterBytes });
  const text = [...inventory.generateVendorFile({ format: 'csv', count: cards, random: randomBytes, tar: 'bfff01', firstSerial })].join('\n') + '\n';
  const vendorFile = join(dir, 'vendor.csv');
  writeFileSync(vendorFile, text);
  const vendorCa = createVendorCa({ random: randomBytes, now: new Date() });
  const operator = await insertTenant(db.pool, 'operator', 'operator');
  const key = await createApiKey(db.pool, operator, 'carrier-ops', 'ops');
  const staged = await receiveImport({ pool: db.pool, keyring, tenantId: operator.id, source: [Buffer.from(text)] });
  if (staged.outcome !== 'staged') throw new Error(staged.outcome);
  await loadImport(db.pool, staged.importId);
  await setVendorCa(db.pool, staged.importId, Buffer.from(vendorCa.certificate));
  return {
    db, dir, keyring, masterKey: formatMasterKeyring([{ version: 1, key: masterBytes }]), vendorFile, vendorCa, importId: staged.importId,
    principal: { keyId: key.key.id, tenantId: operator.id, tenantKind: 'operator', role: 'carrier-ops' },
  };
}
