/**
 * SIGN READING, SIGN ACCESS REQUEST, SIGN UNLOCK. Every signature is checked by code that
 * is not the card's: ethers (verifyTypedData, recoverAddress, TypedDataEncoder) for
 * secp256k1, node:crypto for P-256. The domain and types come from eip712.ts, the single
 * source; the fields the card adds (its address, the reading counter) are checked to be
 * in the signed data.
 */
import t from 'tap';
import { createPublicKey, randomBytes, verify } from 'node:crypto';
import { getAddress, hexlify, keccak256, recoverAddress, Signature, TypedDataEncoder, verifyTypedData, type TypedDataField } from 'ethers';
import {
  addressOf,
  CardTornError,
  domainOf,
  getStatusApdu,
  lockApdu,
  parseSignatureResponse,
  parseStatus,
  signAccessRequestApdu,
  signReadingApdu,
  signUnlockApdu,
  SIGNING_PURPOSES,
  storeDataApdu,
  terminateApdu,
  toRecoverableSignature,
  unlockApdu,
  type CommandApdu,
  type SigningPurpose,
} from '../../sim-applet/index.js';
import { newCard } from '../helpers/card.js';
import { CHAIN_ID, IDENTITY, operationalCard, ota, otaResponse, plain, raw, stateOf } from '../helpers/applet.js';

/** secp256k1 group order (SEC 2 §2.4.1). */
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

const typesOf = (purpose: SigningPurpose) => structuredClone(SIGNING_PURPOSES[purpose].types) as unknown as Record<string, TypedDataField[]>;
const CONTRACT: Record<SigningPurpose, Uint8Array> = { reading: IDENTITY.readingContract, accessRequest: IDENTITY.accessContract, unlock: IDENTITY.keyContract };
const domain = (purpose: SigningPurpose) => domainOf(purpose, CHAIN_ID, getAddress(hexlify(CONTRACT[purpose])));
const bytes32 = () => hexlify(randomBytes(32));

/** The Ethereum-style address of any SEC1 point (the card's rule for either curve), computed with ethers. */
const signerOf = (publicKey: Uint8Array) => getAddress('0x' + keccak256(publicKey.subarray(1)).slice(26));

/** Random typed fields for a purpose: the APDU the firmware sends and the typed message the card must sign for `signer`. */
function request(purpose: SigningPurpose, slot: number, signer: string): { apdu: CommandApdu; message: (counter: bigint) => Record<string, unknown> } {
  switch (purpose) {
    case 'reading': {
      const f = { observedAt: 1_780_000_000n, metric: randomBytes(32), value: -(BigInt(randomBytes(1)[0]!) * 1000n) - 1n, payloadHash: randomBytes(32) };
      return {
        apdu: signReadingApdu(slot, f),
        message: (c) => ({ device: signer, counter: c, observedAt: f.observedAt, metric: hexlify(f.metric), value: f.value, payloadHash: hexlify(f.payloadHash) }),
      };
    }
    case 'accessRequest': {
      const f = { areaId: randomBytes(32), incidentId: randomBytes(32), requestedAt: 1_780_000_000n, expiresAt: 1_780_003_600n, nonce: BigInt(bytes32()) };
      return {
        apdu: signAccessRequestApdu(slot, f),
        message: () => ({ responder: signer, areaId: hexlify(f.areaId), incidentId: hexlify(f.incidentId), requestedAt: f.requestedAt, expiresAt: f.expiresAt, nonce: f.nonce }),
      };
    }
    case 'unlock': {
      const f = { lock: randomBytes(20), keyId: 2n ** 255n + 7n, issuedAt: 1_780_000_000n, nonce: BigInt(bytes32()) };
      return {
        apdu: signUnlockApdu(slot, f),
        message: () => ({ lock: getAddress(hexlify(f.lock)), keyId: f.keyId, user: signer, issuedAt: f.issuedAt, nonce: f.nonce }),
      };
    }
  }
}

const PURPOSES = Object.keys(SIGNING_PURPOSES) as SigningPurpose[];

