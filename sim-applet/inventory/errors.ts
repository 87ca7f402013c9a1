/**
 * The one registry of inventory problems. A vendor file is checked as a whole and every
 * problem is reported with its line; these codes are what a caller branches on (the API
 * puts them in its problem bodies unchanged). Problems are data, not exceptions: one file
 * may have thousands.
 */
export const INVENTORY_ERROR_CODES = [
  /** The file has no header row or no `var_out:` line before its data. */
  'HEADER_MISSING',
  /** A header line that is not `Name: value`, or a `var_out:` line with nothing after it. */
  'HEADER_MALFORMED',
  /** A header or column name this format does not define (strict: nothing is guessed). */
  'UNKNOWN_COLUMN',
  /** The same column named twice. */
  'DUPLICATE_COLUMN',
  /** A column the format requires is absent (ICCID, IMSI, MSISDN, TAR, a keyset's keys or algorithms). */
  'MISSING_COLUMN',
  /** A data line with more or fewer fields than the header names, or a malformed CSV quote. */
  'FIELD_COUNT',
  /** The header says `Quantity: N` and the file holds a different number of rows. */
  'QUANTITY_MISMATCH',
  /** A file with a header and no data rows. */
  'NO_ROWS',
  'ICCID_FORMAT',
  'ICCID_CHECK_DIGIT',
  'IMSI_FORMAT',
  'MSISDN_FORMAT',
  'TAR_FORMAT',
  'CERT_SERIAL_FORMAT',
  /** ATTESTATION_CERT that is not canonical base64 (RFC 4648: alphabet, length a multiple of 4, '=' only as final padding). */
  'CERT_BASE64',
  /** ATTESTATION_CERT whose decoded certificate is not 64 to 2048 bytes. */
  'CERT_SIZE',
  /** ATTESTATION_CERT that is not one DER SEQUENCE (its length covering exactly the rest) whose first element is a SEQUENCE. */
  'CERT_DER',
  /** A key that is not hex. */
  'KEY_FORMAT',
  /** A key whose length does not fit its algorithm (des 8, 3des2 16, 3des3 24, aes 16/24/32 bytes). */
  'KEY_LENGTH',
  /** An algorithm name other than des, 3des2, 3des3, aes. */
  'UNKNOWN_ALGORITHM',
  /** A keyset with some of KIc, KID, KIk given and others empty. */
  'KEYSET_INCOMPLETE',
  /** A row whose keysets are all empty. */
  'NO_KEYSET',
  /** The same ICCID, IMSI or MSISDN on two lines of the file. */
  'DUPLICATE_ICCID',
  'DUPLICATE_IMSI',
  'DUPLICATE_MSISDN',
  /** An ICCID, IMSI or MSISDN already in the inventory from another import. */
  'ICCID_EXISTS',
  'IMSI_EXISTS',
  'MSISDN_EXISTS',
] as const;

export type InventoryErrorCode = (typeof INVENTORY_ERROR_CODES)[number];

/** One problem of a vendor file: the 1-based physical line, the column when there is one. */
export interface InventoryProblem {
  line: number;
  column?: string;
  code: InventoryErrorCode;
  message: string;
}
