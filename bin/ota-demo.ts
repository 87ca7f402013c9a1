/**
 * `simchain ota-demo`: one SIM's life over the air, with nothing but the protocol layer and
 * the card model. The operator personalises a card, generates its chain key over OTA
 * (ciphered, CC'd, counter-checked), checks the attestation against the card vendor's CA,
 * pushes the chain identity, and the device firmware gets a sensor reading signed that
 * anyone can verify with ethers. It is what `npm start` runs until the API exists.
 */
import { randomBytes } from 'node:crypto';
import { getAddress, hexlify, Signature, verifyTypedData } from 'ethers';
import {
  ADMIN_SPI,
  addressOf,
  commandSmsUserData,
  createOtaKey,
  createVendorCa,
  decodeSmsSubmit,
  domainOf,
  generateKeyPairApdu,
  parseKeyTemplate,
  parseSignatureResponse,
  personaliseCard,
  porUserDataOf,
  readPor,
  SIGNING_PURPOSES,
  signReadingApdu,
  smsDeliverOf,
  smsPpDownload,
  storeDataApdu,
  swHex,
  toHex,
  toRecoverableSignature,
  transmitWithResponse,
  encodeCommandApdu,
  Uicc,
  verifyAttestation,
  SIMCHAIN_DEFAULT_TAR,
} from '../sim-applet/index.js';
import { UsageError } from './cli-io.js';
import type { Subcommand } from './subcommand.js';

const say = (line = ''): void => {
  process.stdout.write(line + '\n');
};

async function run(argv: string[]): Promise<number> {
  if (argv.length > 0) throw new UsageError(`unexpected argument '${argv[0]}'`);
  const now = new Date();
  say('simchain: the OTA protocol layer and the SIM card model, end to end.');
  say('(The provisioning API, the database and the chain join this in the next releases; see README.md.)');
  say();

  // 1. The card factory personalises a card from a vendor inventory row.
  const kic = randomBytes(16);
  const kid = randomBytes(16);
  const vendorCa = createVendorCa({ random: randomBytes, now, name: 'Demo Card Vendor CA' });
  const row = {
    iccid: '8988211000000467285',
    imsi: '262011234567890',
    msisdn: '+491701234567',
    tar: SIMCHAIN_DEFAULT_TAR,
    keysets: [{ index: 1, kic: toHex(kic), kid: toHex(kid), kik: toHex(randomBytes(16)), kicAlg: 'aes', kidAlg: 'aes' }],
  };
  const card = new Uicc(personaliseCard(row, { vendorCa, random: randomBytes, now }), { random: randomBytes });
  say(`1. card personalised: ICCID ${row.iccid}, applet TAR ${row.tar}, OTA keyset 1 AES-128 (CBC + CMAC)`);

  // 2. The operator pushes the chain identity and asks for a key pair, in one secured packet.
  const spi = ADMIN_SPI;
  const keyset = { index: 1, kic: createOtaKey('aes', kic), kid: createOtaKey('aes', kid) };
  const contract = randomBytes(20);
  const parts = commandSmsUserData({
    spi,
    keyset,
    tar: Buffer.from(row.tar, 'hex'),
    cntr: 1,
    commands: [storeDataApdu({ chainId: 31337n, registry: randomBytes(20), readingContract: contract }), generateKeyPairApdu('secp256k1', 1, { label: 'chain' })],
  });
  say(`2. operator → card: STORE DATA + GENERATE KEY PAIR, ciphered and CC'd, counter 1: ${parts.length} SMS-DELIVER`);
  const submits: Uint8Array[] = [];
  const operator = { ton: 'international', npi: 'isdn_e164', digits: '4912345' } as const;
  for (const ud of parts) submits.push(...smsPpDownload((c) => card.transmit(c), smsDeliverOf(ud, operator, now)).submits);
  const { por, response } = readPor(porUserDataOf(submits.map((s) => decodeSmsSubmit(s).ud)), spi, keyset);
  say(`   card → operator: PoR in ${submits.length} SMS-SUBMIT, status ${por.statusName}, CC ${por.ccValid ? 'valid' : 'INVALID'}, ` +
    `${response?.executed} commands, last SW ${swHex(response?.sw ?? 0)}`);
  if (!response || response.sw !== 0x9000) throw new Error('the card did not generate a key');
  const key = parseKeyTemplate(response.data);
  const attested = verifyAttestation({
    iccid: row.iccid,
    curve: key.curve,
    slot: 1,
    publicKey: key.publicKey,
    signature: key.attestationSignature!,
    certificate: key.certificate!,
    caCertificate: vendorCa.certificate,
    at: now,
  });
  const address = addressOf(key.publicKey);
  say(`3. device key born on the card: ${address}`);
  say(`   attestation ${attested.ok ? `verified: card certificate ${attested.serial} issued by the vendor CA` : `FAILED: ${attested.reason}`}`);

  // 3. The firmware asks the applet to sign a reading; anyone verifies it with ethers.
  const reading = { observedAt: BigInt(Math.floor(now.getTime() / 1000)), metric: Buffer.alloc(32, 0x11), value: -42n, payloadHash: Buffer.alloc(32) };
  const signed = transmitWithResponse((c) => card.transmit(c), encodeCommandApdu(signReadingApdu(1, reading)));
  const sig = parseSignatureResponse(signed.data, true);
  const recoverable = toRecoverableSignature(sig.digest, sig.r, sig.s, key.publicKey);
  const message = {
    device: address,
    counter: sig.counter!,
    observedAt: reading.observedAt,
    metric: hexlify(reading.metric),
    value: reading.value,
    payloadHash: hexlify(reading.payloadHash),
  };
  const signer = verifyTypedData(domainOf('reading', 31337n, getAddress(hexlify(contract))), SIGNING_PURPOSES.reading.types as never, message, Signature.from(hexlify(recoverable)));
  say(`4. firmware → card: SIGN READING (plain APDU), SW ${swHex(signed.sw)}, reading counter ${sig.counter}`);
  say(`   EIP-712 signature recovered by ethers to ${signer} (${signer === address ? 'the card' : 'NOT the card'})`);
  say();
  say('Next: simchain ota --help (encode/decode live OTA traffic), simchain card --help (drive a card with APDUs).');
  return 0;
}

export const command: Subcommand = {
  name: 'ota-demo',
  summary: 'one SIM over the air: personalise, generate a key by OTA, verify attestation, sign a reading',
  help: 'simchain ota-demo\n\nRuns one card through personalisation, OTA key generation (with its PoR and attestation) and a signed sensor reading, and prints each step. Needs nothing installed.',
  run,
};
