/**
 * The fleet's cards on disk: an append-only log of card snapshots (each the card's whole
 * persistent state as JSON, sim-applet/card/state.ts). Saving a card appends one record;
 * where each card's latest record lies is kept in two typed arrays aligned with the vendor
 * index (12 bytes a card: a million cards is 12 MB, and no card object is held for it). At
 * most `maxLive` cards are held as objects, least recently used dropped first; the others are
 * read back when an SMS arrives for them. A card never seen is personalised from its
 * vendor-file row, as the card factory would, and saved.
 *
 * Why a log and not a file per card: on this kind of disk a write-and-rename of a small file
 * costs about 750 µs and an append about 16 µs, and a million small files is its own
 * problem. A record is `u32 length | f64 MSISDN | JSON`; on start the log is read once to
 * find each card's latest record, and a record cut short by a crash is dropped (the card is
 * then as it was before that SMS, as a card torn during a write is). When the log grows past
 * twice what the latest records need (and 64 MB) it is rewritten with those alone, at the
 * first moment no card has been saved for half a second; at four times, at once.
 *
 * Why wait for a quiet moment: rewriting the 300 MB of 100,000 cards holds the fleet for
 * about a second (most of it the kernel handing out fresh pages for the new file, not the
 * copying), and every SMS for every card waits meanwhile. In the benchmark `provisioning` the
 * log passes twice its needs as key generation ends, and the fleet is idle while the batch is
 * anchored; rewritten at once, it stalled the identity push instead (README).
 */
