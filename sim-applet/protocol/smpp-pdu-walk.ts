/**
 * The `smpp` package's PDU encoder and field filter, walking a PDU's own fields only.
 *
 * `PDU.prototype.toBuffer` and `_filter` walk each PDU with `for (key in this)`, which also
 * visits the methods the package assigns to `PDU.prototype` (enumerable, so V8 cannot use its
 * fast enumeration), three times per encoded PDU. Every OTA SMS is several PDUs in three
 * processes (backend, SMSC, handset fleet), so this cost about 1.6 µs per deliver_sm encoded
 * and 0.7 µs per response (README, benchmark `provisioning`). The replacements below are the
 * package's code (smpp 0.6, lib/pdu.js) with `Object.keys(this)` for `for (key in this)`:
 * no prototype member is a field or TLV name, and both orders are insertion order with integer
 * keys first, so every PDU encodes to the same bytes and decodes to the same fields
 * (test/protocol/smpp-pdu-walk.test.ts compares them with the package's own).
 *
 * Pure: it takes the package's PDU class and tables and touches nothing else.
 */

/** The parts of the `smpp` package this needs (its PDU class and its command and TLV tables). */
export interface SmppPackage {
  PDU: { prototype: object };
  commands: Record<string, { params?: Record<string, FieldDef> }>;
  tlvs: Record<string, TlvDef>;
}

interface TypeDef {
  size(value: unknown): number;
  write(value: unknown, buffer: Buffer, offset: number): void;
}

interface FieldDef {
  type: TypeDef;
  filter?: { encode(this: unknown, value: unknown): unknown; decode(this: unknown, value: unknown): unknown };
}

interface TlvDef {
  id: number;
  type: TypeDef;
  multiple?: boolean;
  filter?: { encode(this: unknown, value: unknown, skipUdh?: unknown): unknown; decode(this: unknown, value: unknown, skipUdh?: unknown): unknown };
}

type PduFields = Record<string, any> & { command: string; command_length: number; command_status: number; _initBuffer(): Buffer; _filter(func: 'encode' | 'decode'): void };

const HEADER = 16;
const patched = new WeakSet<object>();

/** Install the own-field walk on the package's PDU prototype (once per package instance). */
export function walkOwnPduFields(pkg: SmppPackage): void {
  const proto = pkg.PDU.prototype as Record<string, unknown>;
  if (patched.has(proto)) return;
  const { commands, tlvs } = pkg;

  proto._filter = function filter(this: PduFields, func: 'encode' | 'decode'): void {
    const params = commands[this.command]!.params ?? {};
    for (const key of Object.keys(this)) {
      const param = params[key];
      const tlv = tlvs[key];
      if (param && param.filter) {
        this[key] = param.filter[func].call(this, this[key]);
      } else if (tlv && tlv.filter) {
        if (tlv.multiple) {
          const values = this[key] as unknown[];
          for (let i = 0; i < values.length; i++) values[i] = tlv.filter[func].call(this, values[i], true);
        } else if (key === 'message_payload') {
          const skipUdh = this.short_message && this.short_message.message && this.short_message.message.length;
          this[key] = tlv.filter[func].call(this, this[key], skipUdh);
        } else {
          this[key] = tlv.filter[func].call(this, this[key], true);
        }
      }
    }
  };

  proto.toBuffer = function toBuffer(this: PduFields): Buffer {
    this.command_length = HEADER;
    if (this.command_status) return this._initBuffer();
    this._filter('encode');
    const params = commands[this.command]!.params ?? {};
    const keys = Object.keys(this);
    for (const key of keys) {
      const param = params[key];
      const tlv = tlvs[key];
      if (param) {
        this.command_length += param.type.size(this[key]);
      } else if (tlv) {
        for (const value of tlv.multiple ? (this[key] as unknown[]) : [this[key]]) this.command_length += tlv.type.size(value) + 4;
      }
    }
    const buffer = this._initBuffer();
    let offset = HEADER;
    for (const key in params) {
      const param = params[key]!;
      param.type.write(this[key], buffer, offset);
      offset += param.type.size(this[key]);
    }
    for (const key of keys) {
      const tlv = tlvs[key];
      if (!tlv || key in params) continue;
      for (const value of tlv.multiple ? (this[key] as unknown[]) : [this[key]]) {
        buffer.writeUInt16BE(tlv.id, offset);
        const length = tlv.type.size(value);
        buffer.writeUInt16BE(length, offset + 2);
        offset += 4;
        tlv.type.write(value, buffer, offset);
        offset += length;
      }
    }
    return buffer;
  };
  patched.add(proto);
}
