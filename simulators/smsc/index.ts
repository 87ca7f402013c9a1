/** The SMSC simulator's public face (bin/ and the tests use it). */
export { SmscSimulator, type SmscAccount, type SmscOptions, type SmscStats } from './smsc.js';
export type { SmscFaults } from './faults.js';
