/** What an instruction handler gets besides its APDU. */
import type { PersistentMemory } from '../card/memory.js';
import type { CardState } from '../card/state.js';
import type { Random } from '../card/attestation.js';

export interface OtaOrigin {
  /** Key index of the keyset that secured the command packet (its KIk protects PUT KEY data). */
  keysetIndex: number;
}

export interface AppletContext {
  memory: PersistentMemory<CardState>;
  random: Random;
  /** Present when the APDU came through the OTA security layer at the TAR's minimum security level. */
  ota: OtaOrigin | undefined;
}
