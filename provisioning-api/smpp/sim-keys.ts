/**
 * The OTA keys of a SIM for the sender: its sealed keysets opened with the import's data key
 * (itself unwrapped by the master keyring), through the existing repository and cipher
 * (db/repositories/data-keys.ts, secrets/keyset-cipher.ts). Data keys are cached per id
 * (one per import); keys live in this process's memory only and are never logged.
 *
 * The keysets last opened are kept, at most `recent` SIMs' worth, least recently used
 * dropped first: a command opens its SIM's keysets to secure it, and its PoR opens them again
 * seconds later to check it. A kept entry is used only while the SIM's sealed keysets are
 * byte for byte those it was opened from, so a rotation's switch is seen at once.
 */
import { createOtaKey, type OperatorKeyset, type OtaAlgorithm } from '../../sim-applet/index.js';
import { loadDataKey } from '../db/repositories/data-keys.js';
import type { SimForOta } from '../db/repositories/ota-messages.js';
import type { Queryable } from '../db/pool.js';
import { openKeysets } from '../secrets/keyset-cipher.js';
import type { MasterKeyring } from '../secrets/master-key.js';

export class SimKeysets {
  private readonly dataKeys = new Map<string, Promise<Buffer>>();
  private readonly opened = new Map<string, { sealed: Buffer; keysets: Map<number, OperatorKeyset> }>();

  constructor(
    private readonly db: Queryable,
    private readonly keyring: MasterKeyring,
    /** How many SIMs' opened keysets are kept. Default 8,192 (twice the provisioning window). */
    private readonly recent = 8192,
  ) {}

  /** The SIM's keysets by key index. */
  async open(sim: Pick<SimForOta, 'iccid' | 'dataKeyId' | 'keysets'>): Promise<Map<number, OperatorKeyset>> {
    const kept = this.opened.get(sim.iccid);
    if (kept) {
      this.opened.delete(sim.iccid);
      if (kept.sealed.equals(sim.keysets)) {
        this.opened.set(sim.iccid, kept);
        return kept.keysets;
      }
    }
    const keysets = await this.openSealed(sim);
    this.opened.set(sim.iccid, { sealed: Buffer.from(sim.keysets), keysets });
    if (this.opened.size > this.recent) this.opened.delete(this.opened.keys().next().value as string);
    return keysets;
  }

  private async openSealed(sim: Pick<SimForOta, 'iccid' | 'dataKeyId' | 'keysets'>): Promise<Map<number, OperatorKeyset>> {
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
