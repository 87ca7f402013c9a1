/**
 * The attestation checks of key generation on worker threads (attest-pool.ts) give what the
 * same checks give on the calling thread, in the order asked, for good keys and for each kind
 * of bad one; the vendor CA may be DER or read once; a closed pool refuses work.
 */
import t from 'tap';
import { encodeCompactResponse, generateKeyPairApdu, vendorAuthority } from '../../sim-applet/index.js';
import { imsiCommitment } from '../../provisioning-api/domain/imsi-commitment.js';
import { AttestationPool, attestInline, type AttestInput } from '../../provisioning-api/provisioning/attest-pool.js';
import { CHAIN_KEY_CURVE, CHAIN_KEY_SLOT, type AttestOutcome } from '../../provisioning-api/provisioning/attest.js';
import { otaResponse, stateOf } from '../helpers/applet.js';
import { ICCID, newCard, NOW, vendorCa } from '../helpers/card.js';

const IMSI = '262011234567890';

/** Key generation PoRs of one card, each a fresh key; every fifth without the certificate (the operator holds it). */
function inputs(count: number): AttestInput[] {
  const card = newCard();
  const certificate = Buffer.from(stateOf(card).attestation.certificate, 'hex');
  return Array.from({ length: count }, (_, k) => {
    const held = k % 5 === 4;
    const r = otaResponse(card, [generateKeyPairApdu(CHAIN_KEY_CURVE, CHAIN_KEY_SLOT, { replace: true, label: 'chain', withoutCertificate: held })]);
    return { iccid: ICCID, imsi: IMSI, porData: Buffer.from(encodeCompactResponse({ executed: r.executed, sw: r.sw, data: r.data })), heldCertificate: held ? certificate : null };
  });
}

/** What does not depend on the fresh salt. */
function comparable(o: AttestOutcome): unknown {
  return o.ok ? { ok: true, publicKey: o.key.publicKey.toString('hex'), address: o.key.address, serial: o.key.attestationSerial } : o;
}

t.test('two workers answer as the calling thread does, in order, good and bad keys alike', async (t) => {
  const items = inputs(150);
  // Bad ones among them: a signature bit flipped, a PoR that is no key template, another
  // card's ICCID (the certificate names this one), a key without the certificate it needs.
  const flipped = Buffer.from(items[10]!.porData);
  flipped[flipped.length - 20]! ^= 0x01;
  items[10] = { ...items[10]!, porData: flipped };
  items[20] = { ...items[20]!, porData: Buffer.from('0190000102', 'hex') };
  items[30] = { ...items[30]!, iccid: '8988211000000467293' };
  items[44] = { ...items[44]!, heldCertificate: null };
  const ca = vendorAuthority(vendorCa().certificate);
  const pool = new AttestationPool(2);
  t.teardown(() => pool.close());
  const [inline, pooled, pooledDer] = [await attestInline(ca, NOW, items), await pool.attest(ca, NOW, items), await pool.attest(Buffer.from(vendorCa().certificate), NOW, items)];
  t.equal(pooled.length, items.length);
  t.same(pooled.map(comparable), inline.map(comparable), 'the same outcome for every item, in the order given');
  t.same(pooledDer.map(comparable), inline.map(comparable), 'the CA as DER: the same');
  t.equal(pooled.filter((o) => o.ok).length, 146, 'all but the four bad ones pass');
  t.match(pooled[10], { ok: false, code: 'ATTESTATION_FAILED' });
  t.match(pooled[20], { ok: false, code: 'MALFORMED_RESPONSE' });
  t.match(pooled[30], { ok: false, code: 'ATTESTATION_FAILED' });
  t.match(pooled[44], { ok: false, code: 'ATTESTATION_FAILED' });
  const passed = pooled.flatMap((o) => (o.ok ? [o.key] : []));
  t.ok(passed.every((k) => Buffer.isBuffer(k.publicKey) && Buffer.isBuffer(k.salt) && Buffer.isBuffer(k.imsiCommitment)), 'buffers again, as the database client expects');
  t.ok(passed.every((k) => k.imsiCommitment.equals(Buffer.from(imsiCommitment(k.salt, IMSI)))), 'each commitment is of the salt drawn in the worker');
  t.equal(new Set(passed.map((k) => k.salt.toString('hex'))).size, 146, 'every key its own salt');
  t.same(await pool.attest(ca, NOW, []), [], 'nothing asked, nothing answered');
});

t.test('a closed pool refuses work; checks it held fail rather than hang', async (t) => {
  const items = inputs(3);
  const ca = vendorAuthority(vendorCa().certificate);
  const pool = new AttestationPool(1);
  const pending = pool.attest(ca, NOW, items);
  await pool.close();
  await t.rejects(pending, /attestation worker exited/);
  await t.rejects(pool.attest(ca, NOW, items), /closed/);
  t.throws(() => new AttestationPool(0), RangeError);
});

t.test('warm starts every worker before the first check, and a closed pool starts none', async (t) => {
  const pool = new AttestationPool(2);
  t.teardown(() => pool.close());
  t.equal(pool.started, 0, 'none until asked');
  pool.warm();
  t.equal(pool.started, 2, 'both loading before any check');
  pool.warm();
  t.equal(pool.started, 2, 'warm again starts no more');
  const items = inputs(3);
  const outcomes = await pool.attest(vendorAuthority(vendorCa().certificate), NOW, items);
  t.same(outcomes.map((o) => o.ok), [true, true, true], 'the warm workers check');
  await pool.close();
  t.equal(pool.started, 0);
  pool.warm();
  t.equal(pool.started, 0, 'closed: nothing started');
});