t.test('secp256k1: ethers verifies every purpose, plain and through OTA, and recovers the card address; s is low', async (t) => {
  const { card, publicKeys } = operationalCard({ curves: ['secp256k1'] });
  const address = addressOf(publicKeys[0]!);
  t.equal(address, signerOf(publicKeys[0]!), 'addressOf agrees with ethers');
  for (const purpose of PURPOSES) {
    for (let i = 0; i < 8; i++) {
      const req = request(purpose, 1, address);
      // The first of each purpose through OTA (the PoR carries the response), the others plain as the firmware sends them.
      const r = i === 0 ? otaResponse(card, [req.apdu]) : plain(card, req.apdu);
      t.equal(r.sw, 0x9000);
      t.equal(r.data.length, purpose === 'reading' ? 136 : 128, 'response layout');
      const sig = parseSignatureResponse(r.data, purpose === 'reading');
      const message = req.message(sig.counter ?? 0n);
      const types = typesOf(purpose);
      // The digest as ethers computes it from the shared definitions, independently of the card's encoder.
      t.equal(hexlify(sig.domainSeparator), TypedDataEncoder.hashDomain(domain(purpose)), 'domain separator');
      t.equal(hexlify(sig.structHash), TypedDataEncoder.from(types).hashStruct(SIGNING_PURPOSES[purpose].primaryType, message), 'struct hash');
      const digest = TypedDataEncoder.hash(domain(purpose), types, message);
      t.equal(hexlify(sig.digest), digest);
      const sig65 = hexlify(toRecoverableSignature(sig.digest, sig.r, sig.s, publicKeys[0]!));
      t.equal(verifyTypedData(domain(purpose), types, message, sig65), address, `${purpose}: verifyTypedData`);
      t.equal(recoverAddress(digest, sig65), address, `${purpose}: recoverAddress`);
      t.ok(BigInt(hexlify(sig.s)) <= N / 2n, 'low s');
      t.equal(Signature.from(sig65).s, hexlify(sig.s), 'ethers takes it as canonical');
    }
  }
});

t.test('P-256: node:crypto verifies ECDSA-SHA256 over the 66-byte EIP-712 message', async (t) => {
  const { card, publicKeys } = operationalCard({ curves: ['secp256k1', 'p256'] });
  const point = publicKeys[1]!;
  const key = createPublicKey({
    key: { kty: 'EC', crv: 'P-256', x: Buffer.from(point.subarray(1, 33)).toString('base64url'), y: Buffer.from(point.subarray(33)).toString('base64url') },
    format: 'jwk',
  });
  const signer = signerOf(point);
  for (const purpose of PURPOSES) {
    const req = request(purpose, 2, signer);
    const r = plain(card, req.apdu);
    t.equal(r.sw, 0x9000);
    const sig = parseSignatureResponse(r.data, purpose === 'reading');
    const types = typesOf(purpose);
    // The message built by ethers alone: 19 01 ‖ hashDomain ‖ hashStruct, the signer being the card's own.
    const message66 = Buffer.concat([
      Buffer.from('1901', 'hex'),
      Buffer.from(TypedDataEncoder.hashDomain(domain(purpose)).slice(2), 'hex'),
      Buffer.from(TypedDataEncoder.from(types).hashStruct(SIGNING_PURPOSES[purpose].primaryType, req.message(sig.counter ?? 0n)).slice(2), 'hex'),
    ]);
    t.same(Buffer.from(sig.message), message66, `${purpose}: the card signed the message ethers builds`);
    const rs = Buffer.concat([sig.r, sig.s]);
    t.ok(verify('sha256', message66, { key, dsaEncoding: 'ieee-p1363' }, rs), `${purpose}: node:crypto verifies`);
    const tampered = Buffer.from(message66);
    tampered[40]! ^= 1;
    t.notOk(verify('sha256', tampered, { key, dsaEncoding: 'ieee-p1363' }, rs), 'and not for another message');
  }
});

