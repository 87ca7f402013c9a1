/**
 * Sealing OTA keysets for the inventory, a batch at a time, each SIM alone with AES-256-GCM
 * (ICCID as additional data): each sealed row opens alone, only with its own ICCID and its
 * import's data key, any change to it is refused, nonces never repeat, and node:crypto's
 * GCM decipher (a reader written without this module) opens it too.
 */
import { createDecipheriv, randomBytes } from 'node:crypto';
import t from 'tap';
import { inventory } from '../../sim-applet/index.js';
import { encodeKeysets, KeysetCipherError, KeysetSealer, openKeysets } from '../../provisioning-api/secrets/keyset-cipher.js';

/** Rows as the inventory reader returns them, with one or two keysets of several algorithms. */
function rows(count: number, firstSerial = 0): inventory.InventoryRow[] {
  const reader = new inventory.VendorFileReader();
  const lines = inventory.generateVendorFile({
    count, format: 'csv', random: randomBytes, firstSerial,
    keysets: [{ index: 1, kicAlg: 'aes', kidAlg: 'aes' }, { index: 3, kicAlg: '3des3', kidAlg: '3des2' }],
  });
  return [...lines].map((l) => reader.push(l)).filter((r) => r !== null).map((r, i) => (i % 3 === 0 ? { ...r, keysets: r.keysets.slice(0, 1) } : r));
}

function split({ bytes, offsets }: { bytes: Buffer; offsets: Int32Array }): Buffer[] {
  // Copies: a row must open from its own bytes, with nothing of its batch around it.
  return Array.from({ length: offsets.length - 1 }, (_, i) => Buffer.from(bytes.subarray(offsets[i]!, offsets[i + 1]!)));
}

t.test('each row opens alone, with its ICCID and its data key only', async (t) => {
  const dataKey = randomBytes(32);
  const batch = rows(300);
  const sealed = split(new KeysetSealer(dataKey).sealMany(batch));
  t.equal(sealed.length, batch.length);
  t.same(sealed.map((s, i) => openKeysets(dataKey, batch[i]!.iccid, s)), batch.map((r) => r.keysets), 'every row, alone');
  t.throws(() => openKeysets(dataKey, batch[1]!.iccid, sealed[0]!), KeysetCipherError, 'another SIM\'s ICCID');
  t.throws(() => openKeysets(randomBytes(32), batch[0]!.iccid, sealed[0]!), KeysetCipherError, 'another data key');
  for (let at = 0; at < sealed[4]!.length; at++) {
    const changed = Buffer.from(sealed[4]!);
    changed[at] = changed[at]! ^ 0x01;
    t.throws(() => openKeysets(dataKey, batch[4]!.iccid, changed), KeysetCipherError, `a bit flipped at byte ${at}`);
  }
  t.throws(() => openKeysets(dataKey, batch[4]!.iccid, sealed[4]!.subarray(0, sealed[4]!.length - 1)), KeysetCipherError, 'truncated');
  const single = new KeysetSealer(dataKey).seal(batch[2]!.iccid, batch[2]!.keysets);
  t.same(openKeysets(dataKey, batch[2]!.iccid, single), batch[2]!.keysets, 'a batch of one');
  t.notOk(single.equals(sealed[2]!), 'sealing again gives another blob');
});

t.test('no key byte in a sealed row; nonces never repeat under a data key', async (t) => {
  const sealer = new KeysetSealer(randomBytes(32));
  const batch = rows(500);
  const first = split(sealer.sealMany(batch));
  const second = split(sealer.sealMany(batch));
  const blob = Buffer.concat([...first, ...second]).toString('hex');
  for (const row of batch) for (const k of row.keysets) t.notOk(blob.includes(k.kic) || blob.includes(k.kid) || blob.includes(k.kik));
  const nonces = new Set([...first, ...second].map((s) => s.subarray(0, 12).toString('hex')));
  t.equal(nonces.size, first.length + second.length, 'a fresh 96-bit nonce per sealed row');
});

t.test('node:crypto alone opens a sealed row: nonce(12) || ciphertext || tag(16), ICCID as additional data', async (t) => {
  const dataKey = randomBytes(32);
  const [row] = rows(1);
  const sealed = new KeysetSealer(dataKey).seal(row!.iccid, row!.keysets);
  const d = createDecipheriv('aes-256-gcm', dataKey, sealed.subarray(0, 12));
  d.setAAD(Buffer.from(row!.iccid, 'utf8'));
  d.setAuthTag(sealed.subarray(sealed.length - 16));
  const plain = Buffer.concat([d.update(sealed.subarray(12, sealed.length - 16)), d.final()]);
  t.same(plain, encodeKeysets(row!.keysets));
  t.throws(() => openKeysets(dataKey, inventory.iccidForSerial(12345), sealed), KeysetCipherError, 'another ICCID');
});
