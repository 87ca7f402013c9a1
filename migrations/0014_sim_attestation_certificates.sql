-- Up Migration

-- Each card's attestation certificate (DER) from the card vendor's file (column
-- ATTESTATION_CERT), as GSMA SGP.02's EIS carries eUICC certificates. A SIM whose
-- certificate the operator holds is asked to leave it out of its GENERATE KEY PAIR answer:
-- 349 of the 521 bytes of that PoR, which then fits 2 SMS instead of 4 (README, benchmark
-- `provisioning`). NULL: the card sends its certificate itself, as before.
ALTER TABLE sims ADD COLUMN attestation_certificate bytea
  CONSTRAINT sims_attestation_certificate_check CHECK (octet_length(attestation_certificate) BETWEEN 64 AND 2048);

-- Imports staged but not yet loaded get the column too, so that their load finds it.
DO $$ BEGIN
  EXECUTE (SELECT coalesce(string_agg(format('ALTER TABLE %s ADD COLUMN IF NOT EXISTS attestation_certificate bytea', c.oid::regclass), '; '), 'SELECT 1')
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = 'sim_import_staging' AND c.relkind = 'r');
END $$;

-- Down Migration
DO $$ BEGIN
  EXECUTE (SELECT coalesce(string_agg(format('ALTER TABLE %s DROP COLUMN IF EXISTS attestation_certificate', c.oid::regclass), '; '), 'SELECT 1')
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = 'sim_import_staging' AND c.relkind = 'r');
END $$;
ALTER TABLE sims DROP COLUMN attestation_certificate;
