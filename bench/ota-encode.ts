/**
 * OTA command packets encoded and secured per second on one core, for AES-128 (CBC + CMAC)
 * and 2-key 3DES (CBC + CBC-MAC), one-SMS packets (40 bytes of secured data, SPI ciphered
 * and CC), beside bare node:crypto AES-128-CBC calls on the same bytes in the same run.
 */
import { createCipheriv } from 'node:crypto';
import type { Benchmark } from './index.js';
import { fmtRate, measureRate, median } from './measure.js';
import {
  createOtaKey,
  encodeCommandPacket,
  encodeKeyCoding,
  type CommandPacketInput,
  type OtaAlgorithm,
  type Spi,
} from '../sim-applet/protocol/ota/index.js';

const SPI: Spi = {
  integrity: 'cc',
  ciphered: true,
  counter: 'higher',
  por: 'always',
  porIntegrity: 'cc',
  porCiphered: true,
  porViaSubmit: false,
};

/** Fixed, not random: a benchmark must measure the same work every run. */
function pattern(length: number, seed: number): Buffer {
  const b = Buffer.alloc(length);
  for (let i = 0; i < length; i++) b[i] = (seed + i * 37) & 0xff;
  return b;
}

const DATA = pattern(40, 1);

function input(algorithm: OtaAlgorithm, keyLength: number): CommandPacketInput {
  return {
    spi: SPI,
    kic: encodeKeyCoding({ index: 1, algorithm }),
    kid: encodeKeyCoding({ index: 1, algorithm }),
    tar: Buffer.from('b00010', 'hex'),
    cntr: 1,
    kicKey: createOtaKey(algorithm, pattern(keyLength, 2)),
    kidKey: createOtaKey(algorithm, pattern(keyLength, 3)),
    data: DATA,
  };
}

function bareCbc(cipherName: string, key: Buffer, ivLength: number, plain: Uint8Array): () => void {
  const iv = Buffer.alloc(ivLength);
  return () => {
    const c = createCipheriv(cipherName, key, iv);
    c.setAutoPadding(false);
    c.update(plain);
    c.final();
  };
}

/**
 * Packet and baseline measured in alternating rounds, so that both see the same machine
 * load; the ratio quoted is the median of the per-round ratios.
 */
function compare(packet: () => void, bare: () => void, rounds = 7): { packet: number; bare: number; ratio: number } {
  const p: number[] = [];
  const b: number[] = [];
  for (let r = 0; r < rounds; r++) {
    p.push(measureRate(packet, { rounds: 1, roundMs: 300 }).median);
    b.push(measureRate(bare, { rounds: 1, roundMs: 300 }).median);
  }
  return { packet: median(p), bare: median(b), ratio: median(p.map((x, i) => x / b[i]!)) };
}

export const benchmark: Benchmark = {
  name: 'ota-encode',
  summary: 'secured OTA command packets per second (AES-128, 3DES-2key) vs bare node:crypto CBC, one core',
  async run() {
    const aes = input('aes', 16);
    const tdes = input('3des2', 16);
    let cntr = 0;
    // The baselines cipher what the packets cipher: CNTR..padding (6 + 8 + 40 + padding bytes).
    const aesRegion = encodeCommandPacket(aes).subarray(10);
    const tdesRegion = encodeCommandPacket(tdes).subarray(10);
    const a = compare(
      () => {
        aes.cntr = ++cntr;
        encodeCommandPacket(aes);
      },
      bareCbc('aes-128-cbc', pattern(16, 2), 16, aesRegion),
    );
    const d = compare(
      () => {
        tdes.cntr = ++cntr;
        encodeCommandPacket(tdes);
      },
      bareCbc('des-ede-cbc', pattern(16, 2), 8, tdesRegion),
    );
    console.log(`AES-128 packets (CBC + CMAC, ${aesRegion.length} B ciphered)      ${fmtRate(a.packet)}`);
    console.log(`bare AES-128-CBC calls on the same bytes        ${fmtRate(a.bare)}`);
    console.log(`ratio AES packet / bare AES-128-CBC             ${a.ratio.toFixed(2)} (goal >= 0.30)`);
    console.log(`3DES-2key packets (CBC + CBC-MAC, ${tdesRegion.length} B ciphered) ${fmtRate(d.packet)}`);
    console.log(`bare 3DES-2key-CBC calls on the same bytes      ${fmtRate(d.bare)}`);
    console.log(`ratio 3DES packet / bare 3DES-CBC               ${d.ratio.toFixed(2)}`);
  },
};
