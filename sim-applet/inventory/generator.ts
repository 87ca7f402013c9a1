/**
 * A generator of valid vendor inventory files, for tests, benchmarks and the demo: the
 * card factory's view. Luhn-valid ICCIDs, unique IMSIs and MSISDNs from consecutive serial
 * numbers (as a vendor batch is), random keys from the injected random source. It yields
 * lines (without terminators) one at a time, so a million-card file never sits in memory.
 * Attestation certificates, when wanted, come from an injected issuer: this module holds no
 * cryptography.
 */
import { encodeCertificateBase64 } from './certificate-der.js';
import { luhnCheckDigit } from './luhn.js';
import { KEY_LENGTHS, type KeyAlgorithm } from './key-algorithms.js';

export interface GeneratedKeyset {
  index: number;
  kicAlg: KeyAlgorithm;
  kidAlg: KeyAlgorithm;
}

export interface VendorFileOptions {
  /** Number of cards. */
  count: number;
  format: 'csv' | 'out';
  /** Source of key bytes: returns `length` random bytes. */
  random: (length: number) => Uint8Array;
  /** Serial number of the first card; cards take consecutive serials. Default 0. */
  firstSerial?: number;
  /** ICCID digits before the 12-digit serial and the check digit. Default '899990' (E.164 country code 999, issuer 0). */
  iccidPrefix?: string;
  /** MCC and MNC before the 10-digit MSIN. Default '00101' (the test network of TS 23.003). */
  imsiPrefix?: string;
  /** E.164 digits before an 8-digit serial. Default '4477'. */
  msisdnPrefix?: string;
  /** The applet's TAR, 6 hex digits. Default 'b00010'. */
  tar?: string;
  /** Keysets per card. Default one AES keyset with index 1. */
  keysets?: GeneratedKeyset[];
  /** Add KI and OPC columns, as real vendor files carry (the importer must drop them). */
  networkSecrets?: boolean;
  /** Add an ATTESTATION_SN column. */
  attestationSerial?: boolean;
  /**
   * The card factory's issuer: when given, an ATTESTATION_CERT column holds the base64 of
   * what it returns for each card (its ICCID, and its serial number `firstSerial + i`), the
   * card's X.509 DER certificate. Called once per card as its line is made. An empty array
   * leaves that row's field empty (no certificate): CSV only, as an out file's
   * whitespace-separated line cannot hold an empty field (the generator throws then).
   */
  certificate?: (iccid: string, serial: number) => Uint8Array;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0').toUpperCase());

function hex(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i]!];
  return s;
}

export function iccidForSerial(serial: number, prefix = '899990'): string {
  const body = prefix + String(serial).padStart(12, '0');
  return body + String(luhnCheckDigit(body));
}

/** The lines of a valid vendor file. */
export function* generateVendorFile(options: VendorFileOptions): Generator<string> {
  const first = options.firstSerial ?? 0;
  const keysets = options.keysets ?? [{ index: 1, kicAlg: 'aes', kidAlg: 'aes' }];
  const tar = (options.tar ?? 'b00010').toUpperCase();
  const imsiPrefix = options.imsiPrefix ?? '00101';
  const msisdnPrefix = options.msisdnPrefix ?? '4477';
  const columns = ['ICCID', 'IMSI', 'MSISDN'];
  if (options.networkSecrets) columns.push('KI', 'OPC');
  for (const ks of keysets) columns.push(`KIC${ks.index}`, `KID${ks.index}`, `KIK${ks.index}`);
  if (options.format === 'csv') {
    columns.push('TAR');
    for (const ks of keysets) columns.push(`KIC${ks.index}_ALG`, `KID${ks.index}_ALG`);
  }
  if (options.attestationSerial) columns.push('ATTESTATION_SN');
  const certificate = options.certificate;
  if (certificate) columns.push('ATTESTATION_CERT');

  if (options.format === 'csv') {
    yield columns.join(',');
  } else {
    yield '*HEADER DESCRIPTION';
    yield '*===================';
    yield 'Customer        : simchain';
    yield `Quantity        : ${options.count}`;
    yield 'Type            : USIM IoT';
    yield 'Profile         : SIMCHAIN-IOT-01';
    yield `Batch           : ${String(first).padStart(8, '0')}`;
    yield '*';
    yield '*KEYSET DEFAULTS';
    yield '*===================';
    yield `TAR             : ${tar}`;
    for (const ks of keysets) {
      yield `KIC${ks.index}_ALG        : ${ks.kicAlg}`;
      yield `KID${ks.index}_ALG        : ${ks.kidAlg}`;
    }
    yield '*';
    yield '*OUTPUT VARIABLES';
    yield '*===================';
    yield `var_out: ${columns.join('/')}`;
  }
  const sep = options.format === 'csv' ? ',' : ' ';
  for (let i = 0; i < options.count; i++) {
    const serial = first + i;
    const iccid = iccidForSerial(serial, options.iccidPrefix);
    const fields = [
      iccid,
      imsiPrefix + String(serial).padStart(15 - imsiPrefix.length, '0'),
      '+' + msisdnPrefix + String(serial).padStart(8, '0'),
    ];
    if (options.networkSecrets) fields.push(hex(options.random(16)), hex(options.random(16)));
    for (const ks of keysets) {
      fields.push(
        hex(options.random(KEY_LENGTHS[ks.kicAlg][0]!)),
        hex(options.random(KEY_LENGTHS[ks.kidAlg][0]!)),
        hex(options.random(KEY_LENGTHS[ks.kicAlg][0]!)),
      );
    }
    if (options.format === 'csv') {
      fields.push(tar);
      for (const ks of keysets) fields.push(ks.kicAlg, ks.kidAlg);
    }
    if (options.attestationSerial) fields.push((serial + 1).toString(16).padStart(16, '0').toUpperCase());
    if (certificate) {
      const der = certificate(iccid, serial);
      if (der.length === 0 && options.format === 'out') throw new TypeError('an out file cannot leave a card without its certificate: its fields are whitespace-separated');
      fields.push(encodeCertificateBase64(der));
    }
    yield fields.join(sep);
  }
}
