/**
 * Certificate-shaped DER for the inventory tests: byte arrays with the outer structure of an
 * X.509 certificate (SEQUENCE { TBSCertificate SEQUENCE, AlgorithmIdentifier, BIT STRING }),
 * of any size, and with chosen length encodings; and a card factory issuing real ones.
 */
import { randomBytes } from 'node:crypto';
import { createVendorCa, issueCardAttestation } from '../../sim-applet/card/attestation.js';

/** DER length octets of n: short form, or long form in `octets` bytes (default: the fewest). */
export function derLength(n: number, octets?: number): number[] {
  if (octets === undefined) {
    if (n < 0x80) return [n];
    octets = n < 0x100 ? 1 : n < 0x10000 ? 2 : 3;
  }
  const bytes: number[] = [];
  for (let k = octets - 1; k >= 0; k--) bytes.push(Math.floor(n / 256 ** k) & 0xff);
  return [0x80 | octets, ...bytes];
}

export function tlv(tag: number, content: Uint8Array | number[], octets?: number): Uint8Array {
  return Uint8Array.from([tag, ...derLength(content.length, octets), ...content]);
}

const ALGORITHM = tlv(0x30, [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02]); // ecdsa-with-SHA256
const SIGNATURE = tlv(0x03, [0x00, ...Array.from({ length: 70 }, (_, i) => (i * 37 + 11) & 0xff)]);

/**
 * A certificate-shaped DER of exactly `size` bytes (size >= 100), its TBSCertificate filled
 * from `fill`. `outerOctets` / `innerOctets` force the long form of the outer / inner length
 * in that many octets (not minimal when more than needed). Sizes that minimal DER cannot
 * reach (130: a content of 127 bytes takes a 2-byte header, one of 128 a 3-byte one) are
 * made with a longer form than needed.
 */
export function shapedCertificate(size: number, fill: (i: number) => number = (i) => (i * 131 + 7) & 0xff, outerOctets?: number, innerOctets?: number): Uint8Array {
  const tail = ALGORITHM.length + SIGNATURE.length;
  const header = (n: number, octets?: number) => 1 + derLength(n, octets).length;
  for (const oo of outerOctets === undefined ? [undefined, 1, 2, 3] : [outerOctets]) {
    for (const io of innerOctets === undefined ? [undefined, 1, 2, 3] : [innerOctets]) {
      // A header's size depends on its content's length: try each.
      for (let oh = 2; oh <= 10; oh++) {
        const content = size - oh;
        if (!fits(content, oo) || header(content, oo) !== oh) continue;
        for (let ih = 2; ih <= 10; ih++) {
          const tbsContent = content - tail - ih;
          if (tbsContent < 0 || !fits(tbsContent, io) || header(tbsContent, io) !== ih) continue;
          const tbs = tlv(0x30, Array.from({ length: tbsContent }, (_, i) => fill(i)), io);
          const der = tlv(0x30, [...tbs, ...ALGORITHM, ...SIGNATURE], oo);
          if (der.length !== size) throw new Error('shapedCertificate: size not reached');
          return der;
        }
      }
    }
  }
  throw new Error(`shapedCertificate: no layout of ${size} bytes`);
}

function fits(n: number, octets: number | undefined): boolean {
  return octets === undefined || n < 256 ** octets;
}

/** The smallest certificate-shaped DER the reader accepts: 64 bytes, TBSCertificate a bare SEQUENCE of filler. */
export function minimalCertificate(size = 64): Uint8Array {
  return tlv(0x30, tlv(0x30, Array.from({ length: size - 4 }, (_, i) => i & 0xff)));
}

/** A card factory: the vendor CA issuing each card's real attestation certificate (P-256, X.509 DER). */
export function cardFactory(): (iccid: string) => Uint8Array {
  const now = new Date('2025-01-01T00:00:00Z');
  const ca = createVendorCa({ random: randomBytes, now });
  return (iccid) => issueCardAttestation({ iccid, ca, random: randomBytes, now }).certificate;
}

export const b64 = (der: Uint8Array): string => Buffer.from(der).toString('base64');
