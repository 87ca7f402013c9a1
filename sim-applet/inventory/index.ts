/**
 * The card vendor's inventory file: its formats, the checks on every row, and a generator
 * of valid files. Pure: no I/O; callers feed lines and consume lines.
 */
export * from './errors.js';
export * from './luhn.js';
export * from './key-algorithms.js';
export * from './identifiers.js';
export { DROPPED_SECRET_COLUMNS, IGNORED_COLUMNS, type ColumnLayout } from './columns.js';
export * from './csv-line.js';
export * from './vendor-file.js';
export * from './packed-rows.js';
export * from './certificate-der.js';
export * from './keyset-plaintext.js';
export * from './generator.js';
