/**
 * Type declarations for the npm package `smpp` 0.5.1 (node-smpp), which ships none. They
 * cover what simchain uses: sessions (client and server side), the server, PDUs with the
 * SMPP 3.4 parameters of the commands we send and receive (§4), the parameter and TLV
 * definition tables (so raw mode can delete their text filters), and the error codes (§5.1.3).
 *
 * Under ESM import the default export (`import smpp from 'smpp'`): the package is CommonJS
 * and `import * as` exposes only some of its names.
 */
declare module 'smpp' {
  import type { EventEmitter } from 'node:events';
  import type { Server as NetServer, Socket } from 'node:net';
  import type { ConnectionOptions, TlsOptions } from 'node:tls';

  namespace smpp {
    /** SMPP 3.4 §4: the mandatory and optional parameters simchain reads or writes. */
    interface PduFields {
      command_status?: number;
      sequence_number?: number;
      // bind_* (§4.1)
      system_id?: string;
      password?: string;
      system_type?: string;
      interface_version?: number;
      addr_ton?: number;
      addr_npi?: number;
      address_range?: string;
      // submit_sm / deliver_sm / data_sm (§4.4, §4.6, §4.7)
      service_type?: string;
      source_addr_ton?: number;
      source_addr_npi?: number;
      source_addr?: string;
      dest_addr_ton?: number;
      dest_addr_npi?: number;
      destination_addr?: string;
      esm_class?: number;
      protocol_id?: number;
      priority_flag?: number;
      /** Absolute `YYMMDDhhmmsstnnp` or relative `...R` (§7.1.1); a Date once decoded. */
      schedule_delivery_time?: string | Date;
      validity_period?: string | Date;
      registered_delivery?: number;
      replace_if_present_flag?: number;
      data_coding?: number | null;
      sm_default_msg_id?: number;
      /** Raw octets in raw mode (the text filter deleted). */
      short_message?: Buffer;
      // *_resp
      message_id?: string;
      // TLVs (§5.3.2)
      message_payload?: Buffer;
      receipted_message_id?: string;
      message_state?: number;
      network_error_code?: Buffer;
      sar_msg_ref_num?: number;
      sar_total_segments?: number;
      sar_segment_seqnum?: number;
      sc_interface_version?: number;
    }

    interface PDU extends PduFields {
      /** Command name, e.g. `submit_sm`, `deliver_sm_resp`, `unknown`. */
      command: string;
      command_length: number;
      command_id: number;
      command_status: number;
      sequence_number: number;
      isResponse(): boolean;
      /** The response PDU to this request, with its sequence number. */
      response(options?: PduFields): PDU;
      toBuffer(): Buffer;
      /** Other parameters and TLVs (unknown TLVs appear under their numeric tag). */
      [other: string]: unknown;
    }

    interface PDUConstructor {
      new (command: string, options?: PduFields): PDU;
      new (buffer: Buffer): PDU;
      fromBuffer(buffer: Buffer): PDU | false;
      /** Largest PDU the parser accepts (16 KB by default). */
      maxLength: number;
    }

    type ResponseCallback = (pdu: PDU) => void;
    type SendCallback = (pdu: PDU) => void;

    interface SessionOptions extends Omit<ConnectionOptions, "socket"> {
      host?: string;
      port?: number;
      tls?: boolean;
      socket?: Socket;
      url?: string;
      auto_enquire_link_period?: number;
    }

    /** One SMPP session over one socket (client or server side). */
    class Session extends EventEmitter {
      constructor(options: SessionOptions);
      socket: Socket;
      options: SessionOptions;
      sequence: number;
      paused: boolean;
      server?: Server;
      /** Broken for reconnects in 0.5.1 (no bind response is ever emitted): make a new Session. */
      connect(): void;
      /** Writes the PDU; false (and nothing registered) when the socket is not writable. */
      send(pdu: PDU, responseCallback?: ResponseCallback, sendCallback?: SendCallback): boolean;
      pause(): void;
      resume(): void;
      close(callback?: () => void): void;
      destroy(callback?: () => void): void;

      bind_transceiver(options: PduFields, responseCallback?: ResponseCallback): boolean;
      bind_transmitter(options: PduFields, responseCallback?: ResponseCallback): boolean;
      bind_receiver(options: PduFields, responseCallback?: ResponseCallback): boolean;
      submit_sm(options: PduFields, responseCallback?: ResponseCallback, sendCallback?: SendCallback): boolean;
      deliver_sm(options: PduFields, responseCallback?: ResponseCallback, sendCallback?: SendCallback): boolean;
      data_sm(options: PduFields, responseCallback?: ResponseCallback): boolean;
      enquire_link(options?: PduFields | ResponseCallback, responseCallback?: ResponseCallback): boolean;
      unbind(options?: PduFields | ResponseCallback, responseCallback?: ResponseCallback): boolean;
      generic_nack(options?: PduFields): boolean;

      on(event: 'pdu' | 'send' | string, listener: (pdu: PDU) => void): this;
      on(event: 'connect' | 'secureConnect' | 'close', listener: () => void): this;
      on(event: 'error', listener: (error: Error) => void): this;
    }

    interface ServerOptions extends TlsOptions {
      /** With `key` and `cert` the server speaks TLS. */
      key?: string | Buffer;
      cert?: string | Buffer;
    }

    class Server extends NetServer {
      sessions: Session[];
      tls: boolean;
      on(event: 'session', listener: (session: Session) => void): this;
      on(event: string, listener: (...args: any[]) => void): this;
    }

    interface ParameterDefinition {
      type: unknown;
      default?: unknown;
      /** The text codec raw mode deletes (decodes by data_coding, splits the UDH into objects). */
      filter?: { encode(value: unknown): unknown; decode(value: unknown, skipUdh?: boolean): unknown };
    }

    interface CommandDefinition {
      id: number;
      command: string;
      params?: Record<string, ParameterDefinition>;
    }

    interface TlvDefinition extends ParameterDefinition {
      id: number;
      tag: string;
      multiple?: boolean;
    }

    const PDU: PDUConstructor;
    function createServer(options: ServerOptions, listener?: (session: Session) => void): Server;
    function connect(options: SessionOptions, listener?: () => void): Session;
    const commands: Record<string, CommandDefinition>;
    const tlvs: Record<string, TlvDefinition>;
    /** SMPP 3.4 §5.1.3 command_status values by name (ESME_ROK, ESME_RTHROTTLED...). */
    const errors: Record<string, number>;
    const consts: Record<string, Record<string, number>>;
  }

  export = smpp;
}
