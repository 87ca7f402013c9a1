/**
 * The operator's view of a SIM's OTA commands (GET /v1/sims/{iccid}/ota-commands): the rows
 * of ota_messages newest first with their SMS submissions and receipts. The packets' user data
 * (ciphered, but the card's business only) is not read.
 */
import type { OtaMessage, OtaSubmission } from './ota-messages.js';
import type { Queryable } from '../pool.js';

/** An OTA message as the operator reads it: the row without its packets (only how many SMS parts). */
export type OtaCommandRow = Omit<OtaMessage, 'userData' | 'outboxId'> & { partCount: number };

export const otaCommandQueries = {
  page: `SELECT id::text, iccid, msisdn, tar, keyset_index AS "keysetIndex", cntr::float8 AS cntr, spi, state,
      cardinality(user_data) AS "partCount", delivered_parts AS "deliveredParts", attempts, por_status AS "porStatus",
      por_cc_valid AS "porCcValid", por_data AS "porData", last_error AS "lastError", job_id AS "jobId", expires_at AS "expiresAt",
      queued_at AS "queuedAt", submitted_at AS "submittedAt", delivered_at AS "deliveredAt", por_at AS "porAt", finished_at AS "finishedAt"
    FROM ota_messages WHERE iccid = $1 AND ($2::bigint IS NULL OR id < $2) ORDER BY id DESC LIMIT $3`,
  submissions: `SELECT ota_message_id::text AS "otaMessageId", part, attempt, smpp_message_id AS "smppMessageId", submitted_at AS "submittedAt",
      receipt_stat AS "receiptStat", receipt_err AS "receiptErr", receipt_at AS "receiptAt"
    FROM ota_submissions WHERE ota_message_id = ANY($1::bigint[]) ORDER BY ota_message_id, part, attempt, id`,
} as const;

/** A page of the SIM's OTA commands, newest first; `before` is the last id of the previous page. */
export async function otaCommandsForSim(db: Queryable, iccid: string, page: { before?: string; limit: number }): Promise<OtaCommandRow[]> {
  return (await db.query<OtaCommandRow>(otaCommandQueries.page, [iccid, page.before ?? null, page.limit])).rows;
}

/** The SMS submissions of these OTA messages, by message id. */
export async function submissionsOf(db: Queryable, ids: readonly string[]): Promise<Map<string, OtaSubmission[]>> {
  const out = new Map<string, OtaSubmission[]>(ids.map((id) => [id, []]));
  if (ids.length === 0) return out;
  const rows = (await db.query<OtaSubmission & { otaMessageId: string }>(otaCommandQueries.submissions, [ids])).rows;
  for (const { otaMessageId, ...s } of rows) out.get(otaMessageId)?.push(s);
  return out;
}
