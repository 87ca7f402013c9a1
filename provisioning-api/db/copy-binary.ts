/**
 * Rows in PostgreSQL's binary COPY format (PostgreSQL docs, "COPY", Binary Format): a
 * signature and header once, then per row a 16-bit field count and each field as a 32-bit
 * length (-1 for NULL) and the bytes of the type's binary form; a -1 field count ends the
 * data. Binary rows spare the server the text parsing of every field (hex bytea, uuid,
 * integers) and the client the hex encoding of the sealed keysets.
 */

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

/**
 * Fills one growing buffer with rows; `take()` hands the filled part over and starts again.
 * A row is `row(fields, maxBytes)` (room made once for the whole row) followed by exactly
 * its fields: a million rows make ten million field writes, so these do no checks of their own.
 */
export class BinaryCopyWriter {
  private buf: Buffer;
  private at = 0;

  constructor(private readonly initialSize = 1 << 20) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  get length(): number {
    return this.at;
  }

  /** The signature, no flags, no header extension: what the stream must start with. */
  header(): this {
    this.ensure(SIGNATURE.length + 8);
    this.at += SIGNATURE.copy(this.buf, this.at);
    this.int32(0);
    this.int32(0);
    return this;
  }

  /** The end-of-data marker. */
  trailer(): this {
    this.ensure(2);
    this.int16(-1);
    return this;
  }

  /** Start a row of `fields` fields taking at most `maxBytes` bytes in all (lengths included). */
  row(fields: number, maxBytes: number): this {
    this.checkBounds();
    this.ensure(2 + maxBytes);
    this.int16(fields);
    return this;
  }

  /**
   * A text field whose characters are all ASCII (identifiers and hex the inventory reader
   * checked): one byte per character, the same in every server encoding that PostgreSQL
   * allows for a database.
   */
  ascii(value: string): this {
    const n = value.length;
    this.int32(n);
    const buf = this.buf;
    let at = this.at;
    for (let i = 0; i < n; i++) {
      const c = value.charCodeAt(i);
      if (c > 0x7f) throw new TypeError('not an ASCII value');
      buf[at++] = c;
    }
    this.at = at;
    return this;
  }

  bytes(value: Uint8Array, start = 0, end = value.length): this {
    this.int32(end - start);
    const buf = this.buf;
    let at = this.at;
    for (let i = start; i < end; i++) buf[at++] = value[i]!;
    this.at = at;
    return this;
  }

  /**
   * A field of `n` bytes to be filled in later (before `take`): its length is written, its
   * room kept; returns where its bytes go in `buffer`.
   */
  hole(n: number): number {
    this.int32(n);
    const at = this.at;
    this.at += n;
    return at;
  }

  /** The buffer being filled (it changes when it grows: holes are filled once a batch is written). */
  get buffer(): Buffer {
    return this.buf;
  }

  int4(value: number): this {
    this.int32(4);
    this.int32(value);
    return this;
  }

  int2(value: number): this {
    this.int32(2);
    this.int16(value);
    return this;
  }

  null(): this {
    this.int32(-1);
    return this;
  }

  /** The filled part (owned by the caller from now on); the writer starts an empty buffer. */
  take(): Buffer {
    this.checkBounds();
    const filled = this.buf.subarray(0, this.at);
    this.buf = Buffer.allocUnsafe(Math.max(this.initialSize, this.at));
    this.at = 0;
    return filled;
  }

  private int32(v: number): void {
    const buf = this.buf;
    const at = this.at;
    buf[at] = v >>> 24;
    buf[at + 1] = v >>> 16;
    buf[at + 2] = v >>> 8;
    buf[at + 3] = v;
    this.at = at + 4;
  }

  private int16(v: number): void {
    this.buf[this.at] = v >>> 8;
    this.buf[this.at + 1] = v;
    this.at += 2;
  }

  /** Writes past the end of a typed array are dropped, but `at` moves on: a row that outgrew its room shows here. */
  private checkBounds(): void {
    if (this.at > this.buf.length) throw new RangeError('a COPY row took more room than it reserved');
  }

  private ensure(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(next, 0, 0, this.at);
    this.buf = next;
  }
}

/** A uuid's 16 bytes (the binary form of PostgreSQL's uuid). */
export function uuidBytes(id: string): Buffer {
  const hex = id.replace(/-/g, '');
  if (!/^[0-9a-f]{32}$/i.test(hex)) throw new TypeError('not a uuid');
  return Buffer.from(hex, 'hex');
}

/** A bigint's 8 bytes, big-endian (the binary form of int8). */
export function int8Bytes(value: string | number | bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(BigInt(value));
  return b;
}
