/**
 * The public face of sim-applet: what the backend, the simulators and the CLI may use.
 * Pure code only: no network, no files, no clock reads; randomness and time are injected.
 */
export * from './errors.js';
export * from './bytes.js';
