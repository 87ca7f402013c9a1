/**
 * `simchain ota encode|decode|por`: the OTA codec on the command line, for carrier
 * engineers debugging live traffic and for outside checks (DESIGN.md §6). JSON in on
 * stdin, JSON out on stdout; hex everywhere, as the fields are written in traces.
 */
import {
  decodeCommandPacket,
  decodeCompactResponse,
  decodeResponsePacket,
  decodeSpi,
  encodeCommandUserData,
  fromHex,
  otaKeyForCoding,
  OTA_ALGORITHMS,
  porStatusName,
  reassemble,
  segmentOtaPacket,
  swHex,
  toHex,
  type CommandKeys,
  type KeyRole,
  type OtaAlgorithm,
  type OtaKey,
} from '../sim-applet/index.js';
import { CliError, readJsonObject, UsageError, writeJson } from './cli-io.js';
import type { Subcommand } from './subcommand.js';

const KNOWN_FIELDS = new Set(['spi', 'kic', 'kid', 'tar', 'cntr', 'kicKey', 'kidKey', 'kicAlg', 'kidAlg', 'data', 'userData', 'segments', 'ref']);
const MAX_SMS_USER_DATA = 140;

type Input = Record<string, unknown>;

function checkFields(input: Input): void {
  const unknown = Object.keys(input).filter((k) => !KNOWN_FIELDS.has(k));
  if (unknown.length > 0) throw new CliError(`unknown field ${unknown.map((u) => `'${u}'`).join(', ')}; see simchain ota --help`);
}

function hexField(input: Input, name: string, bytes?: number): Uint8Array {
  const value = input[name];
  if (value === undefined) throw new CliError(`${name} is missing`);
  if (typeof value !== 'string') throw new CliError(`${name} must be a hex string`);
  const out = fromHex(value.replace(/\s+/g, ''), name);
  if (bytes !== undefined && out.length !== bytes) throw new CliError(`${name} must be ${bytes} bytes (${bytes * 2} hex digits), got ${out.length}`);
  return out;
}

function byteField(input: Input, name: string): number {
  return hexField(input, name, 1)[0]!;
}

function implicitAlgorithm(input: Input, name: string): OtaAlgorithm | undefined {
  const value = input[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !(OTA_ALGORITHMS as readonly string[]).includes(value)) {
    throw new CliError(`${name} must be one of ${OTA_ALGORITHMS.join(', ')}`);
  }
  return value as OtaAlgorithm;
}

/** The key for a coding byte, when the input has it. */
function keyFor(input: Input, role: KeyRole, coding: number): OtaKey | undefined {
  if (input[`${role}Key`] === undefined) return undefined;
  return otaKeyForCoding(coding, role, hexField(input, `${role}Key`), implicitAlgorithm(input, `${role}Alg`));
}

function requireKey(key: OtaKey | undefined, name: string, why: string): OtaKey {
  if (!key) throw new CliError(`${name} is missing: ${why}`);
  return key;
}

/** The user data of one SMS, or the packet reassembled from `segments`. */
function userDataOf(input: Input): Uint8Array {
  if (input.segments !== undefined) {
    if (input.userData !== undefined) throw new CliError('give either userData or segments, not both');
    if (!Array.isArray(input.segments) || input.segments.length === 0) throw new CliError('segments must be a non-empty array of hex strings');
    const parts = input.segments.map((s: unknown, i: number) => {
      if (typeof s !== 'string') throw new CliError(`segments[${i}] must be a hex string`);
      return fromHex(s.replace(/\s+/g, ''), `segments[${i}]`);
    });
    const message = reassemble(parts);
    // Back to single-SMS form: the packet identifier IE as the whole header.
    const udh = message.kind === 'response' ? Uint8Array.of(0x02, 0x71, 0x00) : Uint8Array.of(0x02, 0x70, 0x00);
    return Buffer.concat([udh, message.data]);
  }
  return hexField(input, 'userData');
}

