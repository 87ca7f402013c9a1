-- Up Migration

-- An OTA message's steps in flight update its row in place (README, benchmark `provisioning`).
--
-- A message is written four times: inserted queued, then submitted (the SMSC took it),
-- delivered (its receipts came) and settled (PoR, expiry or failure). The two partial indexes
-- of the open messages named `state`, in their key and in their predicate, so each of these
-- updates changed an indexed column: PostgreSQL wrote the new row version anywhere and added
-- an entry for it to every index of the table (four of them while the message is open).
-- They now name `is_open`, a stored column computed from the state, which stays true from
-- queued to delivered: the submitted and delivered updates change no indexed column and, with
-- room on the page (fillfactor), are HOT. Only the update that settles a message, which
-- takes it out of both partial indexes, is not.
--
-- `ota_messages_open` loses `state` from its key: what it lists is what is in flight (one
-- window per sender), and the few readers that want only the queued ones filter those.
ALTER TABLE ota_messages ADD COLUMN is_open boolean GENERATED ALWAYS AS (state IN ('queued', 'submitted', 'delivered')) STORED;
-- Like `state` (migration 0015): whatever ANALYZE finds here is wrong a few seconds later.
ALTER TABLE ota_messages ALTER COLUMN is_open SET STATISTICS 0;
DROP INDEX ota_messages_match;
CREATE INDEX ota_messages_match ON ota_messages (msisdn, tar, id) WHERE is_open;
DROP INDEX ota_messages_open;
CREATE INDEX ota_messages_open ON ota_messages (id) WHERE is_open;
-- Each row gets about three updates within seconds of its insert: half of each page is left
-- for their versions (pruned as they die).
ALTER TABLE ota_messages SET (fillfactor = 50);

-- Down Migration
ALTER TABLE ota_messages RESET (fillfactor);
DROP INDEX ota_messages_open;
CREATE INDEX ota_messages_open ON ota_messages (state, id) WHERE state IN ('queued', 'submitted', 'delivered');
DROP INDEX ota_messages_match;
CREATE INDEX ota_messages_match ON ota_messages (msisdn, tar, id) WHERE state IN ('queued', 'submitted', 'delivered');
ALTER TABLE ota_messages DROP COLUMN is_open;
