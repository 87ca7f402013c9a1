/**
 * Which OTA command a PoR answers (TS 102 225 §5.2): the handset (MSISDN) and the TAR are in
 * clear, the counter may be ciphered, so each open command to that handset and TAR is tried
 * with its own keyset and SPI: the PoR whose CC verifies and whose counter echoes the
 * command's is its answer. A card may answer an error unsecured (CNTR 0, no CC): such a PoR
 * cannot be bound to a counter and is given to the oldest open command, reported with
 * ccValid false, never as verified.
 */
import { readPor, type CompactResponse, type DecodedResponse, type OperatorKeyset, type Spi } from '../../sim-applet/index.js';

/** 02 71 00 | RPL(2) | RHL | TAR(3): the TAR of a PoR's user data, in clear. */
export function porTarOf(userData: Uint8Array): string | null {
  if (userData.length < 9 || userData[0] !== 0x02 || userData[1] !== 0x71 || userData[2] !== 0x00) return null;
  return Buffer.from(userData.subarray(6, 9)).toString('hex');
}

export interface PorCandidate {
  id: string;
  cntr: number;
  spi: Spi;
  keyset: OperatorKeyset;
  attempts: number;
}

export type PorMatch =
  | { kind: 'verified'; candidate: PorCandidate; por: DecodedResponse; response: CompactResponse | undefined }
  | { kind: 'unsecured-error'; candidate: PorCandidate; por: DecodedResponse }
  | { kind: 'none'; detail: string };

/** Candidates in the order their commands were sent. */
export function matchPor(userData: Uint8Array, candidates: readonly PorCandidate[]): PorMatch {
  let unsecured: { candidate: PorCandidate; por: DecodedResponse } | null = null;
  let detail = candidates.length === 0 ? 'no open command to this handset and TAR' : 'no open command verifies this PoR';
  for (const c of candidates) {
    let reading;
    try {
      reading = readPor(userData, c.spi, c.keyset);
    } catch (e) {
      detail = e instanceof Error ? e.message : String(e);
      continue;
    }
    const { por, response } = reading;
    if (por.ccValid && por.cntr === c.cntr) return { kind: 'verified', candidate: c, por, response };
    if (!por.ccValid && por.cc.length === 0 && por.status !== 0 && unsecured === null) unsecured = { candidate: c, por };
  }
  if (unsecured) return { kind: 'unsecured-error', ...unsecured };
  return { kind: 'none', detail };
}
