-- Up Migration

-- OTA keyset rotation by PUT KEY (DESIGN.md flow 3). The SIM's sealed keysets (sims.keysets)
-- change only when a PoR proves the card holds the new keys; until then the new keysets wait
-- here, sealed exactly like sims.keysets (AES-256-GCM under the SIM's data key, the ICCID as
-- additional data), so the OTA sender can secure a probe with them and open its PoR.
--
-- States: requested → put-key-sent → completed (PoR OK, SW 9000: sims.keysets switched)
--                                   → failed    (PoR error, or an error SW: nothing switched)
--   a lost PoR (PUT KEY expired or failed): probing-new (GET STATUS under the new keys)
--     → completed when its PoR verifies; else probing-old (GET STATUS under the old keys)
--     → failed when that verifies (the card kept its keys); else probe-backoff → probing-new
--     again, a few rounds, then failed PROBE_EXHAUSTED, the pending keys kept for recovery.
CREATE TABLE keyset_rotations (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  job_id uuid NOT NULL UNIQUE REFERENCES jobs (id),
  iccid text COLLATE "C" NOT NULL REFERENCES sims (iccid),
  keyset_index smallint NOT NULL CHECK (keyset_index BETWEEN 1 AND 15),
  state text NOT NULL DEFAULT 'requested'
    CHECK (state IN ('requested', 'put-key-sent', 'probing-new', 'probing-old', 'probe-backoff', 'completed', 'failed')),
  -- The data key both blobs are sealed under (the SIM's own).
  data_key_id bigint REFERENCES data_keys (id),
  -- sims.keysets when PUT KEY was sent: the switch is a compare-and-set on it.
  previous_keysets bytea,
  -- Every keyset of the SIM with the rotated one replaced. Cleared once the card's answer is
  -- known (switched, or proven not taken); kept when it stayed unknown.
  pending_keysets bytea,
  put_key_message_id bigint REFERENCES ota_messages (id),
  probe_new_message_id bigint REFERENCES ota_messages (id),
  probe_old_message_id bigint REFERENCES ota_messages (id),
  -- Every OTA message of the rotation, in the order sent.
  ota_message_ids bigint[] NOT NULL DEFAULT '{}',
  probe_rounds smallint NOT NULL DEFAULT 0,
  -- probe-backoff: the next round starts after this.
  not_before timestamptz,
  -- How the switch was proven: 'por' (PUT KEY's own PoR) or 'probe' (GET STATUS under the new keys).
  proven_by text CHECK (proven_by IN ('por', 'probe')),
  por_status smallint,
  sw integer,
  failure_code text,
  failure_reason text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  CHECK ((state IN ('completed', 'failed')) = (finished_at IS NOT NULL))
);
-- At most one open rotation per SIM.
CREATE UNIQUE INDEX keyset_rotations_open ON keyset_rotations (iccid) WHERE state NOT IN ('completed', 'failed');
CREATE INDEX keyset_rotations_iccid ON keyset_rotations (iccid, created_at DESC);
-- The OTA sender's lookup of a probe's keys when the PoR reaches a process that did not send it.
CREATE INDEX keyset_rotations_probe ON keyset_rotations (probe_new_message_id) WHERE probe_new_message_id IS NOT NULL;

-- The job kind. Each feature adds its kind to jobs_kind_check without restating the others'
-- (migrations of parallel features would otherwise undo each other's kinds).
DO $$
DECLARE kinds text[];
BEGIN
  SELECT array_agg(DISTINCT m[1]) INTO kinds
    FROM pg_constraint c, regexp_matches(pg_get_constraintdef(c.oid), '''([^'']+)''', 'g') AS m
    WHERE c.conrelid = 'jobs'::regclass AND c.conname = 'jobs_kind_check';
  ALTER TABLE jobs DROP CONSTRAINT jobs_kind_check;
  kinds := array_append(array_remove(kinds, 'sim.rotate-keyset'), 'sim.rotate-keyset');
  EXECUTE format('ALTER TABLE jobs ADD CONSTRAINT jobs_kind_check CHECK (kind IN (%s))',
    (SELECT string_agg(quote_literal(k), ', ') FROM unnest(kinds) k));
END $$;

-- Down Migration
DROP TABLE keyset_rotations;
DELETE FROM jobs WHERE kind = 'sim.rotate-keyset';
DO $$
DECLARE kinds text[];
BEGIN
  SELECT array_agg(DISTINCT m[1]) INTO kinds
    FROM pg_constraint c, regexp_matches(pg_get_constraintdef(c.oid), '''([^'']+)''', 'g') AS m
    WHERE c.conrelid = 'jobs'::regclass AND c.conname = 'jobs_kind_check';
  ALTER TABLE jobs DROP CONSTRAINT jobs_kind_check;
  EXECUTE format('ALTER TABLE jobs ADD CONSTRAINT jobs_kind_check CHECK (kind IN (%s))',
    (SELECT string_agg(quote_literal(k), ', ') FROM unnest(array_remove(kinds, 'sim.rotate-keyset')) k));
END $$;
