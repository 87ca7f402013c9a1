-- Up Migration

-- Less work per provisioned SIM (README, benchmark `provisioning`).

-- The leaf index lives with the device (devices.leaf_index, with its proof); the copy on the
-- item was written for every SIM of a batch and never read.
ALTER TABLE provisioning_items DROP COLUMN leaf_index;

-- The per-SIM lookups of OTA messages (iccid = $1, ordered by id) are served by the unique
-- (iccid, keyset_index, cntr) index: a SIM has few messages to sort. Every message is written
-- four times (insert, submitted, delivered, PoR) and each version went into this index too.
DROP INDEX ota_messages_iccid;

-- ANALYZE samples every column; these are never compared in a query, and their statistics
-- (wide byte strings, arrays of SMS parts, proofs) were most of ANALYZE's cost on the tables
-- provisioning grows (db/statistics-keeper.ts runs it every few seconds without autovacuum).
ALTER TABLE ota_messages ALTER COLUMN user_data SET STATISTICS 0, ALTER COLUMN por_data SET STATISTICS 0,
  ALTER COLUMN delivered_parts SET STATISTICS 0, ALTER COLUMN last_error SET STATISTICS 0;
ALTER TABLE ota_submissions ALTER COLUMN receipt_err SET STATISTICS 0;
ALTER TABLE provisioning_items ALTER COLUMN public_key SET STATISTICS 0, ALTER COLUMN salt SET STATISTICS 0,
  ALTER COLUMN imsi_commitment SET STATISTICS 0, ALTER COLUMN failure_reason SET STATISTICS 0;
ALTER TABLE devices ALTER COLUMN public_key SET STATISTICS 0, ALTER COLUMN salt SET STATISTICS 0,
  ALTER COLUMN imsi_commitment SET STATISTICS 0, ALTER COLUMN proof SET STATISTICS 0;

-- Down Migration
ALTER TABLE devices ALTER COLUMN public_key SET STATISTICS -1, ALTER COLUMN salt SET STATISTICS -1,
  ALTER COLUMN imsi_commitment SET STATISTICS -1, ALTER COLUMN proof SET STATISTICS -1;
ALTER TABLE provisioning_items ALTER COLUMN public_key SET STATISTICS -1, ALTER COLUMN salt SET STATISTICS -1,
  ALTER COLUMN imsi_commitment SET STATISTICS -1, ALTER COLUMN failure_reason SET STATISTICS -1;
ALTER TABLE ota_submissions ALTER COLUMN receipt_err SET STATISTICS -1;
ALTER TABLE ota_messages ALTER COLUMN user_data SET STATISTICS -1, ALTER COLUMN por_data SET STATISTICS -1,
  ALTER COLUMN delivered_parts SET STATISTICS -1, ALTER COLUMN last_error SET STATISTICS -1;
CREATE INDEX ota_messages_iccid ON ota_messages (iccid, id);
ALTER TABLE provisioning_items ADD COLUMN leaf_index integer;