t.test('the reading counter: +1 per SIGN READING, in the signed data, only SIGN READING moves it', async (t) => {
  const { card, publicKeys } = operationalCard();
  const address = addressOf(publicKeys[0]!);
  const fields = { observedAt: 5n, metric: new Uint8Array(32).fill(9), value: 21n, payloadHash: new Uint8Array(32) };
  const digests = new Set<string>();
  for (let expected = 1n; expected <= 5n; expected++) {
    const sig = parseSignatureResponse(plain(card, signReadingApdu(1, fields)).data, true);
    t.equal(sig.counter, expected);
    t.equal(stateOf(card).readingCounter, Number(expected));
    digests.add(hexlify(sig.digest));
    const message = { device: address, counter: expected, observedAt: 5n, metric: hexlify(fields.metric), value: 21n, payloadHash: hexlify(fields.payloadHash) };
    const sig65 = hexlify(toRecoverableSignature(sig.digest, sig.r, sig.s, publicKeys[0]!));
    t.equal(verifyTypedData(domain('reading'), typesOf('reading'), message, sig65), address);
    // Claiming another counter for the same signature recovers somebody else.
    t.not(verifyTypedData(domain('reading'), typesOf('reading'), { ...message, counter: expected + 1n }, sig65), address);
  }
  t.equal(digests.size, 5, 'the same fields give a new digest with each counter');
  // The other purposes and the reads leave it alone.
  plain(card, request('accessRequest', 1, address).apdu);
  plain(card, request('unlock', 1, address).apdu);
  plain(card, getStatusApdu());
  t.equal(parseStatus(plain(card, getStatusApdu()).data).readingCounter, 5n);
  // Through OTA too: the counter moves, and the PoR carries the signature.
  const viaOta = otaResponse(card, [signReadingApdu(1, fields)]);
  t.equal(viaOta.sw, 0x9000);
  t.equal(parseSignatureResponse(viaOta.data, true).counter, 6n);
  t.equal(stateOf(card).readingCounter, 6);
});

t.test('the signer field is the card own address, whatever else the firmware sends', async (t) => {
  const { card, publicKeys } = operationalCard();
  const address = addressOf(publicKeys[0]!);
  const lock = new Uint8Array(20).fill(0x77);
  const sig = parseSignatureResponse(plain(card, signUnlockApdu(1, { lock, keyId: 1n, issuedAt: 2n, nonce: 3n })).data, false);
  const sig65 = hexlify(toRecoverableSignature(sig.digest, sig.r, sig.s, publicKeys[0]!));
  const message = { lock: getAddress(hexlify(lock)), keyId: 1n, user: address, issuedAt: 2n, nonce: 3n };
  t.equal(verifyTypedData(domain('unlock'), typesOf('unlock'), message, sig65), address, 'user = the card');
  t.not(verifyTypedData(domain('unlock'), typesOf('unlock'), { ...message, user: message.lock }, sig65), address, 'not the lock the firmware named');
  // A different chain id or contract is another domain: the signature does not carry over.
  const other = domainOf('unlock', CHAIN_ID + 1n, getAddress(hexlify(IDENTITY.keyContract)));
  t.not(verifyTypedData(other, typesOf('unlock'), message, sig65), address);
  const another = operationalCard({ identity: false }).publicKeys[0]!;
  t.throws(() => toRecoverableSignature(sig.digest, sig.r, sig.s, another), { code: 'INVALID_ARGUMENT' }, 'the host helper refuses a key that did not sign');
});

t.test('a signing command sent without Le (T=0 case 3) is answered 61xx, the data by GET RESPONSE', async (t) => {
  const { card } = operationalCard();
  const apdu = signAccessRequestApdu(1, { areaId: new Uint8Array(32), incidentId: new Uint8Array(32), requestedAt: 1n, expiresAt: 2n, nonce: 3n });
  const head = raw(card, Buffer.concat([Buffer.of(0x80, apdu.ins, 0, 1, apdu.data.length), apdu.data]));
  t.equal(head.sw, 0x6180);
  t.equal(head.data.length, 0);
  const rest = raw(card, '00 C0 00 00 80');
  t.equal(rest.sw, 0x9000);
  t.equal(rest.data.length, 128);
});