function encode(input: Input): Record<string, unknown> {
  const spi = decodeSpi(hexField(input, 'spi', 2));
  const kic = byteField(input, 'kic');
  const kid = byteField(input, 'kid');
  const cntr = hexField(input, 'cntr', 5);
  const kicKey = keyFor(input, 'kic', kic);
  const kidKey = keyFor(input, 'kid', kid);
  const userData = encodeCommandUserData({
    spi,
    kic,
    kid,
    tar: hexField(input, 'tar', 3),
    cntr: Buffer.from(cntr).readUIntBE(0, 5),
    data: hexField(input, 'data'),
    ...(spi.ciphered ? { kicKey: requireKey(kicKey, 'kicKey', 'the SPI asks for ciphering') } : kicKey ? { kicKey } : {}),
    ...(spi.integrity === 'cc' ? { kidKey: requireKey(kidKey, 'kidKey', 'the SPI asks for a CC') } : kidKey ? { kidKey } : {}),
  });
  const out: Record<string, unknown> = { userData: toHex(userData) };
  if (userData.length > MAX_SMS_USER_DATA) {
    // TS 23.040 §9.2.3.24.1: one 8-bit reference for all parts; by default the counter's low byte,
    // which changes from one packet to the next as a reference should.
    const ref = input.ref === undefined ? cntr[4]! : Number(input.ref);
    if (!Number.isInteger(ref) || ref < 0 || ref > 255) throw new CliError('ref must be an integer 0..255');
    out.segments = segmentOtaPacket(userData.subarray(3), 'command', ref).map(toHex);
  }
  return out;
}

function checkHeaderField(input: Input, name: string, actual: number, bytes: number): void {
  if (input[name] === undefined) return;
  const given = toHex(hexField(input, name, bytes));
  const inPacket = actual.toString(16).padStart(bytes * 2, '0');
  if (given !== inPacket) throw new CliError(`${name} ${given} differs from the packet's ${inPacket}`);
}

function decode(input: Input): Record<string, unknown> {
  const userData = userDataOf(input);
  if (userData.length < 3 || userData[0] !== 0x02 || userData[1] !== 0x70 || userData[2] !== 0x00) {
    throw new CliError('userData must start with the command packet UDH 027000');
  }
  const packet = userData.subarray(3);
  let keyError: unknown;
  const result = decodeCommandPacket(packet, (kic, kid): CommandKeys => {
    const keys: CommandKeys = {};
    try {
      const kicKey = keyFor(input, 'kic', kic);
      const kidKey = keyFor(input, 'kid', kid);
      if (kicKey) keys.kicKey = kicKey;
      if (kidKey) keys.kidKey = kidKey;
    } catch (e) {
      keyError = e;
    }
    return keys;
  });
  if (keyError) throw keyError;
  if (!result.ok && result.malformed) throw new CliError(`not a command packet: ${result.field}: ${result.reason}`);
  const header = result.header;
  const out: Record<string, unknown> = {};
  if (header) {
    const spiValue = (packet[3]! << 8) | packet[4]!;
    checkHeaderField(input, 'spi', spiValue, 2);
    checkHeaderField(input, 'kic', header.kic, 1);
    checkHeaderField(input, 'kid', header.kid, 1);
    Object.assign(out, {
      spi: spiValue.toString(16).padStart(4, '0'),
      kic: header.kic.toString(16).padStart(2, '0'),
      kid: header.kid.toString(16).padStart(2, '0'),
      tar: toHex(header.tar),
    });
  }
  if (!result.ok) {
    return { ...out, status: result.status, statusName: porStatusName(result.status), reason: `${result.field}: ${result.reason}`, ccValid: false };
  }
  return {
    ...out,
    cntr: result.cntr.toString(16).padStart(10, '0'),
    pcntr: result.pcntr,
    data: toHex(result.data),
    ccValid: result.cc.length > 0,
    status: 0,
    statusName: porStatusName(0),
  };
}

function por(input: Input): Record<string, unknown> {
  const spi = decodeSpi(hexField(input, 'spi', 2));
  const kic = byteField(input, 'kic');
  const kid = byteField(input, 'kid');
  const kicKey = keyFor(input, 'kic', kic);
  const kidKey = keyFor(input, 'kid', kid);
  const r = decodeResponsePacket(userDataOf(input), {
    spi,
    ...(kicKey ? { kicKey } : {}),
    ...(kidKey ? { kidKey } : {}),
  });
  const out: Record<string, unknown> = {
    tar: toHex(r.tar),
    cntr: r.cntr.toString(16).padStart(10, '0'),
    pcntr: r.pcntr,
    status: r.status,
    statusName: r.statusName,
    data: toHex(r.data),
    ccValid: r.ccValid,
    ciphered: r.ciphered,
  };
  if (r.status === 0 && r.data.length >= 3) {
    const c = decodeCompactResponse(r.data);
    out.response = { executed: c.executed, sw: swHex(c.sw).toLowerCase(), data: toHex(c.data) };
  }
  return out;
}