import { closeSync, existsSync, fstatSync, ftruncateSync, mkdirSync, openSync, readSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { personaliseCard, Uicc, type VendorCa } from '../../sim-applet/index.js';
import type { VendorIndex } from './vendor-index.js';

const HEADER = 12;
const COMPACT_MIN_BYTES = 64 * 1024 * 1024;
/** A log this many times what its latest records need is rewritten at once, busy or not. */
const COMPACT_AT_ONCE = 4;
/** How long no card must have been saved before a log past twice its needs is rewritten. */
const QUIET_MS = 500;

export class CardStore {
  private readonly live = new Map<string, Uicc>();
  private readonly loading = new Map<string, Promise<Uicc | null>>();
  private readonly offsets: Float64Array;
  private readonly lengths: Uint32Array;
  private readonly file: string;
  private fd: number;
  private size = 0;
  private liveBytes = 0;
  private scratch = Buffer.allocUnsafe(16 * 1024);
  private lastSave = 0;
  private quietCheck: NodeJS.Timeout | null = null;
  personalised = 0;
  /** Rewrites of the log so far. */
  compactions = 0;

  constructor(
    dir: string,
    private readonly index: VendorIndex,
    private readonly vendorCa: VendorCa,
    private readonly maxLive = 10_000,
    /** Rewrite the log once it is past this size and twice what it needs. Default 64 MB. */
    private readonly compactMinBytes = COMPACT_MIN_BYTES,
    /** How long no card must have been saved before a log past twice its needs is rewritten. Default 500 ms. */
    private readonly quietMs = QUIET_MS,
  ) {
    mkdirSync(dir, { recursive: true });
    this.file = join(dir, 'cards.log');
    this.offsets = new Float64Array(index.size).fill(-1);
    this.lengths = new Uint32Array(index.size);
    this.fd = openSync(this.file, existsSync(this.file) ? 'r+' : 'w+');
    this.scan();
  }

  /** Cards with a saved state. */
  get saved(): number {
    let n = 0;
    for (const o of this.offsets) if (o >= 0) n++;
    return n;
  }

  /** The card of this MSISDN (digits), or null when the vendor file has none. */
  get(msisdn: string): Promise<Uicc | null> {
    const card = this.live.get(msisdn);
    if (card) {
      this.live.delete(msisdn);
      this.live.set(msisdn, card);
      return Promise.resolve(card);
    }
    let p = this.loading.get(msisdn);
    if (!p) {
      p = this.load(msisdn).finally(() => this.loading.delete(msisdn));
      this.loading.set(msisdn, p);
    }
    return p;
  }

  /**
   * Personalise every card of the vendor file not yet in the log (the card factory's run, so
   * that OTA measurements do not include it). Cards already saved are left as they are.
   */
  async personaliseAll(onProgress?: (done: number, total: number) => void): Promise<number> {
    let made = 0;
    for (let slot = 0; slot < this.index.size; slot++) {
      if (this.offsets[slot]! >= 0) continue;
      const msisdn = this.index.msisdnAt(slot);
      const row = await this.index.row(msisdn);
      if (!row) continue;
      const card = new Uicc(personaliseCard(row, { vendorCa: this.vendorCa, random: randomBytes, now: new Date() }), { random: randomBytes });
      this.personalised++;
      this.save(msisdn, card);
      made++;
      if (onProgress && slot % 5000 === 0) onProgress(slot, this.index.size);
    }
    return made;
  }

  /** Append the card's state; it is in the log when this returns. */
  save(msisdn: string, card: Uicc): void {
    const slot = this.index.slotOf(msisdn);
    if (slot < 0) throw new RangeError(`no card ${msisdn} in the vendor file`);
    // The record is encoded into one buffer kept for the purpose: a card's JSON is about 3 KB,
    // and a fresh buffer for it and another for the record took a new 8 KB slab of Node's
    // pool every other card (4-5% of the fleet's CPU in the benchmark `provisioning`).
    const json = card.snapshotJson();
    const most = HEADER + json.length * 3;
    if (this.scratch.length < most) this.scratch = Buffer.allocUnsafe(Math.max(most, 2 * this.scratch.length));
    const record = this.scratch;
    const length = record.write(json, HEADER, 'utf8');
    record.writeUInt32BE(length, 0);
    record.writeDoubleBE(Number(msisdn), 4);
    writeSync(this.fd, record, 0, HEADER + length, this.size);
    if (this.offsets[slot]! >= 0) this.liveBytes -= HEADER + this.lengths[slot]!;
    this.offsets[slot] = this.size;
    this.lengths[slot] = length;
    this.size += HEADER + length;
    this.liveBytes += HEADER + length;
    this.lastSave = Date.now();
    if (this.size <= this.compactMinBytes || this.size <= 2 * this.liveBytes) return;
    if (this.size > COMPACT_AT_ONCE * this.liveBytes) this.compact();
    else this.compactWhenQuiet();
  }

  /** Check every quiet period whether a whole one passed without a save; then rewrite the log. */
  private compactWhenQuiet(): void {
    if (this.quietCheck) return;
    this.quietCheck = setInterval(() => {
      if (Date.now() - this.lastSave < this.quietMs) return;
      this.stopQuietCheck();
      if (this.size > this.compactMinBytes && this.size > 2 * this.liveBytes) this.compact();
    }, this.quietMs);
    this.quietCheck.unref();
  }

  private stopQuietCheck(): void {
    if (this.quietCheck) clearInterval(this.quietCheck);
    this.quietCheck = null;
  }

  /** Bytes in the log. */
  get logBytes(): number {
    return this.size;
  }

  /** Close the log (again: nothing). */
  close(): void {
    this.stopQuietCheck();
    if (this.fd < 0) return;
    closeSync(this.fd);
    this.fd = -1;
  }

  private async load(msisdn: string): Promise<Uicc | null> {
    const slot = this.index.slotOf(msisdn);
    if (slot < 0) return null;
    let card: Uicc;
    if (this.offsets[slot]! >= 0) {
      const json = Buffer.allocUnsafe(this.lengths[slot]!);
      readSync(this.fd, json, 0, json.length, this.offsets[slot]! + HEADER);
      card = Uicc.fromJson(json.toString('utf8'), { random: randomBytes });
    } else {
      const row = await this.index.row(msisdn);
      if (!row) return null;
      card = new Uicc(personaliseCard(row, { vendorCa: this.vendorCa, random: randomBytes, now: new Date() }), { random: randomBytes });
      this.personalised++;
      this.save(msisdn, card);
    }
    this.live.set(msisdn, card);
    while (this.live.size > this.maxLive) this.live.delete(this.live.keys().next().value as string);
    return card;
  }

  /** Find each card's latest record; cut a torn tail. */
  private scan(): void {
    const total = fstatSync(this.fd).size;
    const header = Buffer.allocUnsafe(HEADER);
    let at = 0;
    while (at + HEADER <= total) {
      readSync(this.fd, header, 0, HEADER, at);
      const length = header.readUInt32BE(0);
      if (at + HEADER + length > total) break;
      const slot = this.index.slotOfNumber(header.readDoubleBE(4));
      if (slot >= 0) {
        if (this.offsets[slot]! >= 0) this.liveBytes -= HEADER + this.lengths[slot]!;
        this.offsets[slot] = at;
        this.lengths[slot] = length;
        this.liveBytes += HEADER + length;
      }
      at += HEADER + length;
    }
    if (at < total) ftruncateSync(this.fd, at);
    this.size = at;
  }

  /** Rewrite the log with each card's latest record only. */
  private compact(): void {
    const next = `${this.file}.compact`;
    const out = openSync(next, 'w');
    let at = 0;
    for (let slot = 0; slot < this.offsets.length; slot++) {
      const from = this.offsets[slot]!;
      if (from < 0) continue;
      const record = Buffer.allocUnsafe(HEADER + this.lengths[slot]!);
      readSync(this.fd, record, 0, record.length, from);
      writeSync(out, record, 0, record.length, at);
      this.offsets[slot] = at;
      at += record.length;
    }
    closeSync(out);
    renameSync(next, this.file);
    closeSync(this.fd);
    this.fd = openSync(this.file, 'r+');
    this.size = at;
    this.liveBytes = at;
    this.compactions++;
  }
}
