/**
 * The public face of the SMS codecs (3GPP TS 23.040 / TS 23.038, and the concatenation of
 * TS 31.115): addresses, timestamps, data coding, user data headers, the TPDUs OTA uses,
 * segmentation and reassembly. Other folders import from here only.
 */
export {
  decodeAddress,
  decodeTonNpi,
  encodeAddress,
  encodeTonNpi,
  MAX_ADDRESS_SEMI_OCTETS,
  NPI_VALUES,
  TON_VALUES,
  type Address,
  type Npi,
  type Ton,
} from './address.js';
export { MAX_PARTS, segmentOtaPacket, segmentUserData, type SegmentOptions } from './concat.js';
export { decodeDcs, encodeDcs, udlUnit, type Alphabet, type DataCoding, type DcsGroup, type DcsInput, type MessageClass } from './dcs.js';
export { decodeSmsDeliverReport, encodeSmsDeliverReport, type SmsDeliverReport, type SmsDeliverReportFields } from './deliver-report.js';
export { decodeSmsDeliver, encodeSmsDeliver, type SmsDeliver, type SmsDeliverFields, type SmsDeliverHeader } from './deliver.js';
export { decodeGsm7Text, encodeGsm7Text, packedLength, packSeptets, unpackSeptets } from './gsm7.js';
export {
  ConcatReassembler,
  concatKey,
  reassemble,
  type AcceptResult,
  type ConcatPart,
  type PendingMessage,
  type ReassembledMessage,
  type ReassemblerOptions,
  type ReassemblerState,
} from './reassembly.js';
export { decodeBcdOctet, decodeSemiOctets, encodeBcdOctet, encodeSemiOctets } from './semi-octets.js';
export { decodeSmsSubmit, encodeSmsSubmit, type SmsSubmit, type SmsSubmitFields, type SmsSubmitHeader } from './submit.js';
export { decodeScts, encodeScts, SCTS_LENGTH, sctsFromDate, sctsToDate, type Scts } from './timestamp.js';
export { decodeSmsTpdu, tpduTypeName, type SmsDirection, type SmsTpdu } from './tpdu.js';
export {
  concatIe,
  decodeConcatIe,
  encodeUdh,
  findConcat,
  IEI,
  isConcatIe,
  packetIdentifierIe,
  packetKindOf,
  parseIes,
  splitUdh,
  udhLength,
  type ConcatInfo,
  type InformationElement,
  type PacketKind,
  type UdhSplit,
} from './udh.js';
export { decodeUserData, encodeUserData, MAX_UD_OCTETS, MAX_UD_SEPTETS, type UserData, type UserDataInput } from './user-data.js';
export {
  decodeValidityPeriod,
  encodeValidityPeriod,
  relativeVpFor,
  relativeVpMinutes,
  VPF_BITS,
  vpFormatOf,
  type ValidityPeriod,
  type VpFormat,
} from './validity.js';
