/**
 * The OTA keys of a SIM for the sender: its sealed keysets opened with the import's data key
 * (itself unwrapped by the master keyring), through the existing repository and cipher
 * (db/repositories/data-keys.ts, secrets/keyset-cipher.ts). Data keys are cached per id
 * (one per import); keys live in this process's memory only and are never logged.
 */
import { createOtaKey, type OperatorKeyset, type OtaAlgorithm } from '../../sim-applet/index.js';
import { loadDataKey } from '../db/repositories/data-keys.js';
import type { SimForOta } from '../db/repositories/ota-messages.js';
import type { Queryable } from '../db/pool.js';
import { openKeysets } from '../secrets/keyset-cipher.js';
import type { MasterKeyring } from '../secrets/master-key.js';

export class SimKeysets {
  private readonly dataKeys = new Map<string, Promise<Buffer>>();

  constructor(private readonly db: Queryable, private readonly keyring: MasterKeyring) {}

  /** The SIM's keysets by key index. */
  async open(sim: Pick<SimForOta, 'iccid' | 'dataKeyId' | 'keysets'>): Promise<Map<number, OperatorKeyset>> {
    let dataKey = this.dataKeys.get(sim.dataKeyId);
    if (!dataKey) {
      dataKey = loadDataKey(this.db, this.keyring, sim.dataKeyId);
      dataKey.catch(() => this.dataKeys.delete(sim.dataKeyId));
      this.dataKeys.set(sim.dataKeyId, dataKey);
    }
    const keysets = openKeysets(await dataKey, sim.iccid, sim.keysets);
    return new Map(keysets.map((k) => [k.index, {
      index: k.index,
      kic: createOtaKey(k.kicAlg as OtaAlgorithm, Buffer.from(k.kic, 'hex')),
      kid: createOtaKey(k.kidAlg as OtaAlgorithm, Buffer.from(k.kid, 'hex')),
    }]));
  }
}
