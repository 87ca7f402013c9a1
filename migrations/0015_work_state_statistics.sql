-- Up Migration

-- No planner statistics for the state columns of the work tables (README, benchmark
-- `provisioning`).
--
-- A batch moves every one of its rows from one state to the next within seconds: at the end
-- of key generation every OTA message is settled and every item keyed, and a moment later
-- the identity push opens thousands of new messages. Statistics taken before such a turn
-- say that no row is in the states the workers then look for, and the planner believed
-- them: a statement recording 500 PoRs walked the open messages by a partial index and
-- compared each with every PoR (1.3 million comparisons, 1.2 s; auto_explain), until the
-- statistics keeper's next ANALYZE. Whatever ANALYZE finds in these columns is wrong a few
-- seconds later, so the planner goes without: it then takes each listed state for 0.5% of
-- the table, the right order for rows being worked on, and probes by key.
ALTER TABLE ota_messages ALTER COLUMN state SET STATISTICS 0;
ALTER TABLE provisioning_items ALTER COLUMN state SET STATISTICS 0;
ALTER TABLE ota_submissions ALTER COLUMN receipt_stat SET STATISTICS 0;

-- ANALYZE leaves alone what it gathered for a column before its target went to 0, and only
-- a superuser may remove that (pg_statistic). Anyone else: the old statistics stay, and are
-- used, until the DBA removes them.
DO $$ BEGIN
  IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
    DELETE FROM pg_statistic s USING pg_attribute a
     WHERE s.starelid = a.attrelid AND s.staattnum = a.attnum
       AND (a.attrelid, a.attname) IN (('ota_messages'::regclass, 'state'), ('provisioning_items'::regclass, 'state'),
                                       ('ota_submissions'::regclass, 'receipt_stat'));
  ELSE
    RAISE NOTICE 'statistics gathered before on ota_messages.state, provisioning_items.state and ota_submissions.receipt_stat stay until a superuser deletes them from pg_statistic';
  END IF;
END $$;

-- Down Migration
-- Back to migration 0013's target; the next ANALYZE gathers them again.
ALTER TABLE ota_messages ALTER COLUMN state SET STATISTICS 10;
ALTER TABLE provisioning_items ALTER COLUMN state SET STATISTICS 10;
ALTER TABLE ota_submissions ALTER COLUMN receipt_stat SET STATISTICS 10;
