/** The public face of the local chain simulator: the anvil launcher. */
export { AnvilStartError, anvilBinaryPath, startAnvil } from './anvil.js';
export type { AnvilAccount, AnvilMining, AnvilNode, AnvilOptions } from './anvil.js';
