/**
 * Full OTA round trips through one card model per second, beside the bare library rate in
 * the same run:
 *  - AES-secured GENERATE KEY PAIR → PoR: operator encodes the packet, SMS-DELIVER, ENVELOPE,
 *    the card opens it, generates a secp256k1 key, attests it (P-256), answers by
 *    SMS-SUBMIT (FETCH / TERMINAL RESPONSE), operator reassembles and checks the PoR;
 *    against bare @noble/curves secp256k1 key generation + one signature (the card's
 *    unavoidable work: a key and an attestation signature).
 *  - SIGN READING over plain APDUs (EIP-712 digest, low-s signature, counter transaction),
 *    against a bare secp256k1 signature.
 */
import { randomBytes } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { p256 } from '@noble/curves/nist.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import type { Benchmark } from './index.js';
import { fmtRate, measureRate } from './measure.js';
import {
  ADMIN_SPI,
  commandSmsUserData,
  createOtaKey,
  createVendorCa,
  decodeSmsSubmit,
  encodeCommandApdu,
  generateKeyPairApdu,
  parseKeyTemplate,
  personaliseCard,
  porUserDataOf,
  readPor,
  signReadingApdu,
  smsDeliverOf,
  smsPpDownload,
  storeDataApdu,
  transmitWithResponse,
  Uicc,
} from '../sim-applet/index.js';

const SPI = ADMIN_SPI;
const OPERATOR = { ton: 'international', npi: 'isdn_e164', digits: '4912345' } as const;

export const benchmark: Benchmark = {
  name: 'card-roundtrip',
  summary: 'OTA round trips through one card model per second vs bare secp256k1 keygen and signing (@noble/curves)',
  async run() {
    const now = new Date();
    const kic = randomBytes(16);
    const kid = randomBytes(16);
    const row = {
      iccid: '8988211000000467285', imsi: '262011234567890', msisdn: '+491701234567', tar: 'bfff01',
      keysets: [{ index: 1, kic: kic.toString('hex'), kid: kid.toString('hex'), kik: randomBytes(16).toString('hex'), kicAlg: 'aes', kidAlg: 'aes' }],
    };
    const card = new Uicc(personaliseCard(row, { vendorCa: createVendorCa({ random: randomBytes, now }), random: randomBytes, now }), { random: randomBytes });
    const keyset = { index: 1, kic: createOtaKey('aes', kic), kid: createOtaKey('aes', kid) };
    const tar = Buffer.from(row.tar, 'hex');
    let cntr = 0;
    const ota = (commands: Parameters<typeof commandSmsUserData>[0]['commands']) => {
      const submits: Uint8Array[] = [];
      for (const ud of commandSmsUserData({ spi: SPI, keyset, tar, cntr: ++cntr, commands })) {
        submits.push(...smsPpDownload((c) => card.transmit(c), smsDeliverOf(ud, OPERATOR, now)).submits);
      }
      return readPor(porUserDataOf(submits.map((s) => decodeSmsSubmit(s).ud)), SPI, keyset);
    };
    ota([storeDataApdu({ chainId: 31337n, readingContract: randomBytes(20) })]);

    const generate = generateKeyPairApdu('secp256k1', 1, { replace: true });
    let smsIn = 0;
    const roundTrip = () => {
      const { por, response } = ota([generate]);
      if (!por.ccValid || response?.sw !== 0x9000) throw new Error('round trip failed');
      parseKeyTemplate(response.data);
    };
    roundTrip();
    smsIn = commandSmsUserData({ spi: SPI, keyset, tar, cntr: cntr + 1, commands: [generate] }).length;

    const reading = encodeCommandApdu(signReadingApdu(1, { observedAt: 1, metric: new Uint8Array(32), value: 1n, payloadHash: new Uint8Array(32) }));
    const signReading = () => {
      if (transmitWithResponse((c) => card.transmit(c), reading).sw !== 0x9000) throw new Error('sign failed');
    };

    const digest = keccak_256(randomBytes(64));
    const sk = secp256k1.utils.randomSecretKey();
    const bareKeygenSign = () => {
      const k = secp256k1.utils.randomSecretKey(randomBytes(48));
      secp256k1.getPublicKey(k, false);
      secp256k1.sign(digest, k, { prehash: false });
    };
    const bareSign = () => secp256k1.sign(digest, sk, { prehash: false });
    const pk = p256.utils.randomSecretKey();
    const bareP256Sign = () => p256.sign(digest, pk);

    const opts = { rounds: 5, roundMs: 1000, batch: 1 };
    const rt = measureRate(roundTrip, opts);
    const bareGen = measureRate(bareKeygenSign, opts);
    const sr = measureRate(signReading, opts);
    const bareS = measureRate(bareSign, opts);
    const bareP = measureRate(bareP256Sign, opts);
    console.log(`GENERATE KEY PAIR over OTA (AES-128, ${smsIn} SMS in, PoR by SMS-SUBMIT): ${fmtRate(rt.median)}`);
    console.log(`bare secp256k1 keygen + sign (noble)                                : ${fmtRate(bareGen.median)}`);
    console.log(`ratio round trip / bare                                             : ${(rt.median / bareGen.median).toFixed(2)} (goal >= 0.5)`);
    console.log(`SIGN READING over plain APDUs                                       : ${fmtRate(sr.median)}`);
    console.log(`bare secp256k1 sign (noble)                                         : ${fmtRate(bareS.median)}`);
    console.log(`ratio SIGN READING / bare sign                                      : ${(sr.median / bareS.median).toFixed(2)} (goal >= 0.5)`);
    console.log(`(for reference: bare P-256 sign, the attestation's curve            : ${fmtRate(bareP.median)})`);
  },
};
