-- Up Migration

-- Cheaper ANALYZE of the tables provisioning grows (README, benchmark `provisioning`).
--
-- Without autovacuum, db/statistics-keeper.ts ANALYZEs these tables every few seconds while
-- a batch runs. ANALYZE samples 300 rows per unit of the largest statistics target of the
-- table's columns: 30,000 rows at the default of 100, about 140 ms for ota_messages at
-- 20,000 SIMs, one tenth of all PostgreSQL time spent on the batch (pg_stat_statements).
-- Every query on these tables looks rows up by key or by a state of a handful of values, so
-- a target of 10 (3,000 sampled rows, up to 10 most common values, 10 histogram buckets)
-- tells the planner all it uses. Columns already at 0 (migration 0012) stay at 0. The default
-- target reads -1 up to PostgreSQL 16 and NULL from 17 on (the embedded server is 18).
DO $$ BEGIN
  EXECUTE (SELECT coalesce(string_agg(format('ALTER TABLE %s ALTER COLUMN %I SET STATISTICS 10', attrelid::regclass, attname), '; '), 'SELECT 1')
    FROM pg_attribute WHERE attnum > 0 AND NOT attisdropped AND coalesce(attstattarget, -1) <> 0
      AND attrelid = ANY ('{ota_messages,ota_submissions,ota_counters,provisioning_items,devices,outbox}'::regclass[]));
END $$;

-- Down Migration
-- Back to the default target, except where migration 0012 set 0.
DO $$ BEGIN
  EXECUTE (SELECT coalesce(string_agg(format('ALTER TABLE %s ALTER COLUMN %I SET STATISTICS -1', attrelid::regclass, attname), '; '), 'SELECT 1')
    FROM pg_attribute WHERE attnum > 0 AND NOT attisdropped AND attstattarget = 10
      AND attrelid = ANY ('{ota_messages,ota_submissions,ota_counters,provisioning_items,devices,outbox}'::regclass[]));
END $$;
