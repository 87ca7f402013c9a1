/**
 * The OTA secured packet layer (ETSI TS 102 225 / 3GPP TS 31.115) over SMS-PP: SPI, KIc/KID
 * coding, keys, ciphers and CC, counters, PoR status codes, command packets (backend encodes,
 * card decodes) and PoRs (card encodes, backend decodes). Other folders import only this.
 */
export { encodeSpi, decodeSpi, type Spi, type IntegrityMode, type CounterMode, type PorMode } from './spi.js';
export {
  decodeKeyCoding,
  encodeKeyCoding,
  algorithmFor,
  otaKeyForCoding,
  type KeyCoding,
  type KeyRole,
  type CodedAlgorithm,
} from './key-coding.js';
export { createOtaKey, isOtaKey, OTA_ALGORITHMS, type OtaAlgorithm, type OtaKey } from './keys.js';
export { encryptCbc, decryptCbc } from './ciphers.js';
export { CC_LENGTH, cbcMac, aesCmac, computeCc, verifyCc } from './mac.js';
export { COUNTER_LENGTH, MAX_COUNTER, checkCounter, type CounterCheck } from './counter.js';
export { PorStatus, porStatusName, isPorStatusCode, type PorStatusCode, type PorStatusName } from './por-status.js';
export { commandUserData, commandPacketFromUserData } from './user-data.js';
export { parseCommandHeader, COMMAND_HEADER_LENGTH, type CommandHeader } from './command-header.js';
export { encodeCommandPacket, encodeCommandUserData, type CommandPacketInput } from './command-packet.js';
export {
  decodeCommandPacket,
  type ResolveKeys,
  type CommandKeys,
  type CommandDecodeResult,
  type DecodedCommand,
  type RejectedCommand,
  type MalformedCommand,
} from './command-decode.js';
export {
  encodeResponsePacket,
  decodeResponsePacket,
  type ResponsePacketInput,
  type ResponseKeys,
  type DecodedResponse,
} from './response-packet.js';