const HELP = `simchain ota encode|decode|por: the OTA secured packet codec (ETSI TS 102 225, 3GPP TS 31.115)

Each reads one JSON object on stdin and writes one JSON object on stdout. All byte fields
are hex strings (no 0x, spaces ignored).

simchain ota encode        build a secured command packet, as the operator sends it
  in   spi      hex4   SPI, e.g. 1621 = ciphered, CC, counter must be higher; PoR always, CC, ciphered, by SMS-SUBMIT
       kic      hex2   KIc coding byte: key index (high nibble), algorithm (low: 1 DES, 5 3DES 2-key, 9 3DES 3-key, 2 AES)
       kid      hex2   KID coding byte, same nibbles (2 = AES-CMAC)
       tar      hex6   Toolkit Application Reference of the target application
       cntr     hex10  the 5-byte counter
       kicKey   hex    KIc key (8 DES, 16 3DES 2-key, 24 3DES 3-key, 16/24/32 AES); needed when ciphering
       kidKey   hex    KID key; needed when the SPI asks for a CC
       data     hex    secured data: the C-APDUs, concatenated (TS 102 226 compact format)
       kicAlg, kidAlg  optional: des|3des2|3des3|aes, when a coding byte's algorithm nibble is 0 (implicit)
       ref      number optional: concatenation reference 0..255 (default: the counter's low byte)
  out  userData hex    SMS user data: UDH 027000 then the packet
       segments [hex]  only when userData exceeds 140 octets: the concatenated SMS user data parts

simchain ota decode        open a command packet as the card does
  in   userData hex    (or segments [hex]), plus kicKey, kidKey (and kicAlg/kidAlg); spi, kic, kid are
                       read from the packet and, if given, must match it
  out  spi, kic, kid, tar; then either cntr, pcntr, data, ccValid, status 0
       or status (the PoR status the card would answer: 1 CC failed, 5 ciphering error,
       6 security error), statusName, reason, ccValid false

simchain ota por           read a Proof of Receipt, as the operator does
  in   spi, kic, kid   of the command the PoR answers (its SPI byte 2 says how the PoR is secured)
       kicKey, kidKey  the keys of that command
       userData hex    SMS user data of the PoR: UDH 027100 then the response packet (or segments [hex])
  out  tar hex6, cntr hex10, pcntr number, status number (0 ok, 1 CC failed, 2 counter low,
       3 counter high, 4 blocked, 5 ciphering, 6 security, 9 TAR unknown, 10 insufficient
       security level, ...), statusName, data hex (padding removed), ccValid (true only if a CC
       was present and verified: an error PoR a card sent unsecured is never valid), ciphered,
       response {executed, sw, data} when data is a TS 102 226 compact response

Bad input: one line on stderr, exit status 1.

Example:
  echo '{"spi":"1621","kic":"12","kid":"12","tar":"bfff01","cntr":"0000000001",
         "kicKey":"000102030405060708090a0b0c0d0e0f","kidKey":"0f0e0d0c0b0a09080706050403020100",
         "data":"80f4000000"}' | simchain ota encode
`;

export const command: Subcommand = {
  name: 'ota',
  summary: 'OTA secured packets: encode (operator), decode (card view), por (read a PoR)',
  help: HELP,
  async run(argv) {
    const [verb, ...extra] = argv;
    const action = verb === 'encode' ? encode : verb === 'decode' ? decode : verb === 'por' ? por : undefined;
    if (!action) throw new UsageError(`simchain ota needs encode, decode or por${verb ? `, not '${verb}'` : ''}`);
    if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`);
    const input = await readJsonObject(`the ${verb} input`);
    checkFields(input);
    writeJson(action(input));
    return 0;
  },
};
