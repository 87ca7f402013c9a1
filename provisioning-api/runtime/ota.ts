/**
 * OTA over SMPP as a component of the backend: the gateway (ESME binds, OTA message rows,
 * receipts, PoR matching) bound to the operator's SMSC. Which SMSC it is (SMPP_URL, or the
 * simulator `simchain start` runs) is the composition root's business.
 */
import { OtaGateway } from '../smpp/ota-gateway.js';
import type { SmppSettings } from '../config.js';
import type { Pool } from '../db/pool.js';
import type { Logger } from '../logging.js';
import type { MasterKeyring } from '../secrets/master-key.js';
import type { Component } from './composition.js';

export interface OtaSettings {
  smsc: SmppSettings;
  /** Originating address (international, digits only) of the operator's OTA SMS. */
  sourceAddr: string;
  binds: number;
  window: number;
  /** Seconds a command waits for its PoR before it expires. */
  porTimeoutSeconds: number;
  /**
   * Seconds a written OTA message stays this process's to submit; if the process dies, any
   * gateway sends it after that (same bytes, same counter). Default 20: senders write only a
   * window ahead of what the bind carries, so a message waits well under that to go out.
   */
  leaseSeconds?: number;
}

export function otaComponent(options: {
  settings: OtaSettings;
  pool: () => Pool;
  keyring: () => MasterKeyring;
  log: Logger;
  onReady?: (gateway: OtaGateway) => void;
}): Component {
  const { settings, log } = options;
  let gateway: OtaGateway | null = null;
  return {
    name: 'smpp',
    async start() {
      const s = settings.smsc;
      gateway = new OtaGateway({
        pool: options.pool(),
        keyring: options.keyring(),
        smpp: {
          host: s.host, port: s.port, systemId: s.systemId, password: s.password,
          binds: settings.binds, window: settings.window, name: 'smsc',
          ...(s.tls ? { tls: { servername: s.host } } : {}),
        },
        source: { ton: 1, npi: 1, address: settings.sourceAddr },
        // The SMSC keeps the SMS while the handset is away for as long as we wait for the PoR.
        validitySeconds: settings.porTimeoutSeconds,
        porTimeoutSeconds: settings.porTimeoutSeconds,
        leaseSeconds: settings.leaseSeconds ?? 20,
      });
      gateway.on('error', (e) => log.warn({ err: e }, 'OTA sweep failed; retrying'));
      await gateway.start();
      log.info({ host: s.host, port: s.port, binds: settings.binds }, 'bound to the SMSC');
      options.onReady?.(gateway);
    },
    async stop() {
      await gateway?.stop();
    },
    async health() {
      if (!gateway) return 'not started';
      return gateway.esme.bound > 0 ? null : 'no SMPP bind is up';
    },
  };
}
