/**
 * The WebAssembly text of the GCM sealing loop of ./gcm-batch.ts (`sealSpans`): for each
 * message of a batch, ciphertext = plaintext XOR keystream, then the tag = GHASH(A, C) XOR
 * E(J0). The block cipher stays OpenSSL's (the keystream comes in from one aes-256-ecb
 * call per batch); only the XOR and GHASH run here. Generated (the 15 Horner steps of a
 * multiplication by H are unrolled) and compiled by ./build-gcm-wasm.ts into
 * ./gcm-seal-wasm.ts, which is committed; a test checks the two agree.
 *
 * Why WebAssembly: GHASH with Shoup's 8-bit tables needs 128-bit shifts and XORs; in
 * JavaScript each is four 32-bit operations, in WebAssembly two 64-bit ones, and the
 * bytes of a block load eight at a time. Blocks are kept in memory order (byte k of a
 * block at bits 8k of a little-endian 64-bit load, bytes 0-7 in `hi`, 8-15 in `lo`), so
 * nothing is byte-swapped: multiplying by x^8 (GCM's right shift by one byte) moves every
 * byte to the next higher index, which in this order is a left shift.
 *
 * Memory: [0, 4096) T, T[b] = b·H as the 16 bytes of a block; [4096, 6144) R, the
 * reduction of the byte shifted out, as a 64-bit value for `hi`; the batch from 8192 on,
 * laid out by the caller.
 */

export const TABLE_BYTES = 4096;
export const REDUCE_AT = 4096;
export const BATCH_AT = 8192;

/** byte j of the block (hi, lo) as an i64 expression. */
function byteOf(j: number, hi: string, lo: string): string {
  const word = j < 8 ? hi : lo;
  const shift = (j % 8) * 8;
  return shift === 0 ? `(i64.and (local.get ${word}) (i64.const 255))` : `(i64.and (i64.shr_u (local.get ${word}) (i64.const ${shift})) (i64.const 255))`;
}

/** Y = Y·H in place (locals $yh, $yl), using $zh, $zl, $a (table address). */
function multiply(): string {
  const steps: string[] = [];
  // Z = T[byte 15]
  steps.push(`(local.set $a (i32.wrap_i64 (i64.shl ${byteOf(15, '$yh', '$yl')} (i64.const 4))))`);
  steps.push(`(local.set $zh (i64.load (local.get $a)))`, `(local.set $zl (i64.load offset=8 (local.get $a)))`);
  for (let j = 14; j >= 0; j--) {
    steps.push(
      // r = byte 15 of Z, shifted out; every other byte moves up one.
      `(local.set $r (i32.wrap_i64 (i64.shr_u (local.get $zl) (i64.const 56))))`,
      `(local.set $zl (i64.or (i64.shl (local.get $zl) (i64.const 8)) (i64.shr_u (local.get $zh) (i64.const 56))))`,
      `(local.set $zh (i64.xor (i64.shl (local.get $zh) (i64.const 8)) (i64.load offset=${REDUCE_AT} (i32.shl (local.get $r) (i32.const 3)))))`,
      `(local.set $a (i32.wrap_i64 (i64.shl ${byteOf(j, '$yh', '$yl')} (i64.const 4))))`,
      `(local.set $zh (i64.xor (local.get $zh) (i64.load (local.get $a))))`,
      `(local.set $zl (i64.xor (local.get $zl) (i64.load offset=8 (local.get $a))))`,
    );
  }
  steps.push(`(local.set $yh (local.get $zh))`, `(local.set $yl (local.get $zl))`);
  return steps.join('\n      ');
}

