/**
 * The chain as a component of the backend: connect to the node, take the signing key's
 * outbox lease, make sure the DeviceRegistry is deployed (its address recorded under
 * SIMCHAIN_HOME, reused while the chain still holds its code), and follow its events into
 * PostgreSQL. Which node it is (the embedded anvil or CHAIN_RPC_URL) is the composition
 * root's business: this module only gets a URL and a key.
 */
import { join } from 'node:path';
import { Wallet } from 'ethers';
import { ensureDeviceRegistry } from '../../contracts/index.js';
import { connectChain, type ChainConnection } from '../chain/provider.js';
import { openSignerOutbox, type SignerOutbox } from '../chain/signer-outbox.js';
import { outboxCreationSender } from '../chain/creation.js';
import { RegistryIndexer } from '../chain/indexer.js';
import type { Pool } from '../db/pool.js';
import type { Logger } from '../logging.js';
import type { Component } from './composition.js';

export interface ChainSettings {
  rpcUrl: string;
  /** Hex private key of the operator's signer (registry admin and registrar when it deploys). */
  signerKey: string;
  /** Blocks deep before a transaction or an event counts (default 1). */
  confirmations: number;
}

export interface ChainRuntime {
  connection: ChainConnection;
  signer: SignerOutbox;
  registry: string;
  indexer: RegistryIndexer;
}

const HEALTH_TIMEOUT_MS = 2_000;

export function chainComponent(options: {
  settings: ChainSettings;
  home: string;
  pool: () => Pool;
  log: Logger;
  onReady?: (chain: ChainRuntime) => void;
}): Component {
  const { settings, log } = options;
  let runtime: ChainRuntime | undefined;
  let lastIndexError: string | null = null;
  return {
    name: 'chain',
    async start() {
      const connection = await connectChain(settings.rpcUrl);
      const pool = options.pool();
      const signer = await openSignerOutbox({ pool, connection, privateKey: settings.signerKey, confirmations: settings.confirmations });
      try {
        const wallet = new Wallet(settings.signerKey, connection.provider);
        const deployed = await ensureDeviceRegistry(
          join(options.home, 'chain', `device-registry-${connection.chainId}.json`),
          outboxCreationSender(signer.outbox),
          wallet as Wallet & { provider: NonNullable<Wallet['provider']> },
          { admin: wallet.address, registrars: [wallet.address] },
        );
        const registry = await deployed.contract.getAddress();
        log.info({ chainId: connection.chainId.toString(), registry, reused: deployed.reused }, 'DeviceRegistry ready');
        const indexer = await RegistryIndexer.open({
          pool,
          connection,
          registry,
          fromBlock: deployed.deployment.blockNumber,
          confirmations: settings.confirmations,
          onError: (e) => {
            lastIndexError = e instanceof Error ? e.message : String(e);
            log.warn({ err: e }, 'registry indexer step failed; retrying');
          },
          onPage: () => {
            lastIndexError = null;
          },
        });
        indexer.start();
        runtime = { connection, signer, registry, indexer };
        options.onReady?.(runtime);
      } catch (e) {
        await signer.close();
        throw e;
      }
    },
    async stop() {
      if (!runtime) return;
      await runtime.indexer.stop();
      await runtime.signer.close();
      runtime.connection.provider.destroy();
    },
    async health() {
      if (!runtime) return 'not started';
      try {
        await Promise.race([
          runtime.connection.provider.getBlockNumber(),
          new Promise((_, reject) => setTimeout(() => reject(new Error('no answer')), HEALTH_TIMEOUT_MS)),
        ]);
      } catch (e) {
        return `chain node: ${e instanceof Error ? e.message : String(e)}`;
      }
      return lastIndexError === null ? null : `indexer: ${lastIndexError}`;
    },
  };
}