t.test('refusals: state 6985, slot 6A88, P1/P2 6A86, length 6700; the counter never moves', async (t) => {
  const sign = (purpose: SigningPurpose, slot = 1) => request(purpose, slot, '0x' + '00'.repeat(20)).apdu;

  const fresh = newCard();
  for (const purpose of PURPOSES) t.equal(plain(fresh, sign(purpose)).sw, 0x6985, `${purpose} before GENERATE`);

  const { card: noIdentity } = operationalCard({ identity: false });
  for (const purpose of PURPOSES) t.equal(plain(noIdentity, sign(purpose)).sw, 0x6985, `${purpose} without identity`);
  // A chain id and one contract: only that purpose can sign.
  otaResponse(noIdentity, [storeDataApdu({ chainId: CHAIN_ID, accessContract: IDENTITY.accessContract })]);
  t.equal(plain(noIdentity, sign('accessRequest')).sw, 0x9000, 'access request has its domain');
  t.equal(plain(noIdentity, sign('reading')).sw, 0x6985, 'reading has no contract');
  t.equal(plain(noIdentity, sign('unlock')).sw, 0x6985, 'unlock has no contract');
  const contractOnly = operationalCard({ identity: false }).card;
  otaResponse(contractOnly, [storeDataApdu({ readingContract: IDENTITY.readingContract })]);
  t.equal(plain(contractOnly, sign('reading')).sw, 0x6985, 'a contract without chain id');

  const { card } = operationalCard();
  const before = stateOf(card);
  for (const purpose of PURPOSES) {
    const good = sign(purpose);
    t.equal(plain(card, sign(purpose, 3)).sw, 0x6a88, `${purpose}: empty slot`);
    t.equal(plain(card, sign(purpose, 0)).sw, 0x6a86, `${purpose}: slot 0`);
    t.equal(plain(card, sign(purpose, 5)).sw, 0x6a86, `${purpose}: slot 5`);
    t.equal(plain(card, { ...good, p2: 0x81 }).sw, 0x6a86, `${purpose}: P2 81`);
    t.equal(plain(card, { ...good, p1: 1 }).sw, 0x6a86, `${purpose}: P1 01`);
    t.equal(plain(card, { ...good, data: good.data.subarray(1) }).sw, 0x6700, `${purpose}: one byte short`);
    t.equal(plain(card, { ...good, data: Buffer.concat([good.data, Buffer.of(0)]) }).sw, 0x6700, `${purpose}: one byte long`);
    t.equal(raw(card, Buffer.of(0x80, good.ins, 0, 1, 0)).sw, 0x6700, `${purpose}: no data at all`);
  }
  t.strictSame(stateOf(card), before, 'no refusal changed anything');

  otaResponse(card, [lockApdu()]);
  const locked = stateOf(card);
  for (const purpose of PURPOSES) t.equal(plain(card, sign(purpose)).sw, 0x6985, `${purpose} while locked`);
  const viaOta = ota(card, [sign('reading')]);
  t.equal(viaOta.response?.sw, 0x6985, 'through OTA too');
  t.strictSame({ ...stateOf(card), keysets: locked.keysets }, locked);
  otaResponse(card, [unlockApdu()]);
  t.equal(plain(card, sign('reading')).sw, 0x9000, 'signs again once unlocked');
  otaResponse(card, [terminateApdu()]);
  const terminated = stateOf(card);
  for (const purpose of PURPOSES) t.equal(plain(card, sign(purpose)).sw, 0x6985, `${purpose} once terminated`);
  t.strictSame(stateOf(card), terminated);
});

t.test('the reading counter does not wrap: at its maximum the card refuses', async (t) => {
  const { card } = operationalCard();
  const full = newCard({ ...stateOf(card), readingCounter: Number.MAX_SAFE_INTEGER - 1 });
  const apdu = request('reading', 1, '0x' + '00'.repeat(20)).apdu;
  const last = plain(full, apdu);
  t.equal(last.sw, 0x9000);
  t.equal(parseSignatureResponse(last.data, true).counter, BigInt(Number.MAX_SAFE_INTEGER));
  const before = stateOf(full);
  t.equal(plain(full, apdu).sw, 0x6985);
  t.strictSame(stateOf(full), before);
});

t.test('a tear as the counter is written: no signature, no counter change', async (t) => {
  const { card } = operationalCard();
  const before = stateOf(card);
  card.fault = (point) => {
    if (point === 'reading-counter-written') throw new CardTornError(point);
  };
  t.throws(() => plain(card, request('reading', 1, '0x' + '00'.repeat(20)).apdu), CardTornError);
  card.fault = undefined;
  t.strictSame(stateOf(card), before);
  const r = plain(card, request('reading', 1, '0x' + '00'.repeat(20)).apdu);
  t.equal(parseSignatureResponse(r.data, true).counter, 1n, 'the next signature uses the value the torn one did not');
});
