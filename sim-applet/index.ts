/**
 * The public face of sim-applet: what the backend, the simulators and the CLI may use.
 * Pure code only: no network, no files, no clock reads; randomness and time are injected.
 */
export * from './errors.js';
export * from './bytes.js';

// ISO 7816-4 and TS 102 226
export * from './protocol/apdu.js';
export * from './protocol/status-words.js';
export * from './protocol/compact.js';
export * from './protocol/tlv.js';
// TS 102 225 / TS 31.115 secured packets
export * from './protocol/ota/index.js';
// TS 23.040 SMS
export * from './protocol/sms/index.js';

// The card and its applet
export * from './applet/eip712.js';
export {
  SIMCHAIN_AID,
  SIMCHAIN_DEFAULT_TAR,
  APPLET_VERSION,
  CLA_PROPRIETARY,
  INS,
  INS_CASE,
  CURVE_P1,
  P2_REPLACE,
  P1_WITH_ATTESTATION,
  P1_WITHOUT_CERTIFICATE,
  LIFECYCLE_BYTE,
  TAG,
  DATA_TAG,
  SIGN_LAYOUT,
  GET_DATA_CERTIFICATE,
  GET_DATA_TRUST_ANCHOR_P1,
} from './applet/constants.js';
export { encodeKeyBlock, keyCheckValue, PUT_KEY_P2, ALGORITHM_CODE } from './applet/put-key.js';
export * from './card/attestation.js';
export { derToPem, pemToDer } from './card/x509.js';
export * from './card/state.js';
export { CardTornError, PersistentMemory, type FaultHook } from './card/memory.js';
export {
  personaliseCard,
  checkInventoryRow,
  type InventoryRow,
  type CheckedInventoryRow,
  type InventoryKeyset,
  type PersonaliseOptions,
} from './card/personalise.js';

// Host side: what firmware and the backend need to talk to a card
export * from './host/signature.js';
export * from './host/attestation.js';

export { Uicc, ATR, freshSession, type CardSnapshot, type SessionState, type UiccOptions } from './card/uicc.js';
export { sendShortMessage, decodeTerminalResponse, encodeTerminalResponse, type TerminalResponse } from './card/proactive.js';
export * from './protocol/envelope.js';
export * from './protocol/smpp-pdu-walk.js';
export { decodeProactiveCommand, type ProactiveCommand } from './card/proactive.js';
export * from './host/commands.js';
export * from './host/responses.js';
export * from './host/terminal.js';
export * from './host/operator.js';

// The card vendor's inventory file (formats, row checks, generator)
export * as inventory from './inventory/index.js';