/** The module's text. */
export function gcmSealWat(): string {
  return `(module
  (memory (export "memory") 1)
  ;; Low bytes of a 64-bit word: n bytes (0..8) kept.
  (func $keep (param $v i64) (param $n i32) (result i64)
    (if (result i64) (i32.ge_u (local.get $n) (i32.const 8))
      (then (local.get $v))
      (else (i64.and (local.get $v) (i64.sub (i64.shl (i64.const 1) (i64.extend_i32_u (i32.shl (local.get $n) (i32.const 3)))) (i64.const 1))))))
  ;; A 32-bit value's bytes reversed, as the high half of a 64-bit word (a GCM length field).
  (func $lenword (param $bits i32) (result i64)
    (i64.shl (i64.extend_i32_u (i32.or (i32.or (i32.shl (local.get $bits) (i32.const 24))
      (i32.and (i32.shl (local.get $bits) (i32.const 8)) (i32.const 0xff0000)))
      (i32.or (i32.and (i32.shr_u (local.get $bits) (i32.const 8)) (i32.const 0xff00)) (i32.shr_u (local.get $bits) (i32.const 24)))))
      (i64.const 32)))
  ;; GHASH state Y (globals) absorbs len bytes at p, the last block zero-padded.
  (global $yh (mut i64) (i64.const 0))
  (global $yl (mut i64) (i64.const 0))
  (func $absorb (param $p i32) (param $len i32)
    (local $end i32) (local $n i32) (local $yh i64) (local $yl i64) (local $zh i64) (local $zl i64) (local $a i32) (local $r i32)
    (local.set $yh (global.get $yh)) (local.set $yl (global.get $yl))
    (local.set $end (i32.add (local.get $p) (local.get $len)))
    (block $done
      (loop $blocks
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $n (i32.sub (local.get $end) (local.get $p)))
        (if (i32.ge_u (local.get $n) (i32.const 16))
          (then
            (local.set $yh (i64.xor (local.get $yh) (i64.load (local.get $p))))
            (local.set $yl (i64.xor (local.get $yl) (i64.load offset=8 (local.get $p)))))
          (else
            (local.set $yh (i64.xor (local.get $yh) (call $keep (i64.load (local.get $p)) (local.get $n))))
            (if (i32.gt_u (local.get $n) (i32.const 8))
              (then (local.set $yl (i64.xor (local.get $yl) (call $keep (i64.load offset=8 (local.get $p)) (i32.sub (local.get $n) (i32.const 8)))))))))
      ${multiply()}
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $blocks)))
    (global.set $yh (local.get $yh)) (global.set $yl (local.get $yl)))
  ;; Y = (Y ^ (hi, lo)) · H
  (func $block (param $hi i64) (param $lo i64)
    (local $yh i64) (local $yl i64) (local $zh i64) (local $zl i64) (local $a i32) (local $r i32)
    (local.set $yh (i64.xor (global.get $yh) (local.get $hi)))
    (local.set $yl (i64.xor (global.get $yl) (local.get $lo)))
    ${multiply()}
    (global.set $yh (local.get $yh)) (global.set $yl (local.get $yl)))
  ;; Seal count messages. spans: per message 4 x i32 (aad offset, aad length, plaintext
  ;; offset, plaintext length; offsets absolute); nonces: 12 bytes each; stream: per
  ;; message E(J0) then its keystream blocks; outs: per message the i32 address where its
  ;; nonce || ciphertext || tag goes (nothing outside those bytes is written).
  (func (export "seal") (param $count i32) (param $spans i32) (param $nonces i32) (param $stream i32) (param $outs i32)
    (local $i i32) (local $s i32) (local $aad i32) (local $aadLen i32) (local $plain i32) (local $len i32) (local $mask i32) (local $body i32) (local $k i32) (local $out i32)
    (block $done
      (loop $messages
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (local.set $out (i32.load (i32.add (local.get $outs) (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $s (i32.add (local.get $spans) (i32.shl (local.get $i) (i32.const 4))))
        (local.set $aad (i32.load (local.get $s)))
        (local.set $aadLen (i32.load offset=4 (local.get $s)))
        (local.set $plain (i32.load offset=8 (local.get $s)))
        (local.set $len (i32.load offset=12 (local.get $s)))
        ;; The nonce.
        (i64.store (local.get $out) (i64.load (local.get $nonces)))
        (i32.store offset=8 (local.get $out) (i32.load offset=8 (local.get $nonces)))
        (local.set $mask (local.get $stream))
        (local.set $body (i32.add (local.get $out) (i32.const 12)))
        ;; C = P ^ keystream, eight bytes at a time (the last store may run past C: the tag follows).
        (local.set $k (i32.const 0))
        (block $xored
          (loop $xor
            (br_if $xored (i32.ge_u (local.get $k) (local.get $len)))
            (i64.store (i32.add (local.get $body) (local.get $k))
              (i64.xor (i64.load (i32.add (local.get $plain) (local.get $k))) (i64.load offset=16 (i32.add (local.get $mask) (local.get $k)))))
            (local.set $k (i32.add (local.get $k) (i32.const 8)))
            (br $xor)))
        (global.set $yh (i64.const 0))
        (global.set $yl (i64.const 0))
        (call $absorb (local.get $aad) (local.get $aadLen))
        (call $absorb (local.get $body) (local.get $len))
        (call $block (call $lenword (i32.shl (local.get $aadLen) (i32.const 3))) (call $lenword (i32.shl (local.get $len) (i32.const 3))))
        ;; The tag: GHASH XOR E(J0).
        (i64.store (i32.add (local.get $body) (local.get $len)) (i64.xor (global.get $yh) (i64.load (local.get $mask))))
        (i64.store offset=8 (i32.add (local.get $body) (local.get $len)) (i64.xor (global.get $yl) (i64.load offset=8 (local.get $mask))))
        (local.set $stream (i32.add (local.get $stream) (i32.shl (i32.add (i32.const 1) (i32.shr_u (i32.add (local.get $len) (i32.const 15)) (i32.const 4))) (i32.const 4))))
        (local.set $nonces (i32.add (local.get $nonces) (i32.const 12)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $messages))))
)
`;
}
