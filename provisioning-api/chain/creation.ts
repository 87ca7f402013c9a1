/**
 * Contract creations through the outbox, in the shape contracts/deploy.ts asks for: the deploy
 * helpers build the creation data, the outbox records and sends it like any transaction.
 */
import { keccak256 } from 'ethers';
import type { SendCreation } from '../../contracts/index.js';
import type { TxOutbox } from './outbox.js';

/**
 * A SendCreation on `outbox`. The entry id defaults to `deploy:<contract>:<hash of the
 * creation data>`: the same deployment asked twice (after a crash) is the same entry.
 */
export function outboxCreationSender(
  outbox: TxOutbox,
  idFor: (label: string, data: string) => string = (label, data) => `deploy:${label}:${keccak256(data)}`,
): SendCreation {
  return async (tx, label) => {
    const entry = await outbox.submit(idFor(label, tx.data), { to: null, data: tx.data });
    const receipt = entry.receipt!;
    return { hash: receipt.hash, blockNumber: receipt.blockNumber, contractAddress: receipt.contractAddress };
  };
}
